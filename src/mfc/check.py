"""`mfc check`: run the nightly gates on a return before it is sent, and keep nothing.

A return is registered, landed and gated exactly as the nightly run does (mfc.pipeline, the
same suites, code lists and cross-table rules), in a scratch database made for the one check on
a PostgreSQL of its own (the embedded server; a template database at this release's schema
makes each scratch database in a fraction of a second), then dropped. Nothing is promoted;
the files' archive copies live in a temporary folder. When a warehouse is configured, the
cross-submission checks read it (earlier returns, police months) in read-only transactions;
it is never written to. The report is the page the authority would receive, and the CSV of
its failing rows.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from expectations.fixes import FIXES
from mfc import config, landing, pipeline, schema, warehouse
from mfc.geography import AuthorityRegister
from mfc.kinds import kind as kind_of
from mfc.pipeline import DryRun, ReturnKind

log = logging.getLogger(__name__)

TEMPLATE = "mfc_check_template"
SCRATCH_PREFIX = "mfc_check_"
MONTH = re.compile(r"\d{4}-\d{2}")
SEVERITIES = ("blocking", "warning")
RESULTS = ("FAIL", "WARNING", "PASS", "NOT_RUN")
EXAMPLES_PRINTED = 5  # per check; the report and its CSV have the rest


class CheckCannotRun(Exception):
    """The return could not be checked at all (the message is one line for the user)."""


@dataclass
class CheckReport:
    kind: str
    would_load: bool
    exit_code: int                          # 0 would be loaded (warnings allowed), 1 not
    verdict: str                            # one line
    counts: dict[str, dict[str, int]]       # severity -> result -> checks
    html: str                               # the report page the authority would receive
    failing_rows_csv: bytes
    failing: list[tuple[str, str, str, int | None, list[tuple[str, int | None, dict]]]]
    # ^ each failed or warning check: (id, result, message, failing rows, first examples)

    def summary(self) -> str:
        """What `mfc check` prints: the verdict, the counts by severity, each failed check."""
        lines = [self.verdict, "",
                 f"{'checks':10}" + "".join(f"{r.lower().replace('_', ' '):>10}" for r in RESULTS)]
        for severity in SEVERITIES:
            got = self.counts.get(severity, {})
            lines.append(f"{severity:10}" + "".join(f"{got.get(r, 0):>10}" for r in RESULTS))
        for check_id, result, message, rows, examples in self.failing:
            counted = f", {rows} row(s)" if rows is not None else ""
            lines += ["", f"{result} {check_id}{counted}: {message}"]
            if FIXES.get(check_id):
                lines.append(f"  How to fix: {FIXES[check_id]}")
            for file, line, values in examples:
                where = f"{file} line {line}" if line else file or "the delivery"
                shown = ", ".join(f"{c} {v if v == '(blank)' else repr(v)}"
                                  for c, v in values.items())
                lines.append(f"    {where}" + (f": {shown}" if shown else ""))
        return "\n".join(lines)


def guess_kind(path: Path) -> str:
    """A folder is a council return; a file named YYYY-MM is a police month, else figures."""
    if path.is_dir():
        return "council"
    return "police" if MONTH.fullmatch(path.stem) else "aggregate"


class Checker:
    """Checks returns one after another (or at once, from a web page's threads), each in its
    own scratch database. The embedded server and the template are made once, on entering."""

    def __init__(self, warehouse_url: str | None = None) -> None:
        self.history_url = warehouse_url if warehouse_url is not None else (
            config.warehouse_url())
        self.server_url: str | None = None

    def __enter__(self) -> Checker:
        try:
            scratch = warehouse.start_embedded(config.state_dir(), database=TEMPLATE)
        except Exception as err:  # noqa: BLE001 - whatever stops the server, one line
            raise CheckCannotRun(f"the embedded PostgreSQL could not start ({err})") from err
        self.server_url = _with_database(scratch, "postgres")
        _prepare_template(scratch)
        if self.history_url:
            warehouse.check_reachable(self.history_url)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None  # the embedded server keeps running for the next check, as for the demo

    def check(self, path: Path, *, kind: str | None = None, authority: str | None = None,
              period: str | None = None,
              csv_href: str | Callable[[bytes], str] = "failing_rows.csv") -> CheckReport:
        """Check the return at path. csv_href: the report's link to its CSV, or a function
        making it from the CSV (a page that carries the CSV in a data: link)."""
        if self.server_url is None:
            raise RuntimeError("use Checker as a context manager")
        path = Path(path)
        if not path.exists():
            raise CheckCannotRun(f"{path} does not exist")
        of_kind = kind_of(kind or guess_kind(path))
        delivery = _delivery(of_kind, path, authority, period)
        name = _scratch_database(self.server_url)
        url = _with_database(self.server_url, name)
        try:
            with tempfile.TemporaryDirectory(prefix="mfc-check-") as archive:
                return _gate_and_report(url, of_kind, delivery, Path(archive),
                                        DryRun(self.history_url), csv_href)
        finally:
            with psycopg.connect(self.server_url, autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(name)))


def _scratch_database(server_url: str, patience: float = 10) -> str:
    """A new database copied from the template. The copy is refused while another session is
    connected to the template (another `mfc check` starting up refreshes its code lists):
    wait for it, a few seconds at most."""
    name = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:12]}"
    give_up = time.monotonic() + patience
    with psycopg.connect(server_url, autocommit=True) as conn:
        while True:
            try:
                conn.execute(sql.SQL("create database {} template {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE)))
                return name
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.25)


def _with_database(url: str, database: str) -> str:
    """The same server's URL for another database (a URL, as GX needs one)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path="/" + quote(database)))


def _prepare_template(url: str) -> None:
    """The template database at this release's schema, with the code lists; remade when the
    release changed (its version is not head)."""
    if schema.version(url).current != schema.head():
        server = _with_database(url, "postgres")
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(TEMPLATE)))
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(TEMPLATE)))
    warehouse.ensure_schema(url)  # code lists of this release, every time (cheap)


def _delivery(of_kind: ReturnKind, path: Path, authority: str | None,
              period: str | None) -> landing.Delivery:
    """The delivery as the nightly run would find it: a council folder's files, or one file.
    The authority and period are the folder names unless given."""
    if path.is_dir():
        if of_kind.source != "council":
            raise CheckCannotRun(f"{path} is a folder: a {of_kind.label} is one file")
        files = landing.files_in(path)
        if not files:
            raise CheckCannotRun(f"{path} holds no files")
        return landing.Delivery(of_kind.source, path, authority or path.parent.name,
                                period or path.name, files)
    if of_kind.source == "council":
        raise CheckCannotRun(f"{path} is a file: a council return is a folder holding "
                             "header.csv, episodes.csv and missing.csv")
    delivered = landing.DeliveredFile.at(path)
    return landing.Delivery(of_kind.source, path.parent, authority or path.parent.name,
                            period or of_kind.period_of(path), (delivered,))


def _gate_and_report(url: str, of_kind: ReturnKind, delivery: landing.Delivery,
                     archive: Path, dry_run: DryRun,
                     csv_href: str | Callable[[bytes], str]) -> CheckReport:
    from mfc.reports import failing_rows, submission_page
    from mfc.reports.facts import Names, Warehouse

    with psycopg.connect(url, autocommit=True) as conn:
        sid = landing.register(conn, delivery, AuthorityRegister.from_seed(), archive)
    if sid is None:
        raise CheckCannotRun(f"{delivery.folder} changed while it was read: try again")
    [outcome] = pipeline.gate_and_load_batch(url, of_kind, [sid], "check", dry_run)
    with psycopg.connect(url) as conn:
        facts = Warehouse(conn)
        submission = facts.by_id[sid]
        csv = failing_rows.csv_bytes(conn, sid)
        page = submission_page.render(submission, facts, Names(), checking=True,
                                      csv_href=csv_href(csv) if callable(csv_href) else csv_href)
        counts: dict[str, dict[str, int]] = {}
        for severity, result, n in conn.execute(
                "select severity, result, count(*) from dq.check_results "
                "where submission_id = %s group by 1, 2", (sid,)):
            counts.setdefault(severity, {})[result] = n
        failing = _failing(conn, of_kind, sid)
    would_load = outcome.status == "loaded"
    blocking = counts.get("blocking", {}).get("FAIL", 0)
    warnings = sum(counts.get(s, {}).get("WARNING", 0) for s in SEVERITIES)
    if would_load:
        verdict = (f"PASS: this {of_kind.label} would be loaded"
                   + (f", with {warnings} warning(s) to look at." if warnings else "."))
    else:
        verdict = (f"WOULD BE QUARANTINED: {blocking} blocking check(s) failed; this "
                   f"{of_kind.label} would not be loaded.")
    return CheckReport(of_kind.source, would_load, 0 if would_load else 1, verdict, counts,
                       page, csv, failing)


def _catalogue(source: str) -> tuple:
    from expectations import aggregate, council, police

    return {"council": council.ALL, "police": police.ALL, "aggregate": aggregate.ALL}[source]


def _failing(conn: psycopg.Connection, of_kind: ReturnKind, sid: int) -> list:
    """Each failed or warning check, blocking first, with its first rows (their values in the
    check's column order: stored examples are JSON objects, which keep none)."""
    order = {c.check_id: c.columns for c in _catalogue(of_kind.source)}
    found = []
    for check_id, result, message, rows, examples in conn.execute(
            "select check_id, result, message, unexpected_count, examples "
            "from dq.check_results where submission_id = %s and result in ('FAIL', 'WARNING') "
            "order by result = 'WARNING', check_id", (sid,)):
        columns = order.get(check_id, ())
        shown = []
        for example in (examples or [])[:EXAMPLES_PRINTED]:
            values = example.get("values") or {}
            ranked = sorted(values, key=lambda c: columns.index(c) if c in columns
                            else len(columns))
            shown.append((example.get("file", ""), example.get("line"),
                          {c: values[c] if values[c] not in (None, "") else "(blank)"
                           for c in ranked}))
        found.append((check_id, result, message, rows, shown))
    return found
