"""The warehouse's roles and who reads what (docs/security.md), made by the warehouse itself.

Group roles are cluster-wide and made once; each returning authority (every council of the
register, every police force) gets a login role that is a member of mfc_authority, recorded in
audit.authority_logins for row-level security. The grants and policies (sql/access.sql) are
per database and applied on every run: re-running changes nothing.
"""

from __future__ import annotations

from importlib import resources

import psycopg
from psycopg import sql

from mfc.config import ConfigurationError

GROUP_ROLES = ("mfc_loader", "mfc_transformer", "mfc_analyst", "mfc_publisher", "mfc_authority")
AUTHORITY_ROLE_PREFIX = "mfc_authority_"


def authority_role(code: str) -> str:
    """The login role of the authority (council GSS code or police force area code)."""
    return AUTHORITY_ROLE_PREFIX + code.lower()


def returning_authorities() -> dict[str, str]:
    """Every body that sends returns: code -> name (councils of the register, police forces)."""
    from mfc.geography import AuthorityRegister
    from mfc.returns.police import force_codes

    councils = {a.gss_code: a.name for a in AuthorityRegister.from_seed()}
    return councils | force_codes()


def _create_role(conn: psycopg.Connection, statement: sql.Composable) -> None:
    """Create a role; another database's first run may be making the same one at this moment."""
    try:
        conn.execute(statement)
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass
    except psycopg.errors.InsufficientPrivilege:
        user = conn.execute("select current_user").fetchone()[0]
        raise ConfigurationError(
            f"the warehouse role {user} cannot create the warehouse's roles: run the first "
            "`mfc run` as a role with CREATEROLE (see docs/security.md)") from None


def ensure_roles(conn: psycopg.Connection) -> None:
    """Make the group roles and one login per returning authority, where absent (autocommit)."""
    authorities = returning_authorities()
    wanted = [*GROUP_ROLES, *(authority_role(code) for code in authorities)]
    existing = {r[0] for r in conn.execute(
        "select rolname from pg_roles where rolname = any(%s)", (wanted,))}
    for role in GROUP_ROLES:
        if role not in existing:
            _create_role(conn, sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    for code in authorities:
        role = authority_role(code)
        if role not in existing:
            # No password: an operator sets one (or maps a certificate) when the body is given
            # access; until then the role cannot log in over the network.
            _create_role(conn, sql.SQL("create role {} login in role mfc_authority").format(
                sql.Identifier(role)))
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("create temp table wanted_logins (like audit.authority_logins) "
                    "on commit drop")
        with cur.copy("copy wanted_logins from stdin") as copy:
            for code, name in authorities.items():
                copy.write_row((authority_role(code), code, name))
        cur.execute("""
            insert into audit.authority_logins
            select * from wanted_logins
            on conflict (role_name) do update
                set authority_gss = excluded.authority_gss,
                    authority_name = excluded.authority_name
                where (authority_logins.authority_gss, authority_logins.authority_name)
                    is distinct from (excluded.authority_gss, excluded.authority_name)""")


def apply_grants(conn: psycopg.Connection) -> None:
    """Grant each role what it reads, and the row-level security of authorities."""
    conn.execute(resources.files("mfc").joinpath("sql/access.sql").read_text())
    grant_on_marts_schema(conn, "marts")


# Who may use a schema of marts: the published one, and each night's build before it replaces
# it (mfc.mart_builds), so that the swap changes nobody's access. dbt grants each table.
_MARTS_SCHEMA_GRANTS = (
    "revoke all on schema {schema} from public",
    "grant usage on schema {schema} to mfc_loader, mfc_analyst, mfc_authority",
    "grant usage, create on schema {schema} to mfc_transformer",
)


def grant_on_marts_schema(conn: psycopg.Connection, schema: str) -> None:
    for statement in _MARTS_SCHEMA_GRANTS:
        conn.execute(sql.SQL(statement).format(schema=sql.Identifier(schema)))
