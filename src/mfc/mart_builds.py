"""Analysts never see a half-built build: the nightly run builds the marts aside, in schema
marts_next, gates them there, and only then swaps them for the marts analysts read, in one
transaction. A run killed or failed anywhere before the swap leaves yesterday's marts as they
were; the next build starts its schema afresh.
"""

from __future__ import annotations

import logging

import psycopg

from mfc import access

PUBLISHED = "marts"
BUILD = "marts_next"        # dbt's var marts_schema (dbt/macros/generate_schema_name.sql)
RETIRED = "marts_previous"  # the build just replaced, until its last reader has finished

# A publish waits at most this long for a lock (an analyst's long query on a mart being
# renamed) before it fails and is retried, rather than queueing every reader behind it.
LOCK_TIMEOUT = "60s"

log = logging.getLogger(__name__)


def start(url: str) -> None:
    """An empty build schema, granted as the marts are (dbt adds each table's own grants)."""
    with psycopg.connect(url) as conn:
        conn.execute(f"drop schema if exists {BUILD} cascade")
        conn.execute(f"create schema {BUILD}")
        access.grant_on_marts_schema(conn, BUILD)


def publish(url: str, run_id: str, project_fingerprint: str, full_refresh: bool) -> None:
    """Swap the gated build in for the marts, and record it, in one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
        conn.execute(f"drop schema if exists {RETIRED} cascade")
        if conn.execute("select to_regnamespace(%s)", (PUBLISHED,)).fetchone()[0] is not None:
            conn.execute(f"alter schema {PUBLISHED} rename to {RETIRED}")
        conn.execute(f"alter schema {BUILD} rename to {PUBLISHED}")
        conn.execute("insert into audit.mart_builds (run_id, project_fingerprint, full_refresh, "
                     "published_at) values (%s, %s, %s, now())",
                     (run_id, project_fingerprint, full_refresh))
    # Apart: analysts already read the new build; this only waits for the old one's readers.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {RETIRED} cascade")
    log.info("the new build of the marts is published")
