"""`mfc check`: a return checked before it is sent gets the nightly run's verdict and failing
rows, and nothing is stored or sent.

The checks run as a data officer runs them (cli.main, the embedded PostgreSQL under a state
folder of the module's own); the nightly run they are held to is the real gate on the test
server, over the same files.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from pathlib import Path

import pytest
from helpers import (
    CLEVELAND,
    TABLES,
    create_database,
    deliver,
    deliver_aggregate,
    deliver_police,
    drop_database,
    good_tables,
    query,
    register_and_gate,
)

from mfc import cli, config, warehouse

GOOD_POLICE = [CLEVELAND, "C-2024-001", "PER-1", "14/05/2009", "", "F", "03/03/2024 22:15",
               "04/03/2024 07:40", "MEDIUM", "Y", "E06000065", "TS1", "TS3"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """No warehouse configured; the embedded server's state in a folder of the module's own."""
    state = tmp_path_factory.mktemp("check") / "state"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MFC_WAREHOUSE_URL", raising=False)
        patch.delenv("MFC_CONFIG", raising=False)
        patch.setenv("MFC_STATE_DIR", str(state))
        patch.chdir(tmp_path_factory.mktemp("cwd"))  # no ./mfc.toml; the report goes here
        yield patch
    warehouse.stop_embedded(state)


def defective() -> dict[str, list[dict[str, str]]]:
    """Three defects: SEX 3 on header line 3; on missing.csv, line 2's period overlaps line 3's
    (the same child, 01-04/05 and 02-06/05/2023) and line 4 starts on 31/02/2024."""
    tables = good_tables()
    tables["header"][1]["SEX"] = "3"
    first, second = tables["missing"][0], tables["missing"][1]
    tables["missing"][0] = dict(first, MIS_START="01/05/2023")
    tables["missing"].insert(1, dict(first, MIS_START="02/05/2023", MIS_END="06/05/2023"))
    tables["missing"][2] = dict(second, MIS_START="31/02/2024")
    return tables


def run_check(path: Path, *args: str, report: Path) -> tuple[int, str]:
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        code = cli.main(["check", str(path), "--report", str(report), *args])
    return code, out.getvalue()


def csv_rows(data: bytes | str) -> list[tuple[str, ...]]:
    """failing_rows.csv as a sorted list of (check, result, file, line, column, value)."""
    text = data.decode() if isinstance(data, bytes) else data
    return sorted((r["check_id"], r["result"], r["file"], r["line"], r["column"], r["value"])
                  for r in csv.DictReader(io.StringIO(text)))


def nightly(server_url: str, landing: Path, source: str = "council",
            tmp: Path | None = None) -> tuple[str, list[tuple[str, ...]]]:
    """The nightly gate over the same files, in a database of its own: the status and the
    failing rows as the authority's CSV has them."""
    from mfc.reports import failing_rows

    url = create_database(server_url)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MFC_WAREHOUSE_URL", url)
            patch.setenv("MFC_ARCHIVE_DIR", str(tmp or landing.parent) + "/archive")
            patch.setenv("MFC_PSEUDONYMISATION_KEY", "a-test-key-of-some-length")
            warehouse.ensure_schema(url)
            [outcome] = register_and_gate(url, landing, source)
            import psycopg

            out = (tmp or landing.parent) / f"nightly-{outcome.submission_id}.csv"
            with psycopg.connect(url) as conn:
                failing_rows.write(conn, outcome.submission_id, out)
            # Cross-submission checks read the warehouse's other returns: the check without a
            # warehouse has none to read, so they are compared where one is configured.
            rows = [r for r in csv_rows(out.read_bytes()) if not r[0].startswith("mfc.submission.")]
            return outcome.status, rows
    finally:
        drop_database(server_url, url)


def test_a_clean_return_passes_with_exit_0_and_the_report_written(env, tmp_path):
    landing = deliver(tmp_path / "landing")
    code, printed = run_check(landing / "council" / "806" / "2023-24", report=tmp_path / "r")
    assert code == 0
    assert printed.splitlines()[0] == ("PASS: this council return would be loaded, with 1 "
                                       "warning(s) to look at.")
    page = (tmp_path / "r" / "index.html").read_text()
    assert "Middlesbrough" in page and "Would be loaded" in page
    # The one warning: T002's period still open at the year end (missing.csv line 4).
    assert [r[:4] for r in csv_rows((tmp_path / "r" / "failing_rows.csv").read_bytes())] == [
        ("mfc.missing.open_at_year_end", "WARNING", "missing.csv", "4")] * 2


def test_defects_give_exit_1_and_the_nightly_run_s_failing_rows(env, server_url, tmp_path):
    landing = deliver(tmp_path / "landing", defective())
    code, printed = run_check(landing / "council" / "806" / "2023-24", report=tmp_path / "r")
    assert code == 1
    assert printed.splitlines()[0] == ("WOULD BE QUARANTINED: 3 blocking check(s) failed; this "
                                       "council return would not be loaded.")
    assert "header.csv line 3: SEX '3'" in printed
    assert "missing.csv line 4: MIS_START '31/02/2024'" in printed
    assert "How to fix:" in printed
    checked = csv_rows((tmp_path / "r" / "failing_rows.csv").read_bytes())
    status, expected = nightly(server_url, landing, tmp=tmp_path)
    assert status == "quarantined"
    assert checked == expected
    assert ("mfc.header.sex", "FAIL", "header.csv", "3", "SEX", "3") in checked
    assert ("1004", "FAIL", "missing.csv", "4", "MIS_START", "31/02/2024") in checked
    assert ("574", "FAIL", "missing.csv", "2", "MIS_START", "01/05/2023") in checked


def dfe_export(folder: Path, tables: dict[str, list[dict[str, str]]]) -> None:
    """The return as DfE's SSDA903 export writes it: its own file names, the columns in another
    order, a byte order mark and Windows line ends."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = list(reversed(TABLES[name].columns))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        path = folder / f"SSDA903_2023-24_{name.capitalize()}.csv"
        path.write_bytes(codecs.BOM_UTF8 + out.getvalue().encode())
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 3600))


def test_a_dfe_export_gets_the_same_verdict_and_rows_as_the_nightly_run(env, server_url,
                                                                         tmp_path):
    landing = tmp_path / "landing"
    folder = landing / "council" / "Middlesbrough" / "2023-24"
    dfe_export(folder, defective())
    code, printed = run_check(folder, report=tmp_path / "r")
    checked = csv_rows((tmp_path / "r" / "failing_rows.csv").read_bytes())
    status, expected = nightly(server_url, landing, tmp=tmp_path)
    assert (code, status) == (1, "quarantined")
    assert checked == expected
    # The byte order mark is said, not held against the file; the lines are as delivered.
    assert ("mfc.header.sex", "FAIL", "SSDA903_2023-24_Header.csv", "3", "SEX", "3") in checked
    assert any(r[0] == "mfc.file.bom" for r in checked)


def test_the_folder_names_can_be_given_and_a_bad_one_is_a_finding(env, tmp_path):
    export = tmp_path / "export from the case system"
    dfe_export(export, good_tables())
    code, printed = run_check(export, "--authority", "E06000002", "--year", "2023-24",
                              report=tmp_path / "r")
    assert code == 0, printed
    code, printed = run_check(export, "--authority", "Atlantis", "--year", "2023-24",
                              report=tmp_path / "r2")
    assert code == 1
    assert "mfc.authority.known" in printed


def test_police_and_aggregate_files_are_checked_as_the_nightly_run_checks_them(
        env, server_url, tmp_path):
    bad = list(GOOD_POLICE)
    bad[5] = "X"  # SEX
    landing = deliver_police(tmp_path, "2024-03", [GOOD_POLICE, bad])
    month = landing / "police" / CLEVELAND / "2024-03.csv"
    code, printed = run_check(month, report=tmp_path / "r")
    checked = csv_rows((tmp_path / "r" / "failing_rows.csv").read_bytes())
    status, expected = nightly(server_url, landing, "police", tmp_path)
    assert (code, status) == (1, "quarantined")
    assert checked == expected and any(r[2:] == ("2024-03.csv", "3", "SEX", "X")
                                       for r in checked)

    figures = deliver_aggregate(tmp_path / "agg", [
        ["Middlesbrough", "01/04/2023", "31/03/2024", "children_missing", "120", "", ""]])
    answer = figures / "aggregate" / "foi-2024-0412" / "answer.csv"
    code, printed = run_check(answer, report=tmp_path / "r3")
    status, expected = nightly(server_url, figures, "aggregate", tmp_path / "agg")
    assert (code, status) == (0, "loaded")
    assert csv_rows((tmp_path / "r3" / "failing_rows.csv").read_bytes()) == expected


def test_what_cannot_be_checked_exits_2_with_one_line(env, tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mfc check: could not check {tmp_path / 'nowhere'}: {tmp_path / 'nowhere'} does not "
        "exist")
    (tmp_path / "header.csv").write_text("CHILD\n")
    assert cli.main(["check", str(tmp_path / "header.csv"), "--kind", "council"]) == 2
    assert "a council return is a folder" in capsys.readouterr().err


def snapshot(url: str) -> dict[str, str]:
    """Every table of the warehouse, as a digest of its rows: equal only if nothing changed."""
    tables = query(url, "select schemaname, tablename from pg_tables where schemaname in "
                        "('audit', 'landing', 'raw', 'dq') order by 1, 2")
    return {f"{s}.{t}": query(url, f"select count(*) || ':' || coalesce(md5(string_agg("
                                   f"t::text, ',' order by t::text)), '') from {s}.{t} t")[0][0]
            for s, t in tables}


def test_a_check_reads_a_configured_warehouse_and_writes_nothing_to_it(env, server_url,
                                                                       tmp_path):
    """The loaded 2023-24 return has 3 periods; a check of a re-export with none would replace
    most of it (said, from the warehouse), and the warehouse is byte for byte as it was."""
    url = create_database(server_url)
    try:
        env.setenv("MFC_WAREHOUSE_URL", url)
        env.setenv("MFC_ARCHIVE_DIR", str(tmp_path / "archive"))
        env.setenv("MFC_PSEUDONYMISATION_KEY", "a-test-key-of-some-length")
        warehouse.ensure_schema(url)
        tables = good_tables()
        tables["missing"] = tables["missing"] * 8  # 24 periods, so that an empty one is "most"
        for i, row in enumerate(tables["missing"]):
            tables["missing"][i] = dict(row, MIS_START=f"{i + 1:02d}/05/2023",
                                        MIS_END=f"{i + 1:02d}/05/2023", CHILD="T001")
        [loaded] = register_and_gate(url, deliver(tmp_path / "loaded", tables))
        assert loaded.status == "loaded"
        before, archived = snapshot(url), sorted(config.archive_dir().rglob("*"))

        empty = dict(good_tables(), missing=[])
        landing = deliver(tmp_path / "next", empty)
        code, printed = run_check(landing / "council" / "806" / "2023-24",
                                  report=tmp_path / "r")
        assert code == 1
        assert "FAIL mfc.submission.replaces_most" in printed
        assert "the loaded return it would replace (submission " \
               f"{loaded.submission_id}) has 24" in printed
        assert snapshot(url) == before
        assert sorted(config.archive_dir().rglob("*")) == archived
        # The scratch databases are gone from the embedded server.
        scratch = query(warehouse.start_embedded(config.state_dir(), "postgres"),
                        "select datname from pg_database where datname like 'mfc_check_%%' "
                        "and datname <> 'mfc_check_template'")
        assert scratch == []
    finally:
        env.delenv("MFC_WAREHOUSE_URL")
        drop_database(server_url, url)
