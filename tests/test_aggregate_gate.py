"""The aggregate gate on crafted FOI answers: values become intervals, suppression marks are
read, workbooks load like CSV, and each check fails on its bad row naming line and value.

Real PostgreSQL (COPY, SQL), real Great Expectations validations; each test its own database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import AGGREGATE_GOOD as GOOD
from helpers import AGGREGATE_HEADER, gate_waiting, query
from helpers import deliver_aggregate as deliver

from expectations import aggregate as aggregate_checks
from mfc import landing


def gate(url: str, landing_dir: Path) -> tuple[str, dict[str, dict]]:
    landing.register_all(url, landing_dir)
    [outcome] = gate_waiting(url, "aggregate")
    rows = query(url, "select check_id, result, unexpected_count, examples "
                      "from dq.check_results where submission_id = %s", outcome.submission_id)
    return outcome.status, {r[0]: {"result": r[1], "count": r[2], "examples": r[3]}
                            for r in rows}


@pytest.mark.parametrize("name", ["answer.csv", "answer.xlsx"])
def test_values_load_as_intervals_from_csv_or_workbook(warehouse_url, tmp_path, name):
    status, results = gate(warehouse_url, deliver(tmp_path, GOOD, name))
    assert status == "loaded"
    assert set(results) == {c.check_id for c in aggregate_checks.ALL}
    assert {r["result"] for r in results.values()} == {"PASS"}
    loaded = query(warehouse_url, "select area_type, area_gss, value_lower, value_upper, "
                   "suppression from raw.aggregate_values order by line_no")
    assert loaded == [
        ("authority", "E06000002", 120, 120, None),
        ("authority", "E06000002", 0, 4, "fewer than 5"),
        ("authority", "E06000001", 0, 4, "fewer than 5"),
        ("authority", "E06000001", 0, None, "confidential"),
        ("force", "E23000013", 1234, 1234, None),
        ("force", "E23000013", 1295, 1304, None),   # rounded to the nearest 10
        ("authority", "E06000065", 0, None, "disclosive"),  # North Yorkshire in 2023-24
        ("country", "E92000001", 0, None, "not available"),
        ("country", "W92000004", 0, None, "blank"),
    ]


CASES = [
    ("aggregate.area", {0: "Narnia"}, ("AREA", "Narnia")),
    ("aggregate.area", {0: "Bournemouth", 1: "01/04/2023", 2: "31/03/2024"},
     ("AREA", "Bournemouth")),  # part of BCP since 2019
    ("aggregate.period", {2: "31/03/2022"}, ("PERIOD_END", "31/03/2022")),
    ("aggregate.period", {1: "2023-04-01"}, ("PERIOD_START", "2023-04-01")),
    ("aggregate.measure", {3: "kids"}, ("MEASURE", "kids")),
    ("aggregate.value", {4: "about 40"}, ("VALUE", "about 40")),
    ("aggregate.rounded_to", {5: "1"}, ("ROUNDED_TO", "1")),
    ("aggregate.rounded_to", {5: "ten"}, ("ROUNDED_TO", "ten")),
    ("aggregate.duplicate", {0: "E06000002"}, ("AREA", "E06000002")),
]


@pytest.mark.parametrize(("check_id", "change", "reported"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_check_fails_on_its_bad_row_and_names_line_and_value(
        warehouse_url, tmp_path, check_id, change, reported):
    row = list(GOOD[1])  # line 3; line 2 is Middlesbrough 2023-24
    if check_id == "aggregate.duplicate":
        row = list(GOOD[0])
    for column, value in change.items():
        row[column] = value
    status, results = gate(warehouse_url, deliver(tmp_path, [GOOD[0], row, GOOD[4]]))
    assert status == "quarantined"
    assert results[check_id]["result"] == "FAIL"
    column, value = reported
    assert {e["line"]: e["values"][column] for e in results[check_id]["examples"]}[3] == value
    failing = {k for k, r in results.items() if r["result"] == "FAIL"}
    assert failing == {check_id}
    assert query(warehouse_url, "select count(*) from raw.aggregate_values") == [(0,)]


def test_a_file_that_is_not_csv_or_a_workbook_is_refused(warehouse_url, tmp_path):
    root = deliver(tmp_path, GOOD)
    (root / "aggregate" / "foi-2024-0412" / "answer.csv").rename(
        root / "aggregate" / "foi-2024-0412" / "answer.pdf")
    status, results = gate(warehouse_url, root)
    assert status == "quarantined"
    assert results["aggregate.file.type"]["result"] == "FAIL"
    assert results["aggregate.value"]["result"] == "NOT_RUN"


def test_the_aggregate_spec_lists_exactly_the_checks_that_run():
    import re

    from mfc import config

    spec = (config.dags_dir().parent / "docs" / "returns" / "aggregate.md").read_text()
    table = spec.split("## The checks", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(aggregate\.[\w.]+)` \|", table, re.M))
    assert listed == {c.check_id for c in aggregate_checks.ALL}


# The optional columns: SOURCE_KIND, SOURCE_NAME, COUNTING, AGE_BAND, SEX, COVERED_FROM,
# COVERED_TO after the first seven.
FULL_HEADER = [*AGGREGATE_HEADER, "SOURCE_KIND", "SOURCE_NAME", "COUNTING", "AGE_BAND", "SEX",
               "COVERED_FROM", "COVERED_TO"]
FULL = ["Hartlepool", "01/04/2023", "31/03/2024", "children_missing", "40", "", "",
        "council", "Hartlepool", "each_child_once", "10 to 15", "Female", "01/10/2023",
        "31/03/2024"]

FULL_CASES = [
    ("aggregate.covered", {12: "01/01/2023"}, ("COVERED_FROM", "01/01/2023")),  # before it
    ("aggregate.covered", {13: "31/02/2024"}, ("COVERED_TO", "31/02/2024")),
    ("aggregate.source_kind", {7: "newspaper"}, ("SOURCE_KIND", "newspaper")),
    ("aggregate.counting", {9: "distinct"}, ("COUNTING", "distinct")),
    ("aggregate.counting", {3: "missing_incidents"}, ("COUNTING", "each_child_once")),
    ("aggregate.age_band", {10: "11-15"}, ("AGE_BAND", "11-15")),
    ("aggregate.sex", {11: "F"}, ("SEX", "F")),
    ("aggregate.period", {1: "20233"}, ("PERIOD_START", "20233")),
    # COUNTING left blank is each_child_once: the same cell as line 2.
    ("aggregate.duplicate", {9: "", 10: "10 to 15"}, ("AREA", "Hartlepool")),
]


@pytest.mark.parametrize(("check_id", "change", "reported"), FULL_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(FULL_CASES)])
def test_each_optional_column_is_checked_and_names_line_and_value(
        warehouse_url, tmp_path, check_id, change, reported):
    row = list(FULL)
    row[10] = "16 and over"  # another cell than line 2's
    for column, value in change.items():
        row[column] = value
    status, results = gate(warehouse_url, deliver(tmp_path, [FULL, row], header=FULL_HEADER))
    assert status == "quarantined"
    failing = {k for k, r in results.items() if r["result"] == "FAIL"}
    assert failing == {check_id}
    column, value = reported
    assert {e["line"]: e["values"][column] for e in results[check_id]["examples"]}[3] == value


def test_optional_columns_are_stored_as_given_and_defaults_filled(warehouse_url, tmp_path):
    since = ["Middlesbrough", "2019", "31/03/2024", "missing_incidents", "more than 1,200",
             "", "", "", "", "", "", "", "", ""]
    status, results = gate(warehouse_url, deliver(tmp_path, [FULL, since], header=FULL_HEADER))
    assert status == "loaded", results
    stored = query(warehouse_url, """
        select source_kind, source_name, counting, age_band, sex, covered_from::text,
               period_start::text, period_start_latest::text, value_lower, value_upper,
               suppression
        from raw.aggregate_values order by line_no""")
    assert stored == [
        ("council", "Hartlepool", "each_child_once", "10 to 15", "Female", "2023-10-01",
         "2023-04-01", "2023-04-01", 40, 40, None),
        # Nothing said: the folder is the source; a year alone is read as its widest.
        ("other", "foi-2024-0412", None, None, None, None, "2019-01-01", "2019-12-31", 1201,
         None, "lower bound"),
    ]


@pytest.mark.parametrize(("area", "period_end", "suggested"), [
    ("Hartlepol", "31/03/2024", "did you mean Hartlepool?"),
    ("North Eest", "31/03/2024", "did you mean North West or North East?"),
    ("Bournemouth", "31/03/2024",
     "Bournemouth (E06000028, DfE 837) ended on 2019-03-31; use Bournemouth, Christchurch"),
])
def test_an_area_nearly_named_is_refused_with_the_name_meant(
        warehouse_url, tmp_path, area, period_end, suggested):
    row = [area, "01/04/2023", period_end, "children_missing", "40", "", ""]
    status, results = gate(warehouse_url, deliver(tmp_path, [row]))
    assert status == "quarantined"
    [example] = results["aggregate.area"]["examples"]
    assert example["values"]["SUGGESTION"].startswith(suggested)
