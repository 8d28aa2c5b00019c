"""dbt builds incrementally by submission: two nights (the second with a corrected council
return, which replaces the first one's rows) give exactly the tables a full rebuild gives.

Real PostgreSQL, real gate, real dbt; its own database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import gate_waiting, query

from mfc import config, landing
from mfc.synth import write

AUTHORITIES = {"E06000001", "E06000002", "E06000004"}  # Hartlepool, Middlesbrough, Stockton
BUILT = ("intermediate.int_council_periods", "intermediate.int_police_incidents",
         "marts.fct_missing_incidents", "marts.dim_children",
         "marts.agg_missing_by_authority_year", "marts.agg_missing_by_area_period")


def dbt(monkeypatch, tmp_path: Path, *flags: str) -> None:
    from dbt.cli.main import dbtRunner

    # export_dbt_env() writes os.environ; setting the names here first makes pytest restore them.
    for name in config.dbt_target(config.require_warehouse_url()).as_env():
        monkeypatch.setenv(name, "")
    config.export_dbt_env()
    project = str(config.dbt_project_dir())
    result = dbtRunner().invoke([
        "build", "--exclude-resource-type", "test", "unit_test", *flags,
        "--project-dir", project, "--profiles-dir", project,
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        "--quiet"])
    assert result.success, result.exception


def snapshot(url: str) -> dict[str, list]:
    return {table: query(url, f"select * from {table} order by 1, 2, 3") for table in BUILT}


def night(url: str, folder: Path) -> None:
    landing.register_all(url, folder)
    gate_waiting(url, "police")
    gate_waiting(url, "council")


def test_incremental_builds_equal_a_full_rebuild(warehouse_url, monkeypatch, tmp_path):
    nation = tmp_path / "synth"
    write.synthesise(write.Options(nation, 11, range(2023, 2025), AUTHORITIES, 0.3, 0.0,
                                   progress=False))
    # Night 1: the 2022-23 returns and the police months to March 2023.
    first = tmp_path / "night1"
    for path in (nation / "landing").rglob("*.csv"):
        relative = path.relative_to(nation / "landing")
        if "2022-23" in relative.parts or (relative.parts[0] == "police"
                                           and relative.stem < "2023-04"):
            (first / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, first / relative)
    night(warehouse_url, first)
    dbt(monkeypatch, tmp_path)
    periods_night1 = query(warehouse_url, "select count(*) from intermediate.int_council_periods")
    oids = "select 'intermediate.int_council_periods'::regclass::oid, " \
           "'intermediate.int_police_incidents'::regclass::oid"
    tables_night1 = query(warehouse_url, oids)

    # Night 2: everything, and Middlesbrough's 2022-23 return again with its last period gone.
    second = tmp_path / "night2"
    shutil.copytree(nation / "landing", second)
    corrected = next((second / "council").glob("*/2022-23/missing.csv"))
    lines = corrected.read_text().splitlines(keepends=True)
    corrected.write_text("".join(lines[:-1]))
    night(warehouse_url, second)
    assert query(warehouse_url, "select count(*) from audit.submissions "
                                "where status = 'superseded'") == [(1,)]
    dbt(monkeypatch, tmp_path)
    incremental = snapshot(warehouse_url)
    assert query(warehouse_url, oids) == tables_night1  # added to, not rebuilt

    dbt(monkeypatch, tmp_path, "--full-refresh")
    assert query(warehouse_url, oids) != tables_night1  # rebuilt whole
    assert snapshot(warehouse_url) == incremental
    # The corrected return's rows replaced the earlier ones (none of the superseded).
    loaded = query(warehouse_url, "select count(*) from raw.council_missing join "
                                  "audit.submissions using (submission_id) where status = 'loaded'")
    assert query(warehouse_url, "select count(*) from intermediate.int_council_periods") == loaded
    assert loaded[0][0] > periods_night1[0][0] > 0
    assert query(warehouse_url, "select count(*) from intermediate.int_council_periods p "
                                "join audit.submissions s on s.submission_id = "
                                "p.council_submission_id where s.status <> 'loaded'") == [(0,)]
