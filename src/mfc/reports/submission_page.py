"""One submission's report (reports/<authority>/<submission_id>/index.html), for the data team
that sent it: a one-line verdict and the checks by severity first, then each failed check with
what is wrong, how to fix it and its failing rows grouped by cause, then context.

The same page reports a return that was only checked (mfc check, mfc serve-check: gated in a
scratch database, never submitted): render(..., checking=True). Rendered from
templates/submission.html; this module only gathers what the template shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from expectations import aggregate as aggregate_checks
from expectations import council as council_checks
from expectations import police as police_checks
from expectations.checks import Check
from mfc.kinds import kind
from mfc.reports import html
from mfc.reports.facts import Changes, CheckOutcome, FailureGroups, Names, Submission, Warehouse
from mfc.reports.html import Bar
from mfc.returns.council import CollectionYear

RESULTS = ("FAIL", "WARNING", "NOT_RUN", "PASS")
STAGES = ("file", "structure", "content", "cross-table", "cross-submission")
SEVERITIES = ("blocking", "warning")
MONTHS_CHARTED = 24  # a force's chart: the two years up to the month reported on

# Every check of every return kind, by id: its columns' order and its how-to-fix line.
CATALOGUE: dict[str, Check] = {
    c.check_id: c for c in (*council_checks.ALL, *police_checks.ALL, *aggregate_checks.ALL)}


def render(s: Submission, warehouse: Warehouse, names: Names, *, checking: bool = False,
           csv_href: str = "failing_rows.csv") -> str:
    """The page. checking: a return checked before it was submitted (no link to the national
    page, "would be" in the verdict, no history unless the warehouse has some); csv_href: the
    link to its failing rows as CSV (a data: URI on mfc serve-check's page)."""
    name = names.of(s)
    code = s.authority_gss or "not a recognised code"
    what = f"{kind(s.source).label} {s.collection_year}"
    if checking:
        title = f"Check of a return not yet submitted: {name} ({code}), {what}"
    else:
        title = f"Data-quality report: {name} ({code}), {what}"
    return html.render(
        "submission.html",
        title=title,
        checking=checking,
        csv_href=csv_href,
        s=s,
        verdict=verdict(s, checking),
        facts=_facts(s, name, code, checking),
        by_severity=[(c.severity, c.failed, c.passed, c.not_run, c.total)
                     for c in by_severity(s)],
        failures=[_failure(s, c, warehouse) for c in _ordered(s, "FAIL", "WARNING")],
        not_run=_ordered(s, "NOT_RUN"),
        passed=_ordered(s, "PASS"),
        changes=_changes(warehouse.changes(s)),
        history=_history(s, warehouse, checking),
    )


def _plural(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def verdict(s: Submission, checking: bool = False) -> str:
    """The submission's fate in one line, e.g. 'Quarantined: 3 blocking checks failed, 214 rows
    to fix.'; checking: what the nightly run would do ('Would be loaded.')."""
    failed = s.blocking_failures()
    warnings = s.count("WARNING")
    to_fix = sum(c.unexpected_count or 0 for c in failed)
    why = (f"{_plural(len(failed), 'blocking check')} failed, {_plural(to_fix, 'row')} to fix"
           + (f"; {_plural(warnings, 'warning')}" if warnings else "")) if failed else ""
    with_warnings = f" with {_plural(warnings, 'warning')}" if warnings else ""
    if checking and s.status in ("loaded", "quarantined"):
        if s.status == "quarantined":
            return f"Would be quarantined: {why}." if why else "Would be quarantined."
        return f"Would be loaded{with_warnings}."
    if s.status == "quarantined":
        return f"Quarantined: {why}." if why else "Quarantined."
    if s.status == "superseded":
        return (f"Superseded by submission {s.superseded_by}, which is used instead."
                + (f" This one was not loaded: {why}." if why else ""))
    if s.status == "loaded" and s.release:
        who, when, because = s.release
        ids = ", ".join(c.check_id for c in failed)
        return (f"Loaded with its failures ({ids or 'none'}): released from quarantine by "
                f"{who} on {html.when(when)}, because: {because}")
    if s.status == "loaded":
        return f"Loaded{with_warnings}."
    return "Received, not checked yet."


@dataclass(frozen=True)
class SeverityCounts:
    severity: str
    failed: int      # FAIL, or WARNING for a warning check
    passed: int
    not_run: int

    @property
    def total(self) -> int:
        return self.failed + self.passed + self.not_run


def by_severity(s: Submission) -> list[SeverityCounts]:
    """Checks by severity (blocking, warning) and result (failed, passed, not run)."""
    def count(severity: str, *results: str) -> int:
        return sum(c.severity == severity and c.result in results for c in s.checks.values())

    return [SeverityCounts(severity, count(severity, "FAIL", "WARNING"), count(severity, "PASS"),
                           count(severity, "NOT_RUN")) for severity in SEVERITIES]


def _facts(s: Submission, name: str, code: str, checking: bool) -> list[tuple[str, str]]:
    period = (f"{s.period_start:%d %B %Y} to {s.period_end:%d %B %Y}"
              if s.period_start and s.period_end else "not recognised")
    files = ("Files", ", ".join(f.file_name for f in s.files) or "none")
    if checking:  # a scratch database's submission id and status mean nothing to the reader
        return [("Checked for", f"{name} ({code}); as given: {s.authority_as_delivered}"),
                ("Return", f"{s.source}, {s.collection_year} ({period})"), files,
                ("Checked", html.when(s.received_at)),
                ("Submitted", "no: nothing was stored or sent")]
    return [
        ("Returned by", f"{name} ({code}); folder as delivered: {s.authority_as_delivered}"),
        ("Return", f"{s.source}, {s.collection_year} ({period})"),
        files,
        ("Delivered", html.when(s.delivered_at)),
        ("Received", html.when(s.received_at)),
        ("Submission", str(s.submission_id)),
        ("Status", s.status),
    ]


def _ordered(s: Submission, *results: str) -> list[CheckOutcome]:
    """The checks with these results, in that order, each by stage then id."""
    return sorted((c for c in s.checks.values() if c.result in results),
                  key=lambda c: (results.index(c.result), STAGES.index(c.stage), c.check_id))


@dataclass(frozen=True)
class Failure:
    """A failed check as the page shows it."""

    check: CheckOutcome
    fix: str                       # how to fix (expectations.fixes), '' when none is written
    rows: str                      # '100 failing rows of 2000 checked'
    header: list[str]              # the groups table's columns
    groups: list[list[Any]]        # its rows: file, values..., rows, lines
    more_groups: int               # groups not shown
    kept_note: str                 # when dq.failing_rows keeps fewer rows than failed


def _failure(s: Submission, check: CheckOutcome, warehouse: Warehouse) -> Failure:
    rows = (_plural(check.unexpected_count, "failing row")
            if check.unexpected_count is not None else "failing rows not counted")
    if check.checked_count is not None:
        rows += f" of {check.checked_count} checked"
    catalogued = CATALOGUE.get(check.check_id)
    found = warehouse.failure_groups(s, check.check_id)
    header, groups = _groups(check, found, catalogued.columns if catalogued else ())
    kept_note = ""
    if found and check.unexpected_count and check.unexpected_count > found.rows_kept:
        kept_note = (f"The first {found.rows_kept} failing rows are kept and grouped here and "
                     f"in failing_rows.csv; fix them and check again to find the others.")
    return Failure(check, catalogued.fix if catalogued else "", rows, header, groups,
                   found.more_groups if found else 0, kept_note)


def _groups(check: CheckOutcome, found: FailureGroups | None,
            order: tuple[str, ...]) -> tuple[list[str], list[list[Any]]]:
    """The groups table: a column per offending value (in the check's own order; others, such
    as CONFLICTS_WITH, after), then how many rows and which lines."""
    if not found:
        return [], []
    columns: list[str] = []
    for group in found.groups:
        columns += [c for c in group.values if c not in columns]
    # jsonb keeps no order of its own: show the check's.
    seen = {c: i for i, c in enumerate(columns)}
    columns.sort(key=lambda c: (order.index(c) if c in order else len(order), seen[c]))
    rows = [[group.file_name, *(_value(group.values, c) for c in columns), group.rows,
             _lines(group.lines, group.more_lines, group.whole_file)]
            for group in found.groups]
    return ["File", *columns, "Rows", "Lines as delivered"], rows


def _value(values: dict[str, Any], column: str) -> str | None:
    value = values.get(column)
    return None if value is None else str(value)


def _lines(lines: list[int], more: int, whole_file: int) -> str:
    """'lines 2, 5, 9, 14, 20 and 95 more' (line 1 holds the column names)."""
    parts = []
    if whole_file:
        parts.append("the file as a whole")
    if lines:
        listed = ", ".join(str(n) for n in lines)
        parts.append(("line " if len(lines) == 1 and not more else "lines ") + listed
                     + (f" and {more} more" if more else ""))
    return "; ".join(parts)


@dataclass(frozen=True)
class ChangesView:
    heading: str
    before_id: int
    before_status: str
    files: list[tuple[str, str]]
    rows: list[tuple[str, object, object]]
    results: list[tuple[str, str, str]]
    periods: str | None


def _changes(changes: Changes | None) -> ChangesView | None:
    if changes is None:
        return None
    before = changes.before
    periods = None
    if changes.periods_added is not None:
        periods = (f"Missing/away periods (compared on child, start and end date): "
                   f"{changes.periods_added} added, {changes.periods_removed} removed.")
    return ChangesView(
        heading=f"What changed since submission {before.submission_id}",
        before_id=before.submission_id,
        before_status=before.status,
        files=([(n, "changed") for n in changes.files_changed]
               + [(n, "added") for n in changes.files_added]
               + [(n, "removed") for n in changes.files_removed]),
        rows=[(t, b if b is not None else "not read", a if a is not None else "not read")
              for t, (b, a) in changes.rows.items()],
        results=[(c, b or "not run then", a or "not run now") for c, b, a in changes.results],
        periods=periods,
    )


@dataclass(frozen=True)
class History:
    heading: str
    intro: str
    chart_title: str
    bars: list[Bar]
    reconciliation: list[tuple[object, ...]] | None   # council returns only


def _history(s: Submission, warehouse: Warehouse, checking: bool) -> History | None:
    if s.source == "council":
        return _council_history(s, warehouse, checking)
    if s.source == "police":
        return _force_history(s, warehouse, checking)
    return None


def _note(s: Submission) -> str:
    return "this return" if s.status == "loaded" else f"this return, {s.status}"


def _council_history(s: Submission, warehouse: Warehouse, checking: bool) -> History | None:
    """Missing/away periods per collection year: the returns in use, and this one."""
    others = [x for x in warehouse.loaded("council", s.authority_gss) if x is not s]
    if checking and not others:
        return None
    shown = sorted([*others, s], key=lambda x: (x.collection_year, x is s))

    def periods(x: Submission) -> int | None:
        # Rows in raw when it was loaded; else the rows the gate counted in missing.csv.
        return warehouse.council_missing.get(x.submission_id, x.rows_by_table().get("missing"))

    note = "this return, checked" if checking else _note(s)
    bars = [Bar(x.collection_year, periods(x), note if x is s else "", x is s) for x in shown]
    rows: list[tuple[object, ...]] | None = []
    for x, bar in zip(shown, bars, strict=True):
        try:
            year = CollectionYear.parse(x.collection_year)
        except ValueError:
            continue
        rows.append(_reconcile(year.label, year.start, year.end, bar, s.authority_gss,
                               warehouse))
    if checking and all(row[3] == "0 of 12" for row in rows):
        rows = None  # a check with no police months to compare with: nothing to show
    return History("Missing/away periods by collection year",
                   "Returns in use for this authority, and this return (marked in red).",
                   "Missing/away periods returned, by collection year", bars, rows)


def _reconcile(label: str, start: date, end: date, bar: Bar, gss: str | None,
               warehouse: Warehouse) -> tuple[object, ...]:
    months = warehouse.police_months_covered(start, end)
    council = bar.value
    name = f"{label} ({bar.note})" if bar.note else label
    if months == 0:
        return (name, council, "no police returns cover this period", "0 of 12", "-")
    police = warehouse.looked_after.get((gss, label), 0) if gss else 0
    ratio = f"{police / council:.2f}" if council else "-"
    return (name, council, police, f"{months} of 12", ratio)


def _force_history(s: Submission, warehouse: Warehouse, checking: bool) -> History | None:
    """The force's incidents per month: the months in use, and this one."""
    others = [x for x in warehouse.loaded("police", s.authority_gss) if x is not s]
    if checking and not others:
        return None
    shown = sorted([*others, s], key=lambda x: (x.collection_year, x is s))
    at = shown.index(s)
    shown = shown[max(0, at - MONTHS_CHARTED + 1):at + 1]
    note = "this return, checked" if checking else _note(s)
    bars = [Bar(x.collection_year,
                warehouse.police_incidents.get(x.submission_id,
                                               x.rows_by_table().get("incidents")),
                note if x is s else "", x is s) for x in shown]
    return History("Incidents by month",
                   "This force's months in use up to this one, and this file (marked in red).",
                   "Incidents returned, by month", bars, None)

