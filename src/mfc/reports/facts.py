"""What the reports say, read from the warehouse in a few set-based queries (not per page).

Every page is built from these facts; nothing here writes HTML.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import psycopg

# What a force writes in LOOKED_AFTER for a looked-after child (docs/returns/police.md);
# promotion to raw keeps Y and N and reads anything else as blank (mfc.kinds.police).
LOOKED_AFTER = "Y"

# A submission can be checked again by a later run (e.g. mfc.submission.superseded): the newest
# result of each check is the one that stands.
LATEST_CHECKS = """
    select distinct on (submission_id, check_id)
           submission_id, check_id, run_id, table_name, stage, severity, result,
           unexpected_count, checked_count, message, examples
    from dq.check_results
    order by submission_id, check_id, checked_at desc, run_id desc
"""

# A failed check's report shows this many groups of failing rows (the largest first), and this
# many lines of each; failing_rows.csv has every row kept.
FIRST_GROUPS = 10
FIRST_LINES = 5

# Failing rows (dq.failing_rows, up to 1000 kept per check) of the latest run of each failed
# check, grouped by check and cause: the rows of one check in one file with the same offending
# values are one group. Set-based, over every submission at once; the FIRST_GROUPS largest
# groups of each check are returned, with how many groups and rows there are in all.
FAILURE_GROUPS = f"""
    with latest as (
        select distinct on (submission_id, check_id) submission_id, check_id, run_id, result
        from dq.check_results
        order by submission_id, check_id, checked_at desc, run_id desc
    ),
    grouped as (
        select f.submission_id, f.check_id, f.file_name, f."values",
               count(*) as row_count,
               count(f.line_no) as with_line,
               (array_agg(f.line_no order by f.line_no)
                   filter (where f.line_no is not null))[1:{FIRST_LINES}] as first_lines,
               min(f.line_no) as first_line
        from dq.failing_rows f
        join latest l on l.submission_id = f.submission_id and l.check_id = f.check_id
                     and l.run_id = f.run_id
        where l.result in ('FAIL', 'WARNING')
        group by f.submission_id, f.check_id, f.file_name, f."values"
    ),
    ranked as (
        select *,
               row_number() over (partition by submission_id, check_id
                                  order by row_count desc, first_line nulls first, file_name,
                                           "values"::text) as rank,
               count(*) over (partition by submission_id, check_id) as group_count,
               sum(row_count) over (partition by submission_id, check_id) as rows_kept
        from grouped
    )
    select submission_id, check_id, group_count, rows_kept, file_name, "values", row_count,
           with_line, coalesce(first_lines, '{{}}')
    from ranked
    where rank <= {FIRST_GROUPS}
    order by submission_id, check_id, rank
"""


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    run_id: str
    table_name: str | None
    stage: str
    severity: str
    result: str                 # PASS, WARNING, FAIL, NOT_RUN
    unexpected_count: int | None
    checked_count: int | None
    message: str
    examples: list[dict[str, Any]]


@dataclass(frozen=True)
class FailureGroup:
    """Failing rows of one check in one file with the same offending values."""

    file_name: str
    values: dict[str, Any]      # column as delivered -> value (None: blank)
    rows: int                   # failing rows kept with these values
    lines: list[int]            # the first FIRST_LINES of them, as delivered (1 = column names)
    whole_file: int             # rows that are the file as a whole (no line)

    @property
    def more_lines(self) -> int:
        """Lines of the group not in lines (failing_rows.csv has them)."""
        return self.rows - self.whole_file - len(self.lines)


@dataclass(frozen=True)
class FailureGroups:
    """A failed check's failing rows, grouped by cause, the largest groups first."""

    groups: list[FailureGroup]  # the first FIRST_GROUPS
    total_groups: int
    rows_kept: int              # rows kept in dq.failing_rows (unexpected_count counts all)

    @property
    def more_groups(self) -> int:
        return self.total_groups - len(self.groups)


@dataclass(frozen=True)
class DeliveredFile:
    file_name: str
    table_name: str | None
    sha256: str
    bytes: int


@dataclass
class Submission:
    submission_id: int
    source: str                 # council, police, aggregate
    authority_as_delivered: str
    authority_gss: str | None   # a force code for police; null when not recognised
    collection_year: str        # '2023-24', a month '2024-03', or an aggregate file's name
    period_start: date | None
    period_end: date | None
    received_at: datetime
    delivered_at: datetime | None
    status: str
    superseded_by: int | None
    files: list[DeliveredFile] = field(default_factory=list)
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    release: tuple[str, datetime, str] | None = None  # who, when, why (mfc release)

    @property
    def body(self) -> str:
        """Who returned it, as audit.submissions tells resubmissions apart."""
        return self.authority_gss or self.authority_as_delivered

    @property
    def folder(self) -> str:
        """The report's folder under reports/: the GSS code, else a safe form of the name."""
        return self.authority_gss or slug(self.authority_as_delivered)

    @property
    def link(self) -> str:
        """The report, relative to the reports folder."""
        return f"{self.folder}/{self.submission_id}/index.html"

    def count(self, result: str) -> int:
        return sum(c.result == result for c in self.checks.values())

    def blocking_failures(self) -> list[CheckOutcome]:
        return [c for c in self.checks.values()
                if c.result == "FAIL" and c.severity == "blocking"]

    def rows_by_table(self) -> dict[str, int]:
        """Rows each table held, as the checks counted them (file checks count files)."""
        rows: dict[str, int] = {}
        for check in self.checks.values():
            if check.table_name and check.checked_count is not None:
                rows[check.table_name] = max(rows.get(check.table_name, 0),
                                             check.checked_count)
        return rows


def slug(text: str) -> str:
    """A folder name anyone's file system accepts: letters, digits, '-', '_' and '.'."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    return cleaned or "unnamed"


@dataclass(frozen=True)
class Changes:
    """A resubmission against the one before it (same source, returning body and period)."""

    before: Submission
    files_changed: list[str]
    files_added: list[str]
    files_removed: list[str]
    rows: dict[str, tuple[int | None, int | None]]         # table -> before, after
    results: list[tuple[str, str | None, str | None]]      # check, before, after (changed)
    periods_added: int | None                              # None: not both in raw
    periods_removed: int | None


class Warehouse:
    """Facts for every report, fetched once."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        self.submissions = self._submissions()
        self.by_id = {s.submission_id: s for s in self.submissions}
        # Rows in raw.council_missing per submission (loaded or superseded ones have them).
        self.council_missing = dict(conn.execute(
            "select submission_id, count(*) from raw.council_missing group by 1").fetchall())
        self.police_incidents = dict(conn.execute(
            "select submission_id, count(*) from raw.police_incidents group by 1").fetchall())
        # Looked-after incidents by responsible authority and financial year, from the police
        # months in use (loaded), for the reconciliation with each council.
        self.looked_after: dict[tuple[str, str], int] = {
            (gss, year): n for gss, year, n in conn.execute(
                "select p.responsible_gss, to_char(fy, 'YYYY') || '-' || to_char(fy + interval "
                "'1 year', 'YY'), count(*) "
                "from raw.police_incidents p join audit.submissions s using (submission_id) "
                "cross join lateral (select date_trunc('year', p.reported_missing "
                "- interval '3 months') as fy) y "
                "where s.status = 'loaded' and p.looked_after = %s "
                "and p.responsible_gss is not null group by 1, 2", (LOOKED_AFTER,)).fetchall()}

    def _submissions(self) -> list[Submission]:
        conn = self._conn
        submissions = [Submission(*row) for row in conn.execute(
            "select submission_id, source, authority_as_delivered, authority_gss, "
            "collection_year, period_start, period_end, received_at, delivered_at, status, "
            "superseded_by from audit.submissions order by submission_id").fetchall()]
        by_id = {s.submission_id: s for s in submissions}
        for sid, *rest in conn.execute(
                "select submission_id, file_name, table_name, sha256, bytes "
                "from audit.submission_files order by submission_id, file_name").fetchall():
            by_id[sid].files.append(DeliveredFile(*rest))
        for sid, *rest in conn.execute(LATEST_CHECKS).fetchall():
            by_id[sid].checks[rest[0]] = CheckOutcome(*rest)
        for sid, who, when, why in conn.execute(
                "select submission_id, released_by, released_at, reason from audit.releases"):
            by_id[sid].release = (who, when, why)
        return submissions

    @cached_property
    def _failure_groups(self) -> dict[tuple[int, str], FailureGroups]:
        grouped: dict[tuple[int, str], FailureGroups] = {}
        for (sid, check_id, total, kept, file_name, values, rows, with_line,
             lines) in self._conn.execute(FAILURE_GROUPS).fetchall():
            key = (sid, check_id)
            if key not in grouped:
                grouped[key] = FailureGroups([], total, kept)
            grouped[key].groups.append(
                FailureGroup(file_name, values, rows, list(lines), rows - with_line))
        return grouped

    def failure_groups(self, submission: Submission, check_id: str) -> FailureGroups | None:
        """A failed check's failing rows grouped by cause; None when none were kept."""
        return self._failure_groups.get((submission.submission_id, check_id))

    @cached_property
    def _same_return(self) -> dict[tuple[str, str, str], list[Submission]]:
        grouped: dict[tuple[str, str, str], list[Submission]] = defaultdict(list)
        for s in self.submissions:
            grouped[(s.source, s.body, s.collection_year)].append(s)
        return grouped

    def versions(self, submission: Submission) -> list[Submission]:
        """Every submission of the same return (source, body, period), oldest first."""
        return self._same_return[(submission.source, submission.body,
                                  submission.collection_year)]

    def latest(self) -> list[Submission]:
        """The newest submission of each return."""
        return [versions[-1] for versions in self._same_return.values()]

    def previous(self, submission: Submission) -> Submission | None:
        earlier = [s for s in self.versions(submission)
                   if s.submission_id < submission.submission_id]
        return earlier[-1] if earlier else None

    @cached_property
    def _loaded(self) -> dict[tuple[str, str], list[Submission]]:
        """Loaded submissions by source and returning body (a page asks for its own)."""
        grouped: dict[tuple[str, str], list[Submission]] = defaultdict(list)
        for s in self.submissions:
            if s.status == "loaded":
                grouped[(s.source, s.body)].append(s)
        return grouped

    def loaded(self, source: str, body: str | None) -> list[Submission]:
        return self._loaded.get((source, body), []) if body else []

    @cached_property
    def _police_months(self) -> set[date]:
        return {s.period_start for (source, _), subs in self._loaded.items()
                if source == "police" for s in subs if s.period_start}

    def police_months_covered(self, start: date, end: date) -> int:
        """Months between start and end for which some force's file is in use."""
        return sum(start <= month <= end for month in self._police_months)

    def changes(self, submission: Submission) -> Changes | None:
        before = self.previous(submission)
        if before is None:
            return None
        old = {f.file_name: f.sha256 for f in before.files}
        new = {f.file_name: f.sha256 for f in submission.files}
        rows_before, rows_after = before.rows_by_table(), submission.rows_by_table()
        results = [
            (check_id, _result(before, check_id), _result(submission, check_id))
            for check_id in sorted(set(before.checks) | set(submission.checks))
            if _result(before, check_id) != _result(submission, check_id)
        ]
        added = removed = None
        if (before.submission_id in self.council_missing
                and submission.submission_id in self.council_missing):
            added, removed = self._period_difference(before.submission_id,
                                                     submission.submission_id)
        return Changes(
            before=before,
            files_changed=sorted(n for n in new if n in old and new[n] != old[n]),
            files_added=sorted(set(new) - set(old)),
            files_removed=sorted(set(old) - set(new)),
            rows={t: (rows_before.get(t), rows_after.get(t))
                  for t in sorted(set(rows_before) | set(rows_after))},
            results=results,
            periods_added=added,
            periods_removed=removed,
        )

    def _period_difference(self, before: int, after: int) -> tuple[int, int]:
        """Periods (child, start, end) in the new return and not the old, and the reverse.
        Counts only: the report never shows a child's key."""
        periods = ("select child_key, mis_start, mis_end from raw.council_missing "
                   "where submission_id = %s")
        added, removed = self._conn.execute(
            f"select (select count(*) from ({periods} except all {periods}) a), "
            f"(select count(*) from ({periods} except all {periods}) r)",
            (after, before, before, after)).fetchone()
        return added, removed


def _result(submission: Submission, check_id: str) -> str | None:
    check = submission.checks.get(check_id)
    return check.result if check else None


class Names:
    """Names of returning bodies, from the same seeds the warehouse's dimensions use."""

    def __init__(self) -> None:
        from mfc.geography import AuthorityRegister
        from mfc.returns.police import force_codes

        self.register = AuthorityRegister.from_seed()
        self.forces = force_codes()

    def of(self, submission: Submission) -> str:
        code = submission.authority_gss
        if submission.source == "police" and code in self.forces:
            return self.forces[code]
        if submission.source == "council" and code:
            return self.register.by_gss(code).name
        return submission.authority_as_delivered
