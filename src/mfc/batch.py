"""Gate and load small one-file submissions in batches: police months, aggregate files.

A backlog of such files is many small submissions. They are gated in batches of up to ten,
with one GX run per batch; each file is still decided on its own and loaded whole or not at
all, in its own transaction (as council returns are, in mfc.load). What differs by source
(checks of the delivery, what landing needs added, promotion to raw) is a ReturnKind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql

from expectations.checks import Check
from mfc import gates
from mfc.gates import CheckResult
from mfc.load import FileProblem, Outcome, copy_to_landing, read_columns, set_status
from mfc.returns.council import Table

BATCH_SIZE = 10  # GX returns at most 200 failing rows per check: 20 examples x 10 files


@dataclass(frozen=True)
class Waiting:
    """A registered one-file submission, as audit holds it."""

    submission_id: int
    delivered_as: str           # the folder: force, or source of the figures
    period: str                 # the file name's period or label
    gss: str | None
    period_start: date | None
    file_name: str
    path: Path


class ReturnKind(Protocol):
    source: str
    table: Table
    file_checks: tuple[Check, ...]  # readable, columns: NOT_RUN when the delivery fails
    content: tuple[Check, ...]

    def delivery_checks(self, waiting: Waiting) -> list[CheckResult]: ...

    def read_file(self, waiting: Waiting) -> Path: ...

    def after_landing(self, conn: psycopg.Connection, waiting: Waiting) -> None: ...

    def before_content(self, conn: psycopg.Connection, submission_ids: list[int]) -> None: ...

    def promote(self, conn: psycopg.Connection, waiting: Waiting) -> str: ...


def batches(url: str, submission_ids: list[int]) -> list[list[int]]:
    """Waiting submissions in batches of one folder's files, at most BATCH_SIZE each."""
    if not submission_ids:
        return []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select submission_id, authority_as_delivered from audit.submissions "
            "where submission_id = any(%s) order by authority_as_delivered, submission_id",
            (submission_ids,),
        ).fetchall()
    by_folder: dict[str, list[int]] = {}
    for sid, folder in rows:
        by_folder.setdefault(folder, []).append(sid)
    return [ids[i:i + BATCH_SIZE] for ids in by_folder.values()
            for i in range(0, len(ids), BATCH_SIZE)]


def _clear_landing(conn: psycopg.Connection, kind: ReturnKind, submission_id: int) -> None:
    # Landing holds values as delivered: keep them no longer than the gate needs them.
    conn.execute(sql.SQL("delete from {} where submission_id = %s").format(
        sql.SQL(kind.table.landing_table)), (submission_id,))


def _land(conn: psycopg.Connection, kind: ReturnKind, waiting: Waiting) -> list[CheckResult]:
    """COPY the file to landing; the file and structure results."""
    readable, columns_check = kind.file_checks
    try:
        path = kind.read_file(waiting)
        delivered = copy_to_landing(conn, waiting.submission_id, kind.table, path)
    except FileProblem as problem:
        return [CheckResult(readable, "FAIL", 1, 1, [{"file": waiting.file_name, "values": {}}],
                            f"{problem}. {readable.message}"),
                *gates.not_run((columns_check,), "the file cannot be read.")]
    conn.execute(
        "update audit.submission_files set columns_delivered = %s "
        "where submission_id = %s and file_name = %s",
        (read_columns(path), waiting.submission_id, waiting.file_name),
    )
    kind.after_landing(conn, waiting)
    missing = [c for c in kind.table.columns if c not in delivered]
    columns = gates.outcome(columns_check, len(missing), len(kind.table.columns),
                            [{"file": waiting.file_name, "line": 1, "values": {c: None}}
                             for c in missing])
    if missing:
        columns.message = f"{waiting.file_name} lacks {', '.join(missing)}. {columns_check.message}"
    return [CheckResult(readable, "PASS", 0, 1), columns]


def _waiting(conn: psycopg.Connection, kind: ReturnKind, submission_id: int) -> tuple[str, Waiting]:
    row = conn.execute(
        "select s.status, s.authority_as_delivered, s.collection_year, s.authority_gss, "
        "s.period_start, f.file_name, f.archived_path "
        "from audit.submissions s join audit.submission_files f using (submission_id) "
        "where s.submission_id = %s and s.source = %s", (submission_id, kind.source),
    ).fetchone()
    if row is None:
        raise LookupError(f"no {kind.source} submission {submission_id} in audit.submissions")
    status, *rest, archived = row
    return status, Waiting(submission_id, *rest, Path(archived))


def gate_and_load_batch(url: str, kind: ReturnKind, submission_ids: list[int],
                        run_id: str) -> list[Outcome]:
    """Check a batch of one-file submissions and load each whole, or quarantine it whole."""
    outcomes: list[Outcome] = []
    results: dict[int, list[CheckResult]] = {}
    waiting: dict[int, Waiting] = {}
    # Autocommit, so each `with conn.transaction()` commits: GX reads landing on its own
    # connection and must see what was landed.
    with psycopg.connect(url, autocommit=True) as conn:
        for sid in submission_ids:
            status, waiting[sid] = _waiting(conn, kind, sid)
            if status != "received":  # decided by an earlier run: nothing to do
                outcomes.append(Outcome(sid, status, []))
                continue
            with conn.transaction():
                _clear_landing(conn, kind, sid)  # rows left by an interrupted run
                results[sid] = kind.delivery_checks(waiting[sid])
                if any(r.blocks for r in results[sid]):
                    results[sid] += gates.not_run(kind.file_checks,
                                                  "the folder or file name is not recognised.")
                else:
                    results[sid] += _land(conn, kind, waiting[sid])
        ready = [sid for sid in results if not any(r.blocks for r in results[sid])]
        for sid in results:
            if sid not in ready:
                results[sid] += gates.not_run(kind.content,
                                              "the file failed the file or structure checks.")
        if ready:
            with conn.transaction():
                kind.before_content(conn, ready)
            counts = dict(conn.execute(sql.SQL(
                "select submission_id, count(*) from {} where submission_id = any(%s) "
                "group by 1").format(sql.SQL(kind.table.landing_table)), (ready,)).fetchall())
            content = gates.validate_batch(
                url, kind.table.landing_table, ready, kind.content,
                {sid: waiting[sid].file_name for sid in ready},
                {sid: counts.get(sid, 0) for sid in ready})
            for sid in ready:
                results[sid] += content[sid]
        for sid, checked in results.items():
            failed = [r.check.check_id for r in checked if r.blocks]
            with conn.transaction():
                gates.store(conn, sid, run_id, checked,
                            {kind.table.name: kind.table.landing_table})
                if failed:
                    set_status(conn, sid, "quarantined")
                    status = "quarantined"
                else:
                    status = kind.promote(conn, waiting[sid])
                _clear_landing(conn, kind, sid)
            outcomes.append(Outcome(sid, status, failed))
    return outcomes
