"""A self-describing warehouse: every mart and column is described and under an enforced
contract, the descriptions are PostgreSQL comments (persist_docs), and `mfc docs` builds dbt's
documentation from the warehouse. Real PostgreSQL, gate and dbt; one database, built once, for
the module (a good council return through the gate, then `dbt build`).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from pathlib import Path

import pytest
import yaml
from helpers import create_database, dbt_build, deliver, drop_database, query, register_and_gate

import mfc
from mfc import cli, config, dbt_docs, warehouse

MARTS = config.dbt_project_dir() / "models" / "marts"
GUIDE = config.dbt_project_dir().parent / "docs" / "analyst-guide.md"
PUBLISH = Path(mfc.__file__).parent / "publish"
REPORTS = Path(mfc.__file__).parent / "reports"
KNOWN = ("duration_days",
         "Whole days from start to end (same day 0, overnight 1); null while open.")


def mart_yaml() -> dict[str, dict]:
    """The marts as _marts__models.yml and _dq__models.yml describe them, by name."""
    models = {}
    for path in sorted(MARTS.glob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text())["models"]:
            models[model["name"]] = model
    return models


def dbt_env_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """mfc docs exports the MFC_DBT_* variables; set them here first so that they are undone."""
    for name in config.dbt_target("postgresql://x@y/z").as_env():
        monkeypatch.setenv(name, "")


@pytest.fixture(scope="module")
def built(server_url, tmp_path_factory):
    """A warehouse with one loaded council return (Middlesbrough 2023-24) and every model built."""
    tmp = tmp_path_factory.mktemp("docs")
    url = create_database(server_url)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MFC_WAREHOUSE_URL", url)
        monkeypatch.setenv("MFC_ARCHIVE_DIR", str(tmp / "archive"))
        warehouse.ensure_schema(url)
        outcomes = register_and_gate(url, deliver(tmp / "landing"))
        assert [o.status for o in outcomes] == ["loaded"]
        dbt_build(url, tmp, monkeypatch, "build", "--exclude-resource-type", "unit_test")
        yield url
    drop_database(server_url, url)


@pytest.fixture(scope="module")
def site(built, tmp_path_factory):
    """`mfc docs --no-serve` on that warehouse: the folder it wrote."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("MFC_WAREHOUSE_URL", built)
        monkeypatch.setenv("MFC_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        dbt_env_restored(monkeypatch)
        assert cli.main(["docs", "--no-serve"]) == 0
        return dbt_docs.site_dir()


def test_mfc_docs_writes_the_catalog_and_manifest_with_descriptions(site):
    manifest = json.loads((site / "manifest.json").read_text())
    catalog = json.loads((site / "catalog.json").read_text())
    assert (site / "index.html").is_file()
    column, description = KNOWN
    fct = manifest["nodes"]["model.mfc.fct_missing_incidents"]
    assert fct["columns"][column]["description"] == description
    # The catalog is read from the database: the column's comment is the description.
    assert catalog["nodes"]["model.mfc.fct_missing_incidents"]["columns"][column]["comment"] \
        == description
    # Every mart is in the catalog, with every column the table has.
    for name in mart_yaml():
        assert f"model.mfc.{name}" in catalog["nodes"], name
    assert {"exposure.mfc.analyst_guide", "exposure.mfc.data_quality_reports",
            "exposure.mfc.official_publication"} <= set(manifest["exposures"])


def test_descriptions_are_the_column_comments_in_postgresql(built):
    comments = query(built, """
        select c.relname, a.attname, col_description(c.oid, a.attnum),
               obj_description(c.oid, 'pg_class')
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'marts'
        order by c.relname, a.attnum""")
    column, description = KNOWN
    assert query(built, "select col_description('marts.fct_missing_incidents'::regclass, "
                        "ordinal_position::int) from information_schema.columns "
                        "where table_schema = 'marts' and table_name = 'fct_missing_incidents' "
                        "and column_name = %s", column) == [(description,)]
    models = mart_yaml()
    assert {table for table, *_ in comments} == set(models)
    for table, column, comment, table_comment in comments:
        described = {c["name"]: c["description"] for c in models[table]["columns"]}
        assert comment == described[column], f"{table}.{column}"
        assert table_comment == models[table]["description"], table
    # The seeds' descriptions too (reference.authorities).
    assert query(built, "select col_description('reference.authorities'::regclass, 1)") == [
        ("ONS GSS code of the authority (E06, E08, E09, E10 or W06 and six digits).",)]


def test_every_mart_and_column_is_described_under_an_enforced_contract(built):
    models = mart_yaml()
    assert set(models) == {p.stem for p in MARTS.glob("*.sql")}
    for name, model in models.items():
        assert model.get("description", "").strip(), name
        assert model["config"]["contract"] == {"enforced": True}, name
        columns = [c["name"] for c in model["columns"]]
        # Every column of the table as built, in its order; each with a type and a description.
        assert columns == [r[0] for r in query(
            built, "select column_name from information_schema.columns where table_schema = "
                   "'marts' and table_name = %s order by ordinal_position", name)], name
        for column in model["columns"]:
            assert column.get("data_type") and column.get("description", "").strip(), \
                f"{name}.{column['name']}"


def marts_named(texts: list[str]) -> set[str]:
    return {f"model.mfc.{name}" for text in texts for name in re.findall(r"\bmarts\.(\w+)", text)}


def test_the_exposures_list_the_marts_their_sql_reads(site):
    manifest = json.loads((site / "manifest.json").read_text())

    def models(exposure: str) -> set[str]:
        nodes = manifest["exposures"][f"exposure.mfc.{exposure}"]["depends_on"]["nodes"]
        return {n for n in nodes if n.startswith("model.")}

    assert models("analyst_guide") == marts_named(
        re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), re.S))
    assert models("official_publication") == marts_named(
        [p.read_text() for p in PUBLISH.glob("*.py")])
    # The data-quality reports read the gate's results and raw rows; one page reads a mart.
    assert models("data_quality_reports") == marts_named(
        [p.read_text() for p in REPORTS.glob("*.py")]) == {"model.mfc.agg_reported_vs_measured"}


def test_the_site_is_served_on_localhost(site):
    server = dbt_docs.make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog.json", timeout=10) as r:
            assert "model.mfc.fct_missing_incidents" in json.loads(r.read())["nodes"]
    finally:
        server.shutdown()
        server.server_close()


def test_mfc_docs_says_in_one_line_when_the_marts_are_not_built(
        warehouse_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MFC_STATE_DIR", str(tmp_path / "state"))
    dbt_env_restored(monkeypatch)
    assert cli.main(["docs", "--no-serve"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    assert f"holds 0 of {len(mart_yaml())} marts" in error
    assert "run `mfc demo` or `mfc run` first" in error
    assert not (tmp_path / "state" / "dbt-docs" / "catalog.json").exists()
