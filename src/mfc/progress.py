"""What `mfc run` says while it runs and when it is done.

While the DAG runs, a line shows the stage, how many submissions are decided of those waiting,
the time so far and the rate; it reads the warehouse every few seconds (one connection). When
the run is done, a summary: submissions by kind and outcome, warnings, dbt models built, the
marts' row counts and the seconds each stage took. rich writes plain text, without ANSI codes,
when the output is not a terminal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

import psycopg
from rich.console import Console
from rich.table import Table

# The stages of a run in the order they run, and the Airflow tasks of each: a task id, or a
# prefix (ending "_" or ".") or suffix (starting "_") of one.
STAGES = (("register + archive", ("discover_submissions",)), ("batching", ("_waiting",)),
          ("gate + promote", ("gate_",)), ("summary", ("summarise_gates", "marts_need_building")),
          ("dbt", ("start_marts_build", "dbt.")), ("mart gate", ("gate_marts", "publish_marts")),
          ("reports", ("write_reports",)))


def stage_of(task_id: str) -> str:
    for stage, markers in STAGES:
        if task_id in markers:
            return stage
    for stage, markers in STAGES:
        for marker in markers:
            if (marker.endswith(("_", ".")) and task_id.startswith(marker)) or (
                    marker.startswith("_") and task_id.endswith(marker)):
                return stage
    return task_id


@dataclass
class TaskTiming:
    task_id: str
    state: str | None
    start: datetime | None
    end: datetime | None


def stage_seconds(tasks: list[TaskTiming]) -> dict[str, float]:
    """Wall seconds per stage: from its first task's start to its last task's end."""
    spans: dict[str, list[datetime]] = {}
    for t in tasks:
        if t.start and t.end:
            span = spans.setdefault(stage_of(t.task_id), [t.start, t.end])
            span[0], span[1] = min(span[0], t.start), max(span[1], t.end)
    order = [stage for stage, _ in STAGES]
    return {stage: (end - start).total_seconds() for stage, (start, end) in
            sorted(spans.items(), key=lambda s: order.index(s[0]) if s[0] in order else 99)}


@dataclass
class Watch:
    """Polls the warehouse during a run and prints one progress line at a time."""

    url: str
    console: Console
    every: float = 2.0
    started: float = field(default_factory=time.monotonic)
    since: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._waiting_before: list[int] = []
        self._last_plain = 0.0

    def _counts(self, conn: psycopg.Connection) -> tuple[int, int]:
        """(decided, in this run) of the submissions this run registered or found waiting."""
        row = conn.execute(
            "select count(*) filter (where status <> 'received'), count(*) "
            "from audit.submissions where received_at >= %s or submission_id = any(%s)",
            (self.since, self._waiting_before)).fetchone()
        return row[0], row[1]

    def line(self, decided: int, total: int, rate: float) -> str:
        elapsed = time.monotonic() - self.started
        clock = f"{int(elapsed // 60):d}:{int(elapsed % 60):02d}"
        if total == 0:
            stage = "finding deliveries"
        elif decided < total:
            stage = (f"gating: {decided:,} of {total:,} submissions decided"
                     + (f", {rate:.1f}/s" if rate else ""))
        else:
            stage = (f"gating done ({total:,} submissions); building and checking the marts, "
                     "writing reports")
        return f"{clock}  {stage}"

    def _run(self) -> None:
        try:
            conn = psycopg.connect(self.url, autocommit=True)
        except psycopg.Error:
            return
        with conn, self.console.status("starting") as status:
            try:
                self._waiting_before = [r[0] for r in conn.execute(
                    "select submission_id from audit.submissions where status = 'received'")]
            except psycopg.errors.UndefinedTable:
                pass  # a new warehouse: discovery creates the tables
            first_decided: tuple[float, int] | None = None
            while not self._stop.wait(self.every):
                try:
                    decided, total = self._counts(conn)
                except psycopg.errors.UndefinedTable:
                    continue
                except psycopg.OperationalError:  # the server restarted: the run retries, so
                    conn = _reconnect(conn, self.url)  # the line carries on when it is back
                    continue
                if decided and first_decided is None:
                    first_decided = (time.monotonic(), decided)
                rate = 0.0
                if first_decided and decided > first_decided[1]:
                    rate = (decided - first_decided[1]) / (time.monotonic() - first_decided[0])
                text = self.line(decided, total, rate)
                if self.console.is_terminal:
                    status.update(text)
                elif time.monotonic() - self._last_plain >= 30:  # a log, not a screen
                    self.console.print(text)
                    self._last_plain = time.monotonic()
            conn.close()  # a reconnected one, if the server restarted

    def __enter__(self) -> Watch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _reconnect(conn: psycopg.Connection, url: str) -> psycopg.Connection:
    conn.close()
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError:
        return conn  # still down: the next tick tries again


def console_for(stream: IO[str] | None, quiet: bool) -> Console:
    return Console(file=stream, quiet=quiet, highlight=False, soft_wrap=True)


def summary(url: str, since: datetime, seconds: dict[str, float], dbt_nodes: int,
            console: Console) -> None:
    """What this run decided, by kind; the marts' rows; the seconds per stage."""
    with psycopg.connect(url) as conn:
        outcomes = conn.execute(
            """
            select s.source, s.status, count(distinct s.submission_id),
                   count(r.*) filter (where r.result = 'WARNING')
            from audit.submissions s
            left join dq.check_results r on r.submission_id = s.submission_id
                and r.checked_at >= %s
            where s.status_changed_at >= %s group by 1, 2 order by 1, 2
            """, (since, since)).fetchall()
        marts = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()
        rows = {name: conn.execute(f'select count(*) from marts."{name}"').fetchone()[0]
                for (name,) in marts}
    decided = Table(title="Submissions decided in this run", show_edge=False)
    for column in ("kind", "status", "submissions", "warnings"):
        decided.add_column(column, justify="left" if column in ("kind", "status") else "right")
    for source, status, count, warnings in outcomes:
        decided.add_row(source, status, f"{count:,}", f"{warnings:,}")
    if not outcomes:
        decided.add_row("-", "nothing new", "0", "0")
    console.print(decided)
    built = Table(title=f"Marts ({dbt_nodes} dbt nodes built and tested)", show_edge=False)
    built.add_column("table")
    built.add_column("rows", justify="right")
    for name, count in rows.items():
        built.add_row(f"marts.{name}", f"{count:,}")
    console.print(built)
    timing = Table(title="Seconds per stage", show_edge=False)
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for stage, spent in seconds.items():
        timing.add_row(stage, f"{spent:,.1f}")
    console.print(timing)
