"""`mfc docs`: dbt's documentation of the warehouse (every mart and column described, tests,
exposures, lineage), built from the warehouse as it is and served on this machine only."""

from __future__ import annotations

import functools
import http.server
import os
import sys
from pathlib import Path

import psycopg

from mfc import config

DEFAULT_PORT = 8081


class DocsFailed(RuntimeError):
    """The documentation could not be built; the message says why, in one line."""


class MartsNotBuilt(DocsFailed):
    """The warehouse does not hold every mart: dbt's catalog would leave them out."""


def site_dir() -> Path:
    """Where the documentation is written: dbt's target folder for `docs generate`."""
    return config.state_dir() / "dbt-docs"


def mart_names() -> list[str]:
    return sorted(p.stem for p in (config.dbt_project_dir() / "models" / "marts").glob("*.sql"))


def missing_marts(url: str) -> list[str]:
    """The marts of the dbt project that the warehouse does not hold (yet)."""
    with psycopg.connect(url, connect_timeout=10) as conn:
        built = {row[0] for row in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'marts'").fetchall()}
    return [name for name in mart_names() if name not in built]


def build(url: str) -> Path:
    """`dbt docs generate` against the warehouse at url; returns the folder it wrote
    (index.html, manifest.json, catalog.json)."""
    from dbt.cli.main import dbtRunner

    missing = missing_marts(url)
    if missing:
        raise MartsNotBuilt(
            f"the warehouse holds {len(mart_names()) - len(missing)} of "
            f"{len(mart_names())} marts (not {', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}): run `mfc demo` or `mfc run` first")
    # profiles.yml reads the MFC_DBT_* variables (config.export_dbt_env, for this url).
    os.environ.update(config.dbt_target(url).as_env())
    target = site_dir()
    logs = config.state_dir() / "logs" / "dbt-docs"  # beside the site: the site is served
    project = str(config.dbt_project_dir())
    result = dbtRunner().invoke([
        "docs", "generate", "--project-dir", project, "--profiles-dir", project,
        "--target-path", str(target), "--log-path", str(logs), "--quiet"])
    if not result.success:
        raise DocsFailed(f"dbt docs generate failed: {result.exception or 'see its log'} "
                         f"({logs / 'dbt.log'})")
    return target


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(folder: Path, port: int = DEFAULT_PORT) -> http.server.ThreadingHTTPServer:
    """A server of the folder on 127.0.0.1 only (port 0: any free port)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def serve(folder: Path, port: int = DEFAULT_PORT) -> None:
    """Serve the folder on 127.0.0.1 until interrupted (Ctrl-C)."""
    with make_server(folder, port) as server:
        print(f"Serving the warehouse's documentation on http://127.0.0.1:{port}/ "
              "(Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(port: int = DEFAULT_PORT, serve_site: bool = True) -> int:
    """Build the documentation from MFC_WAREHOUSE_URL, else from the embedded PostgreSQL that
    `mfc demo` starts; then serve it (or, without serve_site, print where it is)."""
    from mfc import warehouse

    url = config.warehouse_url()
    if url is None:
        state = config.state_dir()
        print(f"MFC_WAREHOUSE_URL is not set: using the embedded PostgreSQL in {state}/pgdata "
              "(`mfc stop` stops it)")
        url = warehouse.start_embedded(state)
        os.environ["MFC_WAREHOUSE_URL"] = url
    try:
        folder = build(url)
    except DocsFailed as error:
        print(f"mfc docs: {error}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[-1]
        print(f"mfc docs: cannot connect to the warehouse: {reason}", file=sys.stderr)
        return 2
    print(f"dbt docs written to {folder} (index.html, manifest.json, catalog.json)")
    if serve_site:
        try:
            serve(folder, port)
        except OSError as error:
            print(f"mfc docs: cannot serve on 127.0.0.1:{port} ({error.strerror}); "
                  "try --port", file=sys.stderr)
            return 1
    return 0
