"""The aggregate gate on crafted FOI answers: values become intervals, suppression marks are
read, workbooks load like CSV, and each check fails on its bad row naming line and value.

Real PostgreSQL (COPY, SQL), real Great Expectations validations; each test its own database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import AGGREGATE_GOOD as GOOD
from helpers import deliver_aggregate as deliver
from helpers import gate_waiting, query

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
