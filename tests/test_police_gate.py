"""The police gate on crafted month files: each check fails on its bad row, naming the line and
value; good files load with keyed hashes; a re-sent month replaces the earlier file.

Real PostgreSQL (COPY, SQL), real Great Expectations validations; each test its own database.
"""

from __future__ import annotations

import json

import pytest
from helpers import CLEVELAND, police_month_file, query
from helpers import deliver_police as deliver
from helpers import gate_police as gate

from expectations import police as police_checks
from mfc.pseudonymise import keyed_hash

KEY = b"test-key-not-secret"

# FORCE, INCIDENT_REF, PERSON_REF, DOB, AGE, SEX, REPORTED_MISSING, FOUND, RISK, LOOKED_AFTER,
# RESPONSIBLE_LA, PLACEMENT_DISTRICT, FOUND_DISTRICT
GOOD = [
    [CLEVELAND, "C-2024-001", "PER-1", "14/05/2009", "", "F", "03/03/2024 22:15",
     "04/03/2024 07:40", "MEDIUM", "Y", "E06000065", "TS1", "TS3"],
    [CLEVELAND, "C-2024-002", "PER-2", "", "15", "M", "15/03/2024 16:05", "15/03/2024 21:30",
     "LOW", "N", "", "TS17", "TS18"],
    [CLEVELAND, "C-2024-003", "PER-1", "14/05/2009", "", "F", "30/03/2024 23:50", "", "HIGH",
     "", "North Yorkshire", "TS1", ""],
]


def test_a_good_month_passes_every_check_and_loads_keyed_hashes(warehouse_url, tmp_path):
    [(status, results)] = gate(warehouse_url, deliver(tmp_path, "2024-03", GOOD)).values()
    assert status == "loaded"
    assert set(results) == {c.check_id for c in police_checks.ALL}
    assert {r["result"] for r in results.values()} == {"PASS"}
    loaded = query(warehouse_url,
                   "select person_key, dob_key, age_at_report, reported_missing::text, "
                   "found::text, responsible_gss, looked_after from raw.police_incidents "
                   "order by line_no")
    dob_key = keyed_hash("dob:2009-05-14", KEY)
    assert loaded == [
        (keyed_hash(f"{CLEVELAND}:PER-1", KEY), dob_key, 14, "2024-03-03 22:15:00",
         "2024-03-04 07:40:00", "E06000065", "Y"),
        (keyed_hash(f"{CLEVELAND}:PER-2", KEY), None, 15, "2024-03-15 16:05:00",
         "2024-03-15 21:30:00", None, "N"),
        # The name resolves on the day reported: North Yorkshire Council from April 2023.
        (keyed_hash(f"{CLEVELAND}:PER-1", KEY), dob_key, 14, "2024-03-30 23:50:00", None,
         "E06000065", None),
    ]
    assert "PER-1" not in json.dumps(query(warehouse_url, "select * from raw.police_incidents"),
                                     default=str)
    assert query(warehouse_url, "select count(*) from landing.police_incidents") == [(0,)]


def bad(line_values: dict[int, str]) -> list[str]:
    row = list(GOOD[1])
    for column, value in line_values.items():
        row[column] = value
    return row


# One bad row per check: (check id, column index -> value, the column and value reported).
CASES = [
    ("police.force", {0: "E23000099"}, ("FORCE", "E23000099")),
    ("police.force", {0: "E23000007"}, ("FORCE", "E23000007")),  # another force's code
    ("police.incident_ref", {1: "C-2024-001"}, ("INCIDENT_REF", "C-2024-001")),
    ("police.reported_missing", {6: "01/04/2024 00:20", 7: "01/04/2024 03:10"},
     ("REPORTED_MISSING", "01/04/2024 00:20")),
    ("police.reported_missing", {6: "15/03/2024 25:00"}, ("REPORTED_MISSING", "15/03/2024 25:00")),
    ("police.found", {7: "15/03/2024 16:00"}, ("FOUND", "15/03/2024 16:00")),
    ("police.dob_or_age", {3: "", 4: ""}, ("AGE", None)),
    ("police.dob_or_age", {3: "31/02/2009", 4: ""}, ("DOB", "31/02/2009")),
    ("police.dob_or_age", {3: "14/05/2009", 4: "fifteen"}, ("AGE", "fifteen")),
    ("police.under_18", {3: "15/03/2006", 4: ""}, ("AGE_AT_REPORT", 18)),  # 18th birthday
    ("police.under_18", {4: "18"}, ("AGE", "18")),
    ("police.sex", {5: "X"}, ("SEX", "X")),
    ("police.risk", {8: "ABSENT"}, ("RISK", "ABSENT")),
    ("police.districts", {11: "TS1 2AB"}, ("PLACEMENT_DISTRICT", "TS1 2AB")),
    ("police.districts", {11: ""}, ("PLACEMENT_DISTRICT", None)),
]


@pytest.mark.parametrize(("check_id", "change", "reported"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_check_fails_on_its_bad_row_and_names_line_and_value(
        warehouse_url, tmp_path, check_id, change, reported):
    landing_dir = deliver(tmp_path, "2024-03", [GOOD[0], bad(change), GOOD[2]])
    [(status, results)] = gate(warehouse_url, landing_dir).values()
    assert status == "quarantined"
    assert results[check_id]["result"] == "FAIL"
    assert results[check_id]["count"] == (2 if check_id == "police.incident_ref" else 1)
    column, value = reported
    lines = {e["line"]: e["values"] for e in results[check_id]["examples"]}
    assert lines[3][column] == value
    assert all(e["file"] == "2024-03.csv" for e in results[check_id]["examples"])
    assert "PER-2" not in json.dumps(results)  # examples never repeat a PERSON_REF
    for result in results.values():  # nor a date of birth that is a valid date
        assert all(e["values"].get("DOB") in (None, "31/02/2009")
                   for e in result["examples"] if "values" in e)
    others = {k for k, r in results.items() if r["result"] == "FAIL"} - {check_id}
    assert others <= {"police.dob_or_age", "police.under_18"}, others  # a bad DOB is both
    # Every failing row is kept for the force's CSV, line and value, never a PERSON_REF.
    kept = query(warehouse_url, "select file_name, line_no, values from dq.failing_rows "
                                "where check_id = %s", check_id)
    assert ("2024-03.csv", 3) in {(f, line) for f, line, _ in kept}
    assert value in [v[column] for _, line, v in kept if line == 3]
    assert "PER-2" not in json.dumps(kept)
    assert query(warehouse_url, "select count(*) from raw.police_incidents") == [(0,)]


def test_warnings_do_not_stop_the_load(warehouse_url, tmp_path):
    landing_dir = deliver(tmp_path, "2024-03", [GOOD[0], bad({9: "YES", 10: "Narnia"})])
    [(status, results)] = gate(warehouse_url, landing_dir).values()
    assert status == "loaded"
    assert results["police.looked_after"]["result"] == "WARNING"
    assert results["police.responsible_la"]["result"] == "WARNING"
    assert results["police.responsible_la"]["examples"][0]["values"]["RESPONSIBLE_LA"] == "Narnia"
    assert query(warehouse_url, "select looked_after, responsible_la_as_delivered, "
                 "responsible_gss from raw.police_incidents where line_no = 3") == [
        (None, "Narnia", None)]


def test_files_that_cannot_be_read_or_placed_are_quarantined_with_the_reason(
        warehouse_url, tmp_path):
    root = deliver(tmp_path, "2024-03", GOOD, force="Cleveland")  # a name, not the code
    deliver(tmp_path, "March-2024", GOOD)
    (root / "police" / CLEVELAND / "2024-04.csv").write_text(
        police_month_file(GOOD).replace(",RISK", ",GRADE"))
    (root / "police" / CLEVELAND / "2024-05.csv").write_bytes(b"")
    outcomes = gate(warehouse_url, root)
    failed = {query(warehouse_url, "select collection_year from audit.submissions "
                                   "where submission_id = %s", sid)[0][0]:
              {k for k, r in results.items() if r["result"] == "FAIL"}
              for sid, (status, results) in outcomes.items()}
    assert failed == {"2024-03": {"police.submission.force"},
                      "March-2024": {"police.submission.month"},
                      "2024-04": {"police.columns"},
                      "2024-05": {"police.file.readable"}}
    for _, results in outcomes.values():  # later stages say they did not run
        assert results["police.sex"]["result"] == "NOT_RUN"


def test_an_incident_ref_from_another_month_is_refused(warehouse_url, tmp_path):
    gate(warehouse_url, deliver(tmp_path, "2024-03", GOOD))
    april = [[*GOOD[1][:1], "C-2024-002", *GOOD[1][2:6], "02/04/2024 10:00",
              "02/04/2024 12:00", *GOOD[1][8:]]]
    [(status, results)] = gate(warehouse_url, deliver(tmp_path, "2024-04", april)).values()
    assert status == "quarantined"
    assert results["police.incident_ref"]["examples"][0]["values"] == {
        "INCIDENT_REF": "C-2024-002"}


def test_a_month_sent_again_replaces_the_earlier_file_and_the_same_file_is_registered_once(
        warehouse_url, tmp_path):
    root = deliver(tmp_path, "2024-03", GOOD)
    gate(warehouse_url, root)
    assert gate(warehouse_url, root) == {}  # the same bytes again: nothing new
    found = [*GOOD[2][:7], "02/04/2024 10:05", *GOOD[2][8:12], "TS1"]
    deliver(tmp_path, "2024-03", [GOOD[0], GOOD[1], found])
    gate(warehouse_url, root)
    [(first, first_status, replaced_by), (second, second_status, _)] = query(
        warehouse_url, "select submission_id, status, superseded_by from audit.submissions "
                       "order by 1")
    assert (first_status, replaced_by, second_status) == ("superseded", second, "loaded")
    assert query(warehouse_url, "select found::text from raw.police_incidents "
                                "where submission_id = %s and line_no = 4", second) == [
        ("2024-04-02 10:05:00",)]


def test_the_police_spec_lists_exactly_the_checks_that_run():
    import re

    from mfc import config

    spec = (config.dags_dir().parent / "docs" / "returns" / "police.md").read_text()
    table = spec.split("## The checks", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(police\.[\w.]+)` \|", table, re.M))
    assert listed == {c.check_id for c in police_checks.ALL}
