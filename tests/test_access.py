"""Who reads what (docs/security.md), proved by connecting as each role to a warehouse built by
the real gate and a real dbt build run as the transformer role itself.

Middlesbrough's return loads; Hartlepool's is quarantined (a date of birth in the wrong form);
Cleveland Police sends a month of incidents of both authorities' children.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import psycopg
import pytest
from helpers import (
    CLEVELAND,
    create_database,
    deliver,
    deliver_police,
    drop_database,
    gate_waiting,
    good_tables,
    query,
)
from psycopg.conninfo import make_conninfo

from mfc import access, config, landing, warehouse

MIDDLESBROUGH, HARTLEPOOL = "E06000002", "E06000001"
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "analyst-guide.md"

# FORCE, INCIDENT_REF, PERSON_REF, DOB, AGE, SEX, REPORTED_MISSING, FOUND, RISK, LOOKED_AFTER,
# RESPONSIBLE_LA, PLACEMENT_DISTRICT, FOUND_DISTRICT
POLICE_ROWS = [
    [CLEVELAND, "C-2024-101", "PER-1", "14/05/2009", "", "F", "03/03/2024 22:15",
     "04/03/2024 07:40", "MEDIUM", "Y", "Middlesbrough", "TS1", "TS3"],
    [CLEVELAND, "C-2024-102", "PER-2", "02/02/2010", "", "M", "15/03/2024 16:05",
     "15/03/2024 21:30", "LOW", "Y", "Hartlepool", "TS24", "TS25"],
]


def as_role(url: str, user: str) -> str:
    return make_conninfo(url, user=user)


def read(url: str, sql: str, *params) -> list[tuple]:
    return query(url, sql, *params)


def denied(url: str, sql: str) -> bool:
    try:
        query(url, sql)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    """A warehouse gated and built by dbt as the transformer; login roles for the group roles
    (the authorities' logins are the warehouse's own)."""
    from helpers import dbt_build

    url = create_database(server_url)
    tmp = tmp_path_factory.mktemp("access")
    suffix = uuid.uuid4().hex[:8]
    logins = {group: f"{group}_test_{suffix}" for group in
              ("mfc_loader", "mfc_transformer", "mfc_analyst", "mfc_publisher")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFC_WAREHOUSE_URL", url)
        patch.setenv("MFC_ARCHIVE_DIR", str(tmp / "archive"))
        warehouse.ensure_schema(url)
        with psycopg.connect(server_url, autocommit=True) as admin:
            for group, login in logins.items():
                admin.execute(f"create role {login} login in role {group}")
        good = deliver(tmp / "landing", authority="806")
        spoilt = good_tables()
        spoilt["header"][0]["DOB"] = "2010-01-05"
        deliver(tmp / "landing", spoilt, authority="805")
        deliver_police(tmp, "2024-03", POLICE_ROWS)
        landing.register_all(url, good)  # all three deliveries
        statuses = {o.status for o in gate_waiting(url, "council")}
        statuses |= {o.status for o in gate_waiting(url, "police")}
        assert statuses == {"loaded", "quarantined"}
        dbt_build(as_role(url, logins["mfc_transformer"]), tmp, patch, "build")
        yield url, logins
    drop_database(server_url, url)
    with psycopg.connect(server_url, autocommit=True) as admin:
        for login in logins.values():
            admin.execute(f"drop role if exists {login}")


def test_every_returning_authority_has_a_login_in_the_authority_group(built):
    url, _ = built
    logins = dict(read(url, "select authority_gss, role_name from audit.authority_logins"))
    assert logins[MIDDLESBROUGH] == "mfc_authority_e06000002"
    assert logins[CLEVELAND] == "mfc_authority_e23000013"
    assert len(logins) == len(access.returning_authorities())
    members = read(url, "select count(*) from pg_auth_members m "
                        "join pg_roles g on g.oid = m.roleid and g.rolname = 'mfc_authority' "
                        "join audit.authority_logins l on l.role_name = "
                        "(select rolname from pg_roles where oid = m.member)")
    assert members == [(len(logins),)]


def test_no_role_but_the_loader_can_read_a_date_of_birth_or_a_failing_value(built):
    url, logins = built
    sensitive = read(url, """
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema not in ('pg_catalog', 'information_schema')
            and (column_name in ('dob', 'mc_dob', 'dob_date', 'child', 'upn', 'person_ref')
                 or (table_schema, table_name, column_name) in
                    (('dq', 'failing_rows', 'values'), ('dq', 'check_results', 'examples')))""")
    assert ("raw", "council_header", "dob") in sensitive
    assert ("landing", "police_incidents", "person_ref") in sensitive
    readers = [logins["mfc_transformer"], logins["mfc_analyst"], logins["mfc_publisher"],
               "mfc_authority_e06000002", "mfc_authority_e23000013"]
    for role in readers:
        readable = [column for column in sensitive if read(
            url, "select has_column_privilege(%s, format('%%I.%%I', %s::text, %s::text), %s, "
                 "'select')", role, *column)[0][0]]
        assert readable == [], role
    loader = as_role(url, logins["mfc_loader"])
    assert read(loader, "select count(dob) from raw.council_header") == [(3,)]


def test_the_transformer_builds_the_marts_from_what_it_may_read(built):
    url, logins = built
    transformer = as_role(url, logins["mfc_transformer"])
    assert denied(transformer, "select dob from raw.council_header")
    assert denied(transformer, "select examples from dq.check_results")
    assert denied(transformer, "select * from landing.council_header")
    # The fixture's dbt build ran as this role: the marts are its own.
    owners = read(url, "select distinct tableowner from pg_tables where schemaname = 'marts'")
    assert owners == [(logins["mfc_transformer"],)]
    assert read(url, "select count(*) from marts.fct_missing_incidents") == [(5,)]


def test_an_analyst_reads_the_marts_audit_and_results_but_no_row_values(built):
    url, logins = built
    analyst = as_role(url, logins["mfc_analyst"])
    assert read(analyst, "select count(*) from marts.fct_missing_incidents") == [(5,)]
    assert read(analyst, "select count(*) from marts.dim_children") == \
        read(url, "select count(*) from marts.dim_children")
    assert read(analyst, "select source, status from audit.submissions order by 1, 2") == [
        ("council", "loaded"), ("council", "quarantined"), ("police", "loaded")]
    failed = read(analyst, "select check_id, unexpected_count from dq.check_results "
                           "where result = 'FAIL'")
    assert failed and all(count >= 1 for _, count in failed)
    assert read(analyst, "select file_name, line_no from dq.failing_rows") != []
    for sql in ('select "values" from dq.failing_rows', "select examples from dq.check_results",
                "select * from raw.council_header", "select * from landing.council_missing",
                "select * from staging.stg_council__headers",
                "select * from intermediate.int_identities"):
        assert denied(analyst, sql), sql
    # Every query of the analyst guide runs as an analyst.
    blocks = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 5
    for block in blocks:
        query(analyst, block)


def test_a_publisher_reads_the_published_schema_only(built):
    url, logins = built
    publisher = as_role(url, logins["mfc_publisher"])
    assert read(publisher, "select has_schema_privilege('published', 'usage')") == [(True,)]
    for sql in ("select * from marts.fct_missing_incidents", "select * from audit.submissions",
                "select check_id from dq.check_results", "select * from reference.authorities"):
        assert denied(publisher, sql), sql


def test_an_authority_sees_its_own_submissions_results_and_children_only(built):
    url, _ = built
    middlesbrough = as_role(url, "mfc_authority_e06000002")
    hartlepool = as_role(url, "mfc_authority_e06000001")
    cleveland = as_role(url, "mfc_authority_e23000013")

    assert read(middlesbrough, "select authority_gss, status from audit.submissions") == [
        (MIDDLESBROUGH, "loaded")]
    assert read(hartlepool, "select authority_gss, status from audit.submissions") == [
        (HARTLEPOOL, "quarantined")]
    assert read(cleveland, "select authority_gss, source from audit.submissions") == [
        (CLEVELAND, "police")]
    own = read(url, "select submission_id from audit.submissions "
                    "where authority_gss = %s", HARTLEPOOL)
    assert read(hartlepool, "select distinct submission_id from dq.check_results") == own
    assert read(middlesbrough, "select count(*) from dq.check_results where submission_id = %s",
                own[0][0]) == [(0,)]

    # The quarantined return's failing rows, its own, with the child's identifiers withheld.
    rows = read(hartlepool, 'select file_name, line_no, "values" from dq.authority_failing_rows')
    assert ("header.csv", 2) in {(file, line) for file, line, _ in rows}
    shown = [values for _, _, values in rows if "DOB" in values or "CHILD" in values]
    assert shown and all(values.get("DOB", "(withheld)") == "(withheld)"
                         and values.get("CHILD", "(withheld)") == "(withheld)"
                         for values in shown)
    # Middlesbrough's loaded return warned on a row: it sees that row, and not Hartlepool's.
    assert read(middlesbrough, "select submission_id, count(*) from dq.authority_failing_rows "
                               "group by 1") == read(
        url, "select submission_id, count(*) from dq.failing_rows join audit.submissions "
             "using (submission_id) where authority_gss = %s group by 1", MIDDLESBROUGH)
    assert denied(hartlepool, "select * from dq.failing_rows")

    # Its own children's incidents in the marts, and nobody else's.
    for login, gss in ((middlesbrough, MIDDLESBROUGH), (hartlepool, HARTLEPOOL)):
        seen = read(login, "select responsible_authority_gss, count(*) "
                           "from marts.fct_missing_incidents group by 1")
        assert seen == read(url, "select responsible_authority_gss, count(*) from "
                                 "marts.fct_missing_incidents where responsible_authority_gss "
                                 "= %s group by 1", gss)
        assert read(login, "select count(*) from marts.dim_children") == read(
            url, "select count(distinct child_id) from marts.fct_missing_incidents "
                 "where responsible_authority_gss = %s", gss)
        assert {r[0] for r in read(login, "select authority_gss "
                                          "from marts.agg_missing_by_authority_year")} <= {gss}
    assert read(middlesbrough, "select count(*) from marts.fct_missing_incidents") == [(4,)]
    assert read(cleveland, "select force_code, count(*) from marts.fct_missing_incidents "
                           "group by 1") == [(CLEVELAND, 2)]
    # Reference data is shared; the rest is not theirs to read.
    assert read(hartlepool, "select count(*) from marts.dim_authorities "
                            "where authority_gss = %s", MIDDLESBROUGH) == [(1,)]
    for sql in ("select * from raw.council_missing", "select * from staging.stg_audit__submissions",
                "select * from marts.agg_missing_by_area_period"):
        assert denied(hartlepool, sql), sql


def test_a_run_needs_a_key_of_its_own_and_the_warehouse_keeps_its_fingerprint(
        built, monkeypatch, tmp_path, capsys):
    from mfc import cli

    url, _ = built
    for value, says in ((None, "is not set"), ("", "is not set"), ("short", "at least 16"),
                        (config.DEMO_PSEUDONYMISATION_KEY, "only `mfc demo`")):
        if value is None:
            monkeypatch.delenv("MFC_PSEUDONYMISATION_KEY", raising=False)
        else:
            monkeypatch.setenv("MFC_PSEUDONYMISATION_KEY", value)
        with pytest.raises(config.ConfigurationError, match=re.escape(says)):
            config.pseudonymisation_key()
    monkeypatch.setenv("MFC_PSEUDONYMISATION_KEY", "test-key-not-secret")
    warehouse.check_key(url, record=True)
    fingerprint = config.key_fingerprint(b"test-key-not-secret")
    assert read(url, "select fingerprint from audit.warehouse_key") == [(fingerprint,)]
    assert "test-key-not-secret" not in fingerprint

    # Another key on this warehouse: `mfc run` stops at once with one line, no traceback.
    monkeypatch.setenv("MFC_PSEUDONYMISATION_KEY", "another-key-entirely")
    monkeypatch.setenv("MFC_WAREHOUSE_URL", url)
    (tmp_path / "landing" / "council").mkdir(parents=True)
    assert cli.main(["run", "--landing", str(tmp_path / "landing")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not the key this warehouse was loaded with" in error
    assert fingerprint in error and "another-key-entirely" not in error
    assert "Traceback" not in error
