"""The warehouse's schema version (Alembic): a new database is brought to this release's
revision by its first run; a warehouse made by the release before migrations, or at any other
revision, is refused until `mfc db upgrade`, which keeps its data. Real PostgreSQL, real Alembic.
"""

from __future__ import annotations

import psycopg
import pytest
from helpers import create_database, drop_database, query

from mfc import cli, config, schema, warehouse


@pytest.fixture
def previous_release(server_url, monkeypatch):
    """A warehouse as the last release before migrations left it, holding one submission."""
    url = create_database(server_url)
    monkeypatch.setenv("MFC_WAREHOUSE_URL", url)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            # That release applied this file, unversioned, at the start of every run.
            conn.execute((schema.MIGRATIONS / "versions" / "0001_baseline.sql").read_text())
            conn.execute("insert into audit.submissions (source, authority_as_delivered, "
                         "collection_year, fileset_sha256, landing_path) "
                         "values ('council', '806', '2023-24', 'abc', '/landing/806')")
            conn.execute("insert into audit.mart_builds (run_id, project_fingerprint) "
                         "values ('before', 'f')")
        yield url
    finally:
        drop_database(server_url, url)


def test_a_new_warehouse_is_made_at_this_release(warehouse_url):
    assert schema.version(warehouse_url).current == schema.head() == "0002"
    assert query(warehouse_url, "select version_num from audit.alembic_version") == [("0002",)]
    # The latest revision's change is there.
    assert query(warehouse_url, "select count(*) from information_schema.columns where "
                 "table_schema = 'audit' and table_name = 'mart_builds' and "
                 "column_name = 'published_at'") == [(1,)]


def test_the_revisions_form_one_line_from_the_baseline():
    assert schema.history() == [
        ("0001", "The schema of the last release before versioned migrations "
                 "(0001_baseline.sql)."),
        ("0002", "Marts are built aside and published in one transaction: record when each "
                 "build went live."),
    ]


def test_a_previous_release_warehouse_is_refused_then_upgraded(previous_release, capsys):
    url = previous_release
    assert schema.version(url).current == schema.BEFORE_MIGRATIONS
    with pytest.raises(config.ConfigurationError,
                       match=r"is at schema version before migrations; this release needs "
                             r"0002: back it up, then run `mfc db upgrade`"):
        warehouse.ensure_schema(url)
    assert cli.main(["db", "current"]) == 1
    assert "schema version before migrations (this release: 0002)" in capsys.readouterr().out

    assert cli.main(["db", "upgrade"]) == 0
    assert "from before migrations to 0002" in capsys.readouterr().out
    assert schema.version(url).is_current
    # Its data is kept, and the new column is there beside it.
    assert query(url, "select authority_as_delivered, collection_year from audit.submissions") \
        == [("806", "2023-24")]
    assert query(url, "select run_id, published_at from audit.mart_builds") == [("before", None)]
    warehouse.ensure_schema(url)  # the pipeline goes on now
    assert cli.main(["db", "current"]) == 0
    assert cli.main(["db", "upgrade"]) == 0
    assert "already at 0002" in capsys.readouterr().out


def test_a_warehouse_from_a_later_release_is_refused(warehouse_url, capsys):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("update audit.alembic_version set version_num = '0099'")
    with pytest.raises(config.ConfigurationError,
                       match="is at schema version 0099, which this release does not know"):
        warehouse.ensure_schema(warehouse_url)
    assert cli.main(["db", "current"]) == 1
    assert "0099, newer than this release knows (this release: 0002)" in capsys.readouterr().out
