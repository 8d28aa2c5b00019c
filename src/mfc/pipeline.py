"""One pipeline for every return kind: land a batch of submissions, check them together, then
load or quarantine each one whole.

A batch is many submissions of one kind (mfc.kinds). Each submission's files are COPYed into
landing (the one Python loop: over files, never rows); its file and structure checks are
decided as it lands. The content checks then run over the whole batch in one GX validation,
one SQL query per check (mfc.gates.validate_content). Each submission is then decided in its
own transaction: results and failing rows stored, promoted to raw or quarantined, landing
cleared. Whatever one delivery holds, the others in its batch are still decided.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from expectations.checks import Check
from mfc import faults, gates
from mfc.gates import CheckResult
from mfc.returns.table import Table

if TYPE_CHECKING:
    from mfc.geography import AuthorityRegister
    from mfc.landing import DeliveredFile, Delivery

log = logging.getLogger(__name__)

# Mapped gate tasks per kind and run, whatever arrives: Airflow's default max_map_length is
# 1024, and each task pays a start-up; batches grow instead (a nation is ~1,700 council returns).
MAX_BATCHES = 64


CLAIMED_ELSEWHERE = "claimed elsewhere"  # an Outcome's status: another run is gating it


@dataclass
class Outcome:
    submission_id: int
    status: str
    failed_checks: list[str]

    def as_dict(self) -> dict:
        return {"submission_id": self.submission_id, "status": self.status,
                "failed_checks": self.failed_checks}


@dataclass(frozen=True)
class StoredFile:
    """A delivered file as audit.submission_files holds it."""

    file_name: str
    table_name: str | None
    path: Path | None           # the archived copy; None when it could not be read
    problem: str | None


@dataclass(frozen=True)
class Waiting:
    """A registered submission, as audit holds it."""

    submission_id: int
    status: str
    delivered_as: str           # the folder: authority, force, or source of the figures
    period: str                 # collection year, month or file label, as registered
    gss: str | None
    period_start: date | None
    delivered_at: datetime | None
    received_at: datetime       # registered: what lateness is judged on
    files: tuple[StoredFile, ...]

    @property
    def file(self) -> StoredFile:
        """The file of a one-file submission."""
        return self.files[0]


@dataclass
class Landed:
    """What landing made of one submission: the results so far (file, structure), the file each
    table was read from, and the tables whose checks cannot run, with why."""

    results: list[CheckResult] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)
    halted: str | None = None   # no later check can run (the delivery names nothing known)

    def may_run(self, check: Check) -> bool:
        return self.halted is None and not any(
            t in self.unusable for t in (check.table, *check.reads))

    def why_not(self, check: Check) -> str:
        if self.halted:
            return self.halted
        return "; ".join(self.unusable[t] for t in (check.table, *check.reads)
                         if t in self.unusable) + "."


class ReturnKind(ABC):
    """A kind of return: where its deliveries sit, what they are, how each is checked and
    promoted. One instance per kind, listed in mfc.kinds.KINDS."""

    source: str                 # audit.submissions.source
    label: str                  # a submission of this kind, in words ("council return")
    tables: tuple[Table, ...]
    content: tuple[Check, ...]  # run over a batch by GX, one query each
    readable: Check             # fails when a delivery cannot be read at all
    raw_tables: tuple[str, ...] = ()  # where promotion writes
    cross_submission: tuple[Check, ...] = ()  # the checks cross_checks makes
    # cross_checks joins this delivery's landing rows to other submissions' rows in one query,
    # so it cannot read other submissions from another database (mfc check).
    cross_checks_read_landing: bool = False
    # Submissions per gate task, before MAX_BATCHES applies: GX's cost is mostly per check and
    # run, not per row, so a batch is as large as memory and the task's length allow.
    batch_size: int = 20
    gate_after: tuple[str, ...] = ()  # kinds whose gates run first in a nightly run

    # Discovery --------------------------------------------------------------------------

    @abstractmethod
    def discover(self, landing_dir: Path) -> list[Delivery]:
        """This kind's deliveries under the landing folder."""

    @abstractmethod
    def resolve(self, delivery: Delivery, register: AuthorityRegister):
        """(GSS code of the returning body or None, the period or None) of a delivery; the
        period has label, start and end."""

    @abstractmethod
    def table_of(self, delivered: DeliveredFile) -> str | None:
        """The return table a delivered file is, or None."""

    # The gate ---------------------------------------------------------------------------

    @abstractmethod
    def land(self, conn: psycopg.Connection, waiting: Waiting) -> Landed:
        """Check the delivery and its files, COPY what can be read into landing."""

    def before_content(self, conn: psycopg.Connection, submission_ids: list[int]) -> None:
        """Work the content checks need, over the whole batch's landing rows."""
        return None

    def cross_checks(self, conn: psycopg.Connection, waiting: Waiting, landed: Landed,
                     rows: dict[str, int]) -> list[CheckResult]:
        """Checks against other submissions, made just before this one is decided."""
        return []

    @abstractmethod
    def promote(self, conn: psycopg.Connection, waiting: Waiting) -> str:
        """Typed, pseudonymised rows into raw; the status the submission ends with."""

    def after_decision(self, conn: psycopg.Connection, waiting: Waiting, status: str,
                       run_id: str) -> None:
        """Anything the decision changes for other submissions (in the same transaction)."""
        return None

    def batch_key(self, waiting_row: tuple) -> str:
        """Submissions with one key go in one batch, in order: an authority's years, a force's
        months. waiting_row is (submission_id, authority_as_delivered, authority_gss)."""
        return waiting_row[2] or waiting_row[1]


def batches(url: str, kind: ReturnKind, submission_ids: list[int],
            max_batches: int = MAX_BATCHES) -> list[list[int]]:
    """Waiting submissions in at most max_batches batches. One body's submissions stay
    together and in order where they fit; batches are kind.batch_size, or larger when more
    than max_batches of those would be needed."""
    if not submission_ids:
        return []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select submission_id, authority_as_delivered, authority_gss from audit.submissions "
            "where submission_id = any(%s) order by submission_id", (submission_ids,),
        ).fetchall()
    groups: dict[str, list[int]] = {}
    for row in rows:
        groups.setdefault(kind.batch_key(row), []).append(row[0])
    size = max(kind.batch_size, math.ceil(len(rows) / max_batches))
    packed: list[list[int]] = []
    for _, ids in sorted(groups.items()):
        for i in range(0, len(ids), size):
            part = ids[i:i + size]
            if packed and len(packed[-1]) + len(part) <= size:
                packed[-1].extend(part)
            else:
                packed.append(part)
    # Packing whole groups can leave up to twice as many; merge neighbours until it fits.
    while len(packed) > max_batches:
        smallest = min(range(len(packed) - 1), key=lambda i: len(packed[i]) + len(packed[i + 1]))
        packed[smallest:smallest + 2] = [packed[smallest] + packed[smallest + 1]]
    return packed


def load_waiting(conn: psycopg.Connection, kind: ReturnKind,
                 submission_ids: list[int]) -> list[Waiting]:
    rows = conn.execute(
        """
        select s.submission_id, s.status, s.authority_as_delivered, s.collection_year,
               s.authority_gss, s.period_start, s.delivered_at, s.received_at,
               coalesce(array_agg(array[f.file_name, f.table_name, f.archived_path, f.problem]
                                  order by f.file_name) filter (where f.file_name is not null),
                        '{}')
        from audit.submissions s left join audit.submission_files f using (submission_id)
        where s.submission_id = any(%s) and s.source = %s
        group by s.submission_id order by s.submission_id
        """, (submission_ids, kind.source)).fetchall()
    found = {r[0] for r in rows}
    missing = [sid for sid in submission_ids if sid not in found]
    if missing:
        raise LookupError(f"no {kind.source} submission(s) {missing} in audit.submissions")
    return [Waiting(*row[:-1], tuple(
        StoredFile(name, table, Path(path) if path else None, problem)
        for name, table, path, problem in row[-1])) for row in rows]


def clear_landing(conn: psycopg.Connection, kind: ReturnKind, submission_id: int) -> None:
    # Landing holds identifiers as delivered: keep them no longer than the gate needs them.
    for table in kind.tables:
        conn.execute(sql.SQL("delete from {} where submission_id = %s").format(
            sql.SQL(table.landing_table)), (submission_id,))


def _row_counts(conn: psycopg.Connection, kind: ReturnKind,
                submission_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {sid: {t.name: 0 for t in kind.tables}
                                         for sid in submission_ids}
    for table in kind.tables:
        for sid, n in conn.execute(sql.SQL(
                "select submission_id, count(*) from {} where submission_id = any(%s) "
                "group by 1").format(sql.SQL(table.landing_table)), (submission_ids,)):
            counts[sid][table.name] = n
    return counts


def unreadable(kind: ReturnKind, waiting: Waiting, error: Exception) -> Landed:
    """A delivery landing could not read for a reason no file check names: quarantined with
    the error, never allowed to stop the batch."""
    check = kind.readable
    names = ", ".join(f.file_name for f in waiting.files) or "the delivery"
    return Landed(
        [CheckResult(check, "FAIL", 1, 1, [{"file": names, "values": {}}],
                     f"{names} could not be read ({type(error).__name__}: {error}). "
                     f"{check.message}")],
        halted="the delivery could not be read.")


def claim(conn: psycopg.Connection, submission_id: int) -> str:
    """Claim a submission for this batch until its connection closes (a killed run's claims
    go with it); its status now, or 'claimed elsewhere' when another run is gating it. Two
    runs at once (a manual one beside the scheduled one) never check or store one twice."""
    got = conn.execute("select pg_try_advisory_lock(hashtext('mfc.gate'), %s::int)",
                       (submission_id,)).fetchone()[0]
    if not got:
        log.warning("submission %s is being gated by another run: left to it", submission_id)
        return CLAIMED_ELSEWHERE
    # Read again now that it is ours: the other run may have decided it meanwhile.
    return conn.execute("select status from audit.submissions where submission_id = %s",
                        (submission_id,)).fetchone()[0]


def _released(conn: psycopg.Connection, submission_ids: list[int]) -> set[int]:
    """Those an operator released (mfc release): they load whatever they failed."""
    return {r[0] for r in conn.execute(
        "select submission_id from audit.releases where submission_id = any(%s)",
        (submission_ids,))}


def decide(conn: psycopg.Connection, kind: ReturnKind, waiting: Waiting, failed: list[str],
           released: bool) -> str:
    """Promote a submission or quarantine it. A released one is promoted with its failures
    (still FAIL in dq); if its rows cannot be stored even so, it stays quarantined and the
    release says why."""
    if not failed:
        return kind.promote(conn, waiting)
    if released:
        try:
            with conn.transaction():  # a savepoint: the results stored above are kept
                return kind.promote(conn, waiting)
        except psycopg.Error as err:
            if conn.broken:
                raise
            conn.execute("update audit.releases set outcome = %s where submission_id = %s",
                         (f"could not be loaded: {str(err).splitlines()[0]}",
                          waiting.submission_id))
    set_status(conn, waiting.submission_id, "quarantined")
    return "quarantined"


@dataclass(frozen=True)
class DryRun:
    """A gate run that loads nothing (mfc check, in a scratch database): each submission is
    decided, never promoted. Its cross-submission checks read the warehouse at history_url, in
    read-only transactions, or are not run when no warehouse is configured."""

    history_url: str | None

    def cross_checks(self, kind: ReturnKind, waiting: Waiting, landed: Landed,
                     rows: dict[str, int]) -> list[CheckResult]:
        if self.history_url is None:
            return gates.not_run(kind.cross_submission, (
                "no warehouse is configured, so there are no earlier returns to compare with."))
        if kind.cross_checks_read_landing:
            return gates.not_run(kind.cross_submission, (
                "compared with the warehouse's loaded figures in the nightly run only."))
        with psycopg.connect(self.history_url,
                             options="-c default_transaction_read_only=on") as history:
            return kind.cross_checks(history, waiting, landed, rows)

    @staticmethod
    def decide(conn: psycopg.Connection, waiting: Waiting, failed: list[str]) -> str:
        status = "quarantined" if failed else "loaded"  # 'loaded': would be, were it sent
        set_status(conn, waiting.submission_id, status)
        return status


def gate_and_load_batch(url: str, kind: ReturnKind, submission_ids: list[int],
                        run_id: str, dry_run: DryRun | None = None) -> list[Outcome]:
    """Check a batch of submissions of one kind and load each whole, or quarantine it whole
    (with dry_run: decide each, load nothing)."""
    outcomes: dict[int, Outcome] = {}
    # Autocommit, so each `with conn.transaction()` commits: GX reads landing on its own
    # connection and must see what was landed.
    with psycopg.connect(url, autocommit=True) as conn:
        waiting = {w.submission_id: w for w in load_waiting(conn, kind, submission_ids)}
        landed: dict[int, Landed] = {}
        for sid, w in waiting.items():
            status = claim(conn, sid) if w.status == "received" else w.status
            if status != "received":  # decided by an earlier run, or another run has it
                outcomes[sid] = Outcome(sid, status, [])
                continue
            try:
                with conn.transaction():
                    clear_landing(conn, kind, sid)  # rows left by an interrupted run
                    landed[sid] = kind.land(conn, w)
            except Exception as err:  # whatever a delivery holds, the batch goes on
                if conn.broken:
                    raise  # the server went away: that is the run's failure, not the file's
                log.exception("%s %s could not be landed", kind.label, sid)
                landed[sid] = unreadable(kind, w, err)
        ready = [sid for sid, got in landed.items() if got.halted is None]
        if ready:
            with conn.transaction():
                kind.before_content(conn, ready)
        faults.pause_here("gating")  # landed, claimed, not yet checked
        runnable = {c.check_id: [sid for sid in ready if landed[sid].may_run(c)]
                    for c in kind.content}
        failing = gates.validate_content(url, kind.content,
                                         {t.name: t.landing_table for t in kind.tables},
                                         runnable)
        rows = _row_counts(conn, kind, list(landed))
        released = _released(conn, list(landed))
        for sid, got in landed.items():
            results = list(got.results)
            for check in kind.content:
                if sid in runnable[check.check_id]:
                    results.append(gates.outcome(check, failing.get(check.check_id, {}).get(
                        sid, 0), rows[sid].get(check.table, 0), []))
                else:
                    results.append(CheckResult(check, "NOT_RUN",
                                               message=f"Not run: {got.why_not(check)}"))
            results += (dry_run.cross_checks(kind, waiting[sid], got, rows[sid]) if dry_run
                        else kind.cross_checks(conn, waiting[sid], got, rows[sid]))
            failed = [r.check.check_id for r in results if r.blocks]
            sources = {t.name: (t.landing_table, got.files.get(t.name, t.file_name))
                       for t in kind.tables}
            with conn.transaction():
                gates.store(conn, sid, run_id, results, sources, runnable)
                # A release loads failing rows, never a return with a file it could not read.
                unloadable = got.halted or "; ".join(
                    f"{table}: {why}" for table, why in got.unusable.items())
                if sid in released and unloadable:
                    conn.execute("update audit.releases set outcome = %s "
                                 "where submission_id = %s",
                                 (f"could not be loaded: {unloadable}", sid))
                if dry_run:
                    status = dry_run.decide(conn, waiting[sid], failed)
                else:
                    status = decide(conn, kind, waiting[sid], failed,
                                    released=sid in released and not unloadable)
                    kind.after_decision(conn, waiting[sid], status, run_id)
                clear_landing(conn, kind, sid)
                faults.pause_here("promoting")  # promoted, not yet committed
            outcomes[sid] = Outcome(sid, status, failed)
        # Fresh statistics after a bulk load: the next batch's cross-checks, dbt and the
        # reports plan their joins on them (stale ones once turned a 1 s query into hours).
        conn.execute(f"analyze audit.submissions, {', '.join(kind.raw_tables)}"
                     if kind.raw_tables else "analyze audit.submissions")
    return [outcomes[sid] for sid in submission_ids]


def gate_waiting(url: str, kind: ReturnKind, run_id: str) -> list[Outcome]:
    """Gate every waiting submission of a kind, batch after batch (tests, benchmarks, tools)."""
    from mfc import landing

    return [outcome for ids in batches(url, kind, landing.waiting(url, kind.source))
            for outcome in gate_and_load_batch(url, kind, ids, run_id)]


def settle(conn: psycopg.Connection, source: str, submission_id: int, body: str,
           period: str) -> str:
    """Mark a promoted submission loaded and the one it replaces superseded; or, when a newer
    one for the same returning body and period is loaded already, this one superseded. The
    body is the resolved GSS code, or for aggregate files the folder as delivered."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{source}:{body}:{period}",))
    same = ("source = %s and coalesce(authority_gss, authority_as_delivered) = %s "
            "and collection_year = %s and status = 'loaded'")
    newer = conn.execute(
        f"select min(submission_id) from audit.submissions where {same} "
        "and submission_id > %s", (source, body, period, submission_id),
    ).fetchone()[0]
    if newer is not None:
        set_status(conn, submission_id, "superseded", superseded_by=newer)
        return "superseded"
    conn.execute(
        "update audit.submissions set status = 'superseded', superseded_by = %s, "
        f"status_changed_at = now() where {same} and submission_id < %s",
        (submission_id, source, body, period, submission_id),
    )
    set_status(conn, submission_id, "loaded")
    return "loaded"


def set_status(conn: psycopg.Connection, submission_id: int, status: str,
               superseded_by: int | None = None) -> None:
    conn.execute(
        "update audit.submissions set status = %s, superseded_by = %s, status_changed_at = now() "
        "where submission_id = %s", (status, superseded_by, submission_id),
    )
