"""Disclosure control and the EES screener's checks on small hand-made tables (the published
table of a real synthetic region is audited in test_linkage.py)."""

from __future__ import annotations

import csv
import shutil

import pytest

from mfc.publish import disclosure, ees
from mfc.publish.disclosure import LOCAL, REGIONAL, Row

REGION, AUTHORITY = "E12000001", "E06000002"


def authority(topic: str, group: str, incidents: int, children: int) -> Row:
    return Row(LOCAL, AUTHORITY, REGION, topic, group,
               {"incidents": incidents, "children": children})


def table() -> list[Row]:
    return [
        authority("Total", "Total", 60, 30),
        authority("Sex", "Female", 27, 13),
        authority("Sex", "Male", 30, 14),
        authority("Sex", "Not known", 3, 3),
        Row(REGIONAL, REGION, None, "Total", "Total", {"incidents": 600, "children": 300}),
    ]


def test_a_small_count_is_suppressed_and_cannot_be_worked_out():
    rows = table()
    disclosure.primary(rows)
    assert [r.group for r in rows if r.suppressed] == ["Not known"]
    # Alone, it is the total less the others: the audit pins it to 3.
    [(row, count, lowest, highest)] = [u for u in disclosure.audit(rows) if u[1] == "incidents"]
    assert (row.group, lowest, highest) == ("Not known", 3, 3)
    disclosure.secondary(rows)
    # The next smallest group goes with it; together they hide 30, so neither is pinned.
    assert {r.group for r in rows if r.suppressed} == {"Not known", "Female"}
    assert {r.reasons.pop() for r in rows if r.suppressed} == {"primary", "secondary"}
    assert disclosure.audit(rows) == []


def test_two_small_counts_with_a_small_sum_take_a_third():
    rows = table()
    rows[1].true = {"incidents": 1, "children": 1}    # Female
    rows[2].true = {"incidents": 56, "children": 26}  # Male
    disclosure.protect(rows)
    # Female (1) and Not known (3) sum to 4, the total less Male: each would lie within 0..4,
    # so Male goes too.
    assert all(r.suppressed for r in rows[1:4]) and not rows[0].suppressed
    assert disclosure.audit(rows) == []


def test_national_and_regional_counts_are_rounded_to_ten():
    row = Row(REGIONAL, REGION, None, "Total", "Total", {"incidents": 1234, "children": 555})
    assert (row.shown("incidents"), row.shown("children")) == (1230, 560)


@pytest.fixture
def published(tmp_path):
    """A small, valid EES table: England and Wales, the North East, Middlesbrough."""
    rows = []
    geographies = [
        {"geographic_level": "National", "country_code": "K04000001",
         "country_name": "England and Wales"},
        {"geographic_level": "Regional", "country_code": "E92000001", "country_name": "England",
         "region_code": REGION, "region_name": "North East"},
        {"geographic_level": "Local authority", "country_code": "E92000001",
         "country_name": "England", "region_code": REGION, "region_name": "North East",
         "new_la_code": AUTHORITY, "old_la_code": "806", "la_name": "Middlesbrough"},
    ]
    for geography in geographies:
        for topic, group, incidents in (("Total", "Total", "60"), ("Sex", "Female", "c"),
                                        ("Sex", "Male", "30"), ("Sex", "Not known", "c")):
            rows.append(dict.fromkeys(ees.GEOGRAPHY, "") | geography | {
                "time_period": "202324", "time_identifier": "Reporting year",
                "breakdown_topic": topic, "breakdown": group, "incidents": incidents,
                "children": incidents, "looked_after_children": "400" if topic == "Total"
                else "z", "looked_after_missing_per_1000": "75.0" if topic == "Total" else "z"})
    ees.write(ees.MISSING_FROM_CARE, rows, tmp_path / "good")
    return tmp_path / "good"


def spoil(folder, tmp_path, line: int, column: str, value: str):
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    path = bad / "missing_from_care.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    rows[line - 2][column] = value
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return bad


def test_the_screener_passes_a_good_table(published):
    assert ees.check(published) == []


@pytest.mark.parametrize(("line", "column", "value", "says"), [
    (2, "incidents", "", "'' is neither a number nor one of c, x, z"),
    (3, "children", "low", "'low' is neither a number"),
    (10, "la_name", "Middlesborough", "la_name 'Middlesborough' is not 'Middlesbrough'"),
    (10, "region_code", "E12000002", "Middlesbrough lies in E12000001"),
    (10, "new_la_code", "E06000099", "'E06000099' is not an authority"),
    (6, "region_code", "W92000004", "is not an English region"),
    (2, "time_period", "2023", "is not a reporting year"),
    (2, "region_code", "E12000001", "region_code is given at national level"),
    (3, "breakdown", "", "breakdown is blank"),
    (4, "breakdown", "Female", "duplicates an earlier row"),
    (2, "breakdown", "All", "has no Total row"),
])
def test_the_screener_names_each_fault(published, tmp_path, line, column, value, says):
    problems = ees.check(spoil(published, tmp_path, line, column, value))
    assert any(says in p and (f"line {line}" in p or "Total" in says) for p in problems), \
        problems


def test_the_screener_wants_metadata_for_every_column(published):
    (published / "missing_from_care.meta.csv").unlink()
    assert ees.check(published) == ["missing_from_care.csv: no metadata file "
                                    "missing_from_care.meta.csv"]
