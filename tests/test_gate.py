"""The council gate on crafted returns: every check fails on its bad input and passes on good.

Real PostgreSQL (COPY, SQL), real Great Expectations validations; each test its own database.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from helpers import deliver, gate_submission, good_tables, query, to_csv
from helpers import gate_council as gate
from test_council_rules import CHECKS_TESTED as RULE_CASES  # periods of care, episodes

from expectations import council as council_checks
from mfc import landing
from mfc.returns.council import EPISODES, HEADER, MISSING


def test_a_good_return_passes_every_check_and_loads(warehouse_url, tmp_path):
    outcome, results = gate(warehouse_url, deliver(tmp_path))
    assert outcome.failed_checks == []
    assert outcome.status == "loaded"
    assert {c.check_id for c in council_checks.ALL} == set(results)
    # One period is still open at the year end (a warning); no police returns, no year before.
    assert {k: r["result"] for k, r in results.items() if r["result"] != "PASS"} == {
        "mfc.missing.open_at_year_end": "WARNING",
        "mfc.submission.volume_change": "NOT_RUN",
        "mfc.submission.police_reconciliation": "NOT_RUN"}
    counts = query(warehouse_url, "select (select count(*) from raw.council_header), "
                   "(select count(*) from raw.council_episodes), "
                   "(select count(*) from raw.council_missing)")
    assert counts == [(3, 3, 3)]


def test_raw_holds_keyed_hashes_districts_and_types_not_identifiers(warehouse_url, tmp_path):
    from mfc.pseudonymise import child_identity, keyed_hash

    gate(warehouse_url, deliver(tmp_path))
    key = b"test-key-not-secret"
    header = query(warehouse_url, "select child_key, upn_key, dob::text from raw.council_header "
                                  "order by line_no")
    assert header[0] == (keyed_hash(child_identity("E06000002", "T001"), key),
                         keyed_hash("A123456789012", key), "2010-01-05")
    assert header[1][1] is None  # no UPN given, no key invented
    episodes = query(warehouse_url, "select home_postcode_district, placement_postcode_district "
                                    "from raw.council_episodes order by line_no")
    assert episodes == [("TS1", "DL3"), ("TS3", "TS5"), (None, None)]
    missing = query(warehouse_url, "select missing_type, mis_start::text, mis_end::text "
                                   "from raw.council_missing order by line_no")
    assert missing == [("M", "2023-05-03", "2023-05-04"), ("A", "2023-08-12", "2023-08-12"),
                       ("M", "2024-03-01", None)]
    # Delivered identifiers are nowhere in the database once the gate is done.
    dump = json.dumps(query(warehouse_url, "select * from raw.council_header")
                      + query(warehouse_url, "select * from landing.council_header")
                      + query(warehouse_url, "select examples from dq.check_results"),
                      default=str)
    assert "T001" not in dump and "A123456789012" not in dump


def _set(table: str, index: int, column: str, value: str):
    def spoil(tables):
        tables[table][index][column] = value
    return spoil


def _drop_column(table: str, column: str):
    spec = {"header": HEADER, "episodes": EPISODES, "missing": MISSING}[table]
    def files(tables):
        columns = [c for c in spec.columns if c != column]
        return {spec.file_name: to_csv(tables[table], columns)}
    return files


def _duplicate_first_missing(tables):
    tables["missing"].insert(1, dict(tables["missing"][0], MIS_END="05/05/2023"))


def _end_care(child_index: int, dec: str, rec: str = "E8"):
    def spoil(tables):
        tables["episodes"][child_index].update(DEC=dec, REC=rec)
    return spoil


def _both(*spoils):
    def spoil(tables):
        for each in spoils:
            each(tables)
    return spoil


def _overlap(tables):
    tables["missing"][0]["MIS_END"] = "15/08/2023"  # T001's next period starts 12/08/2023


def _open_then_again(tables):
    tables["missing"][0]["MIS_END"] = ""


def _missing_at_18(tables):
    tables["header"][1]["DOB"] = tables["missing"][2]["DOB"] = "20/03/2006"
    tables["missing"][2]["MIS_END"] = "20/03/2024"
    tables["episodes"][1].update(DEC="20/03/2024", REC="E17")


# check id -> (spoil the tables, line named, values named)
CONTENT_CASES = {
    "mfc.header.child": (_set("header", 2, "CHILD", " "), 4, {"CHILD": None}),
    "mfc.header.sex": (_set("header", 0, "SEX", "M"), 2, {"SEX": "M"}),  # M from 2024-25
    "mfc.header.dob": (_set("header", 1, "DOB", "2008-09-17"), 3, {"DOB": "2008-09-17"}),
    "mfc.header.ethnic": (_set("header", 2, "ETHNIC", "WHITE"), 4, {"ETHNIC": "WHITE"}),
    "mfc.header.mc_dob": (_set("header", 1, "MC_DOB", "30/02/2024"), 3,
                          {"MC_DOB": "30/02/2024"}),
    "mfc.episodes.child": (_set("episodes", 2, "CHILD", ""), 4, {"CHILD": None}),
    "mfc.episodes.decom": (_set("episodes", 0, "DECOM", "32/01/2020"), 2,
                           {"DECOM": "32/01/2020"}),
    "mfc.episodes.dec": (_set("episodes", 1, "DEC", "unknown"), 3, {"DEC": "unknown"}),
    "mfc.episodes.dec_before_decom": (_end_care(2, "09/10/2021"), 4,
                                      {"DECOM": "10/10/2021", "DEC": "09/10/2021"}),
    "mfc.episodes.ls": (_set("episodes", 0, "LS", "C9"), 2, {"LS": "C9"}),
    "mfc.episodes.place": (_set("episodes", 1, "PLACE", "Z11"), 3, {"PLACE": "Z11"}),
    "mfc.episodes.rec": (_end_care(2, "01/02/2024", "E99"), 4,
                         {"DEC": "01/02/2024", "REC": "E99"}),
    "mfc.missing.child": (_set("missing", 2, "CHILD", ""), 4, {"CHILD": None}),
    "mfc.missing.dob": (_set("missing", 0, "DOB", ""), 2, {"DOB": None}),
    "1004": (_set("missing", 1, "MIS_START", "12/13/2023"), 3, {"MIS_START": "12/13/2023"}),
    "1005": (_set("missing", 0, "MIS_END", "31/02/2024"), 2, {"MIS_END": "31/02/2024"}),
    "1006": (_set("missing", 2, "MISSING", "X"), 4, {"MISSING": "X"}),
    "564": (_set("missing", 1, "MIS_START", ""), 3, {"MISSING": "A", "MIS_START": None}),
    "565": (_set("missing", 2, "MISSING", ""), 4, {"MISSING": None, "MIS_START": "01/03/2024"}),
    "566": (_set("missing", 0, "MISSING", ""), 2, {"MISSING": None, "MIS_END": "04/05/2023"}),
    "567": (_set("missing", 0, "MIS_END", "01/05/2023"), 2,
            {"MIS_START": "03/05/2023", "MIS_END": "01/05/2023"}),
    "570": (_set("missing", 2, "MIS_START", "02/04/2024"), 4, {"MIS_START": "02/04/2024"}),
    "571": (_set("missing", 1, "MIS_END", "03/04/2024"), 3, {"MIS_END": "03/04/2024"}),
    # A row in conflict with another names it (CONFLICTS_WITH): the file, line and values.
    "574": (_overlap, 2, {"MIS_START": "03/05/2023", "MIS_END": "15/08/2023",
                          "CONFLICTS_WITH": "missing.csv line 3 (MIS_START 12/08/2023)"}),
    "575": (_end_care(1, "20/03/2024"), 4, {
        "MIS_START": "01/03/2024", "MIS_END": None,
        "CONFLICTS_WITH": "episodes.csv line 3 (DECOM 15/04/2023, DEC 20/03/2024)"}),
    "577": (_end_care(1, "20/03/2024"), 4, {
        "MIS_START": "01/03/2024", "MIS_END": None,
        "CONFLICTS_WITH": "episodes.csv line 3 (DEC 20/03/2024)"}),
    "578": (_both(_end_care(1, "20/03/2024"), _set("missing", 2, "MIS_END", "25/03/2024"),
                  _set("missing", 2, "MIS_START", "22/03/2024")), 4,
            {"MIS_START": "22/03/2024", "CONFLICTS_WITH": "episodes.csv line 3 (DEC 20/03/2024)"}),
    "580": (_missing_at_18, 4, {"DOB": "20/03/2006", "MIS_END": "20/03/2024",
                                "CONFLICTS_WITH": "episodes.csv line 3 (DEC 20/03/2024, REC E17)"}),
    "581": (_set("episodes", 0, "DECOM", "01/06/2023"), 2, {
        "MIS_START": "03/05/2023", "CONFLICTS_WITH": "episodes.csv line 2 (DECOM 01/06/2023)"}),
    "586": (_set("missing", 1, "DOB", "12/08/2023"), 3,
            {"DOB": "12/08/2023", "MIS_START": "12/08/2023"}),
    "mfc.missing.duplicate_period": (_duplicate_first_missing, 2, {
        "MIS_START": "03/05/2023", "CONFLICTS_WITH": "missing.csv line 3 (MIS_START 03/05/2023)"}),
    "INT04": (_set("missing", 2, "CHILD", "T999"), 4, {}),
}
# Checks that rightly fail too on a case's bad row.
ALSO_FAILS = {
    "564": {"1004"}, "566": {"565"}, "mfc.episodes.dec": {"mfc.episodes.rec"},
    # A blank CHILD in header.csv leaves that child's episodes with no child in the header.
    "mfc.header.child": {"INT03"},
    "575": {"577"}, "577": {"575"}, "578": {"575"}, "574": {"571"},
    "mfc.missing.duplicate_period": {"574"},
}


@pytest.mark.parametrize("check_id", sorted(CONTENT_CASES))
def test_each_content_check_fails_on_its_bad_row(warehouse_url, tmp_path, check_id):
    spoil, line, values = CONTENT_CASES[check_id]
    tables = good_tables()
    spoil(tables)
    outcome, results = gate(warehouse_url, deliver(tmp_path, tables))

    assert outcome.status == "quarantined"
    assert check_id in outcome.failed_checks
    assert set(outcome.failed_checks) <= {check_id} | ALSO_FAILS.get(check_id, set())
    failed = results[check_id]
    assert failed["result"] == "FAIL"
    first = failed["examples"][0]
    table = check_id.split(".")[1] if check_id.startswith("mfc.") else "missing"
    assert (first["file"], first["line"], first["values"]) == (f"{table}.csv", line, values)
    # Every failing row is kept for the authority's CSV, with the line and values.
    assert (f"{table}.csv", line, values) in query(
        warehouse_url, "select file_name, line_no, values from dq.failing_rows "
        "where check_id = %s", check_id)
    # Nothing of a quarantined submission reaches raw, and landing is emptied.
    assert query(warehouse_url, "select count(*) from raw.council_missing") == [(0,)]
    assert query(warehouse_url, "select count(*) from landing.council_missing") == [(0,)]


# The year's last day, as DfE's rules read it (domain-brief: 571 "MIS_END before start or after
# end of collection year"; 575 "if the placement the child went missing from ends, the missing
# period must have an end date"; 577 "child ceased to be looked after but has an open missing
# period"). 2023-24 ends on 31 March 2024. Case -> (spoil the tables, checks that fail).
BOUNDARY_CASES = {
    "ends on 1 April, after the year": (
        _both(_set("missing", 1, "MIS_START", "31/03/2024"),
              _set("missing", 1, "MIS_END", "01/04/2024")), {"571"}),
    "ends on 31 March": (
        _both(_set("missing", 1, "MIS_START", "31/03/2024"),
              _set("missing", 1, "MIS_END", "31/03/2024")), set()),
    "open at 31 March, still in care": (
        _set("missing", 2, "MIS_START", "31/03/2024"), set()),
    "open at 31 March, care ended 31 March": (
        _both(_set("missing", 2, "MIS_START", "31/03/2024"), _end_care(1, "31/03/2024")),
        {"575", "577"}),
    "placement ends on 31 March, the period closed that day": (
        _both(_set("missing", 2, "MIS_START", "31/03/2024"),
              _set("missing", 2, "MIS_END", "31/03/2024"), _end_care(1, "31/03/2024")), set()),
}


@pytest.mark.parametrize("case", sorted(BOUNDARY_CASES))
def test_the_year_end_boundary_is_read_as_dfe_reads_it(warehouse_url, tmp_path, case):
    spoil, failing = BOUNDARY_CASES[case]
    tables = good_tables()
    spoil(tables)
    outcome, results = gate(warehouse_url, deliver(tmp_path, tables))
    assert set(outcome.failed_checks) == failing
    assert outcome.status == ("quarantined" if failing else "loaded")
    assert {k for k, r in results.items() if r["result"] == "FAIL"} == failing


WARNING_CASES = {
    "mfc.missing.open_at_year_end": (lambda tables: None, 4,
                                     {"MIS_START": "01/03/2024", "MIS_END": None}),
    "INT13": (_set("missing", 1, "DOB", "06/01/2010"), 3, {
        "DOB": "06/01/2010", "CONFLICTS_WITH": "header.csv line 2 (DOB 05/01/2010)"}),
}


@pytest.mark.parametrize("check_id", sorted(WARNING_CASES))
def test_a_warning_is_reported_and_the_return_still_loads(warehouse_url, tmp_path, check_id):
    spoil, line, values = WARNING_CASES[check_id]
    tables = good_tables()
    spoil(tables)
    outcome, results = gate(warehouse_url, deliver(tmp_path, tables))
    assert outcome.status == "loaded"
    assert results[check_id]["result"] == "WARNING"
    assert [(e["line"], e["values"]) for e in results[check_id]["examples"]] == [(line, values)]


def test_duplicate_period_names_both_lines(warehouse_url, tmp_path):
    tables = good_tables()
    _duplicate_first_missing(tables)
    _, results = gate(warehouse_url, deliver(tmp_path, tables))
    assert [e["line"] for e in results["mfc.missing.duplicate_period"]["examples"]] == [2, 3]


STRUCTURE_CASES = {
    "mfc.header.columns": (_drop_column("header", "ETHNIC"), "ETHNIC"),
    "mfc.episodes.columns": (_drop_column("episodes", "PLACE"), "PLACE"),
    "mfc.missing.columns": (_drop_column("missing", "MIS_END"), "MIS_END"),
}


@pytest.mark.parametrize("check_id", sorted(STRUCTURE_CASES))
def test_a_missing_column_fails_structure_and_stops_content_checks(warehouse_url, tmp_path,
                                                                    check_id):
    make_files, column = STRUCTURE_CASES[check_id]
    outcome, results = gate(warehouse_url, deliver(tmp_path, files=make_files(good_tables())))
    assert outcome.status == "quarantined"
    assert set(results) == {c.check_id for c in council_checks.ALL}
    assert results[check_id]["result"] == "FAIL"
    assert column in results[check_id]["message"]
    assert results[check_id]["examples"] == [
        {"file": f"{check_id.split('.')[1]}.csv", "line": 1, "values": {column: None}}]
    # The checks that read the table are not run, and say why; the rest run.
    table, file_name = check_id.split(".")[1], f"{check_id.split('.')[1]}.csv"
    for check in council_checks.CONTENT:
        if table in (check.table, *check.reads):
            assert results[check.check_id]["result"] == "NOT_RUN"
            assert results[check.check_id]["message"] == (
                f"Not run: {file_name} lacks DfE columns (see the structure checks).")
        else:
            assert results[check.check_id]["result"] in ("PASS", "WARNING")


def test_columns_in_any_order_with_extra_columns_bom_crlf_and_spaces_load(warehouse_url,
                                                                           tmp_path):
    tables = good_tables()
    columns = ["MIS_END", "LOCAL_NOTE", " mis_start ", "MISSING", "DOB", "CHILD"]
    text = to_csv([dict(r, LOCAL_NOTE="x", **{" mis_start ": r["MIS_START"]})
                   for r in tables["missing"]], columns).decode()
    text = "\ufeff" + text.replace("\n", "\r\n").replace(",M,", ", M ,")
    outcome, _ = gate(warehouse_url, deliver(tmp_path, tables,
                                             files={"missing.csv": text.encode()}))
    assert outcome.status == "loaded"
    assert query(warehouse_url, "select line_no, missing_type, mis_start::text "
                 "from raw.council_missing order by line_no") == [
        (2, "M", "2023-05-03"), (3, "A", "2023-08-12"), (4, "M", "2024-03-01")]


FILE_CASES = {
    "neither UTF-8 nor Windows-1252": (
        b"CHILD,DOB,MISSING,MIS_START,MIS_END\nT001,05/01/2010,M,03/05/2023,\n"
        b"T002,17/09/2008,M,01/03/2024,\x81\n", "mfc.file.readable",
        "missing.csv line 3 is not UTF-8 text (byte 0x81), nor Windows-1252"),
    "ragged row": (b"CHILD,DOB,MISSING,MIS_START,MIS_END\nT001,05/01/2010,M,03/05/2023\n",
                   "mfc.file.readable", "missing.csv line 2: missing data for column MIS_END"),
    "empty file": (b"", "mfc.file.empty", "missing.csv is empty (0 bytes)"),
    "semicolons": (b"CHILD;DOB;MISSING;MIS_START;MIS_END\nT001;05/01/2010;M;03/05/2023;\n",
                   "mfc.file.delimiter", "missing.csv line 1 separates its fields with "
                   "semicolons"),
    "cut short": (b"CHILD,DOB,MISSING,MIS_START,MIS_END\nT001,05/01/2010,M,03/05/2023,\nT00",
                  "mfc.file.truncated", "missing.csv ends part-way through line 3, which has 1 "
                  "of 5 fields"),
    "workbook as csv": (b"PK\x03\x04 rest of a zip", "mfc.file.format",
                        "missing.csv is an Excel workbook (.xlsx), not CSV"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_an_unreadable_file_is_quarantined_with_its_line(warehouse_url, tmp_path, case):
    data, check_id, named = FILE_CASES[case]
    outcome, results = gate(warehouse_url, deliver(tmp_path, files={"missing.csv": data}))
    assert outcome.status == "quarantined"
    assert outcome.failed_checks == [check_id]
    assert set(results) == {c.check_id for c in council_checks.ALL}  # each says what it did
    assert named in results[check_id]["message"]
    # What reads missing.csv cannot run, and says why; the other tables are still checked.
    later = council_checks.STRUCTURE + council_checks.CONTENT + council_checks.CROSS_SUBMISSION
    reads_missing = {c.check_id for c in later if "missing" in (c.table, *c.reads)}
    assert {results[c]["result"] for c in reads_missing} == {"NOT_RUN"}
    assert results["574"]["message"] == (
        "Not run: missing.csv was not delivered or failed the file checks.")
    assert {results[c.check_id]["result"] for c in later
            if c.check_id not in reads_missing} == {"PASS"}
    # The file is kept exactly as delivered, whatever became of it.
    [(kept,)] = query(warehouse_url, "select archived_path from audit.submission_files "
                                     "where file_name = 'missing.csv'")
    assert hashlib.sha256(Path(kept).read_bytes()).digest() == hashlib.sha256(data).digest()


def test_a_windows_1252_file_is_read_as_such_with_a_warning(warehouse_url, tmp_path):
    tables = good_tables()
    tables["episodes"][1]["URN"] = "CAFÉ01"
    episodes = to_csv(tables["episodes"], EPISODES.columns).decode().encode("cp1252")
    outcome, results = gate(warehouse_url, deliver(tmp_path, tables,
                                                   files={"episodes.csv": episodes}))
    assert outcome.status == "loaded"
    assert results["mfc.file.encoding"]["result"] == "WARNING"
    assert results["mfc.file.encoding"]["message"].startswith(
        "episodes.csv is not UTF-8 (line 3, byte 0xc9): it was read as Windows-1252")
    assert query(warehouse_url, "select urn from raw.council_episodes where line_no = 3") == [
        ("CAFÉ01",)]


def test_a_workbook_instead_of_a_csv_is_named(warehouse_url, tmp_path):
    outcome, results = gate(warehouse_url, deliver(tmp_path, files={
        "missing.csv": None, "missing.xlsx": b"PK\x03\x04 a zip archive"}))
    assert outcome.failed_checks == ["mfc.file.format"]  # known as the missing table by name
    assert "missing.xlsx is an Excel workbook (.xlsx), not CSV: save it as CSV UTF-8" in (
        results["mfc.file.format"]["message"])


def test_a_real_export_with_other_tables_and_its_own_names_loads_with_warnings(
        warehouse_url, tmp_path):
    """A case-management export: its own file names, another SSDA903 table, a stray file,
    a BOM, CRLF, an extra column."""
    tables = good_tables()
    folder = tmp_path / "council" / "806" / "2023-24"
    missing = to_csv([dict(r, LA_NOTE="ok") for r in tables["missing"]],
                     ["LA_NOTE", *MISSING.columns]).decode().replace("\n", "\r\n")
    deliver(tmp_path, tables, files={
        "missing.csv": None, "header.csv": b"\xef\xbb\xbf" + to_csv(tables["header"],
                                                                   HEADER.columns),
        "SSDA903_2023-24_Missing.csv": missing.encode(),
        "Reviews.csv": b"CHILD,DOB,REVIEW,REVIEW_CODE\nT001,05/01/2010,01/06/2023,PN1\n",
        "notes.txt": b"sent by J. Bloggs\n",
        "missing_2023-24.xlsx": b"PK\x03\x04 an earlier workbook",
        "Missing copy.csv": missing.encode()})
    outcome, results = gate(warehouse_url, tmp_path)
    assert outcome.status == "loaded"
    assert query(warehouse_url, "select count(*) from raw.council_missing") == [(3,)]
    warned = {k: r["message"] for k, r in results.items() if r["result"] == "WARNING"}
    assert set(warned) == {"mfc.file.bom", "mfc.file.recognised", "mfc.missing.unknown_column",
                           "mfc.missing.open_at_year_end"}
    assert "Reviews.csv is SSDA903's Reviews table" in warned["mfc.file.recognised"]
    assert "notes.txt is not header.csv" in warned["mfc.file.recognised"]
    assert "missing_2023-24.xlsx is not header.csv" in warned["mfc.file.recognised"]
    assert ("Missing copy.csv is a second missing table; SSDA903_2023-24_Missing.csv was read"
            in warned["mfc.file.recognised"])
    assert "SSDA903_2023-24_Missing.csv has column(s) LA_NOTE" in (
        warned["mfc.missing.unknown_column"])
    assert folder.is_dir()


def test_a_table_not_delivered_is_named(warehouse_url, tmp_path):
    outcome, results = gate(warehouse_url, deliver(tmp_path, files={"episodes.csv": None}))
    assert outcome.failed_checks == ["mfc.file.present"]
    assert results["mfc.file.present"]["examples"] == [{"file": "episodes.csv", "values": {}}]


@pytest.mark.parametrize(("authority", "year", "check_id", "named"), [
    ("Atlantis", "2023-24", "mfc.authority.known", "Atlantis"),
    ("928", "2021-22", "mfc.authority.known", "West Northamptonshire"),
    ("806", "2023", "mfc.submission.year", "2023"),
])
def test_a_delivery_folder_that_names_no_authority_or_year_is_quarantined(
        warehouse_url, tmp_path, authority, year, check_id, named):
    outcome, results = gate(warehouse_url, deliver(tmp_path, authority=authority, year=year))
    assert outcome.status == "quarantined"
    assert outcome.failed_checks == [check_id]
    assert named in results[check_id]["message"]
    assert set(results) == {c.check_id for c in council_checks.ALL}
    assert results["574"]["message"] == ("Not run: the delivery folder names no known "
                                         "authority or collection year.")


# Tested in test_cross_submission.py.
CROSS_SUBMISSION_CASES = {"mfc.submission.volume_change", "mfc.submission.police_reconciliation",
                          "mfc.submission.replaces_most",
                          "mfc.submission.late", "mfc.submission.superseded"}


@pytest.mark.parametrize("table", ["header", "episodes"])
def test_an_unknown_column_is_named_and_ignored(warehouse_url, tmp_path, table):
    spec = {"header": HEADER, "episodes": EPISODES}[table]
    tables = good_tables()
    outcome, results = gate(warehouse_url, deliver(tmp_path, tables, files={
        spec.file_name: to_csv([dict(r, SW_NOTE="x") for r in tables[table]],
                               [*spec.columns, "SW_NOTE"])}))
    assert outcome.status == "loaded"
    result = results[f"mfc.{table}.unknown_column"]
    assert (result["result"], result["examples"]) == (
        "WARNING", [{"file": spec.file_name, "line": 1, "values": {"SW_NOTE": None}}])


def test_every_check_in_the_catalogue_has_a_failing_case():
    covered = (set(CONTENT_CASES) | set(STRUCTURE_CASES) | set(WARNING_CASES)
               | {check for _, check, _ in FILE_CASES.values()}
               | {"mfc.file.present", "mfc.authority.known", "mfc.submission.year",
                  "mfc.file.bom", "mfc.file.recognised", "mfc.file.encoding"}
               | {f"mfc.{table}.unknown_column" for table in ("header", "episodes", "missing")}
               | set(CROSS_SUBMISSION_CASES) | set(RULE_CASES))
    assert covered == {c.check_id for c in council_checks.ALL}


def test_the_same_files_delivered_twice_are_registered_once(warehouse_url, tmp_path):
    deliver(tmp_path / "a", authority="806")
    deliver(tmp_path / "a", authority="Middlesbrough")  # same bytes, same authority by name
    assert len(landing.register_all(warehouse_url, tmp_path / "a")) == 1
    assert landing.register_all(warehouse_url, tmp_path / "a") == [1]  # still waiting, once
    gate_submission(warehouse_url, 1, "run-1")
    assert landing.register_all(warehouse_url, tmp_path / "a") == []
    assert query(warehouse_url, "select count(*) from audit.submissions") == [(1,)]


def test_a_corrected_resubmission_replaces_the_loaded_one(warehouse_url, tmp_path):
    first = deliver(tmp_path / "one")
    gate(warehouse_url, tmp_path / "one")
    tables = good_tables()
    tables["missing"].pop()
    deliver(tmp_path / "two", tables)
    gate(warehouse_url, tmp_path / "two")
    assert query(warehouse_url, "select submission_id, status, superseded_by "
                 "from audit.submissions order by 1") == [(1, "superseded", 2), (2, "loaded", None)]
    assert first.exists()


def test_the_council_spec_lists_exactly_the_checks_that_run():
    import re

    from expectations import catalogue_docs
    from mfc import config

    spec = (config.dbt_project_dir().parent / "docs" / "returns" / "council.md").read_text()
    listed = catalogue_docs.generated(spec, "council.md")
    ids = re.findall(r"^\| `([^`]+)` \|", listed, re.M)
    assert sorted(ids) == sorted(c.check_id for c in council_checks.ALL)
    assert len(ids) == len(set(ids))
    for check in council_checks.ALL:
        assert catalogue_docs._cell(check.message) in listed


def test_mfc_run_refuses_without_a_warehouse(tmp_path, monkeypatch):
    from mfc import cli

    monkeypatch.delenv("MFC_WAREHOUSE_URL", raising=False)
    assert cli.main(["run", "--landing", str(tmp_path)]) == 2
