"""The version of the warehouse's own schemas (audit, landing, raw, dq), kept by Alembic.

Revisions live in mfc/migrations/versions; `mfc db upgrade` applies them and `mfc db current`
says where a warehouse stands. A new, empty database is brought to the latest revision by its
first run; any other database at a revision other than this release's is refused until the
operator upgrades it, so a release never changes a warehouse's tables behind anyone's back.

Roles are not here: they belong to the server, not to one database (mfc.access makes them, and
the grants, on every run).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from mfc import config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
VERSION_TABLE_SCHEMA = "audit"
# The last release before versioned migrations made these tables without a version table.
BEFORE_MIGRATIONS = "before migrations"


@dataclass(frozen=True)
class Version:
    current: str | None     # a revision, BEFORE_MIGRATIONS, or None for an empty database
    head: str               # this release's revision

    @property
    def is_current(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.current is None:
            return f"empty (this release: {self.head})"
        known = self.current in history_ids() or self.current == BEFORE_MIGRATIONS
        note = "" if known else ", newer than this release knows"
        return f"{self.current}{note} (this release: {self.head})"


def _alembic_config():
    from alembic.config import Config

    alembic = Config()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    return alembic


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def history() -> list[tuple[str, str]]:
    """(revision, first line of its description), oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    oldest_first = reversed(list(scripts.walk_revisions()))
    return [(s.revision, (s.doc or "").splitlines()[0]) for s in oldest_first]


def history_ids() -> set[str]:
    return {revision for revision, _ in history()}


def version(url: str) -> Version:
    with psycopg.connect(url) as conn:
        table = conn.execute("select to_regclass(%s)",
                             (f"{VERSION_TABLE_SCHEMA}.{VERSION_TABLE}",)).fetchone()[0]
        if table is not None:
            row = conn.execute(f"select version_num from {table}").fetchone()
            return Version(row[0] if row else None, head())
        made_before = conn.execute("select to_regclass('audit.submissions')").fetchone()[0]
    return Version(BEFORE_MIGRATIONS if made_before else None, head())


def upgrade(url: str, revision: str = "head") -> Version:
    """Apply every revision up to `revision`, in one transaction; a second upgrade at the same
    time waits for the first."""
    from alembic import command
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from mfc.warehouse import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("select pg_advisory_xact_lock(hashtext('mfc.schema'))"))
            conn.execute(text(f"create schema if not exists {VERSION_TABLE_SCHEMA}"))
            alembic = _alembic_config()
            alembic.attributes["connection"] = conn
            command.upgrade(alembic, revision)
    finally:
        engine.dispose()
    return version(url)


def require_current(url: str, create: bool = True) -> None:
    """Go on only at this release's revision. With create, an empty database is first brought
    to it (a new warehouse); any other mismatch is one line telling the operator what to do."""
    from mfc.warehouse import where

    found = version(url)
    if found.current is None and create:
        found = upgrade(url)
    if found.is_current:
        return
    if found.current is None:
        raise config.ConfigurationError(
            f"the warehouse at {where(url)} has no tables yet: run `mfc db upgrade` first")
    if found.current == BEFORE_MIGRATIONS or found.current in history_ids():
        raise config.ConfigurationError(
            f"the warehouse at {where(url)} is at schema version {found.current}; this release "
            f"needs {found.head}: back it up, then run `mfc db upgrade` (docs/operations.md)")
    raise config.ConfigurationError(
        f"the warehouse at {where(url)} is at schema version {found.current}, which this "
        f"release does not know (it needs {found.head}): run the release that upgraded it")


# Used by the revisions: SQL as written, through the driver, so that psycopg, not SQLAlchemy,
# reads it (no bind-parameter parsing of ':' or '%' in function bodies).

def run_sql(statements: str) -> None:
    from alembic import op

    op.get_bind().connection.driver_connection.execute(statements)


def run_sql_file(name: str) -> None:
    run_sql((MIGRATIONS / "versions" / name).read_text())
