"""Reported figures of every awkward kind (docs/returns/aggregate.md): several sources for one
cell, a source's resubmission, multi-year spans with their years, withheld parts, lower
bounds, regions, age groups, approximate periods and partial coverage. The gate's warnings,
the stored values, the totals' intervals and the comparison rows are asserted.

Real PostgreSQL, real GX validations, real dbt; one database for the module, built once.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest
from helpers import create_database, dbt_build, drop_database, query

from mfc import landing, warehouse
from mfc.kinds.aggregate import AGGREGATE
from mfc.pipeline import gate_waiting

HEADER = ["AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "ROUNDED_TO", "NOTE",
          "SOURCE_KIND", "SOURCE_NAME", "COUNTING", "AGE_BAND", "SEX", "COVERED_FROM",
          "COVERED_TO"]


def row(area, start, end, measure, value, rounded="", note="", kind="", name="", counting="",
        age="", sex="", covered_from="", covered_to="") -> list[str]:
    return [area, start, end, measure, value, rounded, note, kind, name, counting, age, sex,
            covered_from, covered_to]


FY23 = ("01/04/2022", "31/03/2023")
FY24 = ("01/04/2023", "31/03/2024")
SPAN = ("01/04/2022", "31/03/2024")

# Hartlepool's own FOI answer: two years, the span they make (each child once, and the years
# added up), an age group, a year covered only from October.
COUNCIL = [
    row("Hartlepool", *FY23, "children_missing", "40", kind="council", name="Hartlepool"),
    row("Hartlepool", *FY24, "children_missing", "50", kind="council", name="Hartlepool"),
    row("Hartlepool", *SPAN, "children_missing", "70", kind="council", name="Hartlepool"),
    row("Hartlepool", *SPAN, "children_missing", "90", kind="council", name="Hartlepool",
        counting="yearly_sum"),
    row("Hartlepool", *FY24, "children_missing", "12", kind="council", name="Hartlepool",
        age="10 to 15"),
    row("Hartlepool", *FY24, "missing_incidents", "at least 150", kind="council",
        name="Hartlepool"),
    row("Hartlepool", *FY24, "children_away", "9", kind="council", name="Hartlepool",
        covered_from="01/10/2023"),
]
# The same council again, a month later, correcting one figure.
COUNCIL_AGAIN = [
    row("Hartlepool", *FY24, "children_missing", "52", kind="council", name="Hartlepool"),
]
# A newspaper: Hartlepool's 2023-24, Middlesbrough's withheld, and a figure "since 2019" (a
# period known only to the year at its start); an age group larger than its total; a half year.
PRESS = [
    row("Hartlepool", *FY24, "children_missing", "80", kind="media", name="Northern Echo"),
    row("Middlesbrough", *FY24, "children_missing", "x", kind="media", name="Northern Echo"),
    row("Middlesbrough", "2019", "31/03/2024", "children_missing", "more than 200",
        kind="media", name="Northern Echo"),
    row("Stockton on Tees", *FY24, "children_missing", "60", kind="media",
        name="Northern Echo", age="16 and over"),
    row("Stockton-on-Tees", *FY24, "children_missing", "45", kind="media",
        name="Northern Echo"),
    # Half a year, larger than the council's whole year.
    row("Hartlepool", "01/04/2023", "30/09/2023", "children_missing", "60", kind="media",
        name="Northern Echo"),
]
# DfE's regional figure, smaller than one authority's.
GOVERNMENT = [
    row("North East", *FY24, "children_missing", "30", "10", kind="government",
        name="Department for Education"),
]


def deliver(root: Path, source: str, rows: list[list[str]], name: str = "answer.csv") -> Path:
    folder = root / "aggregate" / source
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([HEADER, *rows])
    return folder / name


@pytest.fixture(scope="module")
def reported(server_url, tmp_path_factory):
    """The files above gated in order (council, press, DfE, then the council again), and the
    reported marts built by dbt."""
    url = create_database(server_url)
    try:
        warehouse.ensure_schema(url)
        root = tmp_path_factory.mktemp("landing")
        outcomes = {}
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MFC_WAREHOUSE_URL", url)
            patch.setenv("MFC_ARCHIVE_DIR", str(tmp_path_factory.mktemp("archive")))
            for source, rows, name in [("foi-hartlepool", COUNCIL, "answer.csv"),
                                       ("press-2024", PRESS, "answer.csv"),
                                       ("dfe", GOVERNMENT, "answer.csv"),
                                       ("foi-hartlepool", COUNCIL_AGAIN, "correction.csv")]:
                deliver(root, source, rows, name)
                landing.register_all(url, root)
                [outcome] = gate_waiting(url, AGGREGATE, "test-run")
                outcomes[(source, name)] = outcome.submission_id
            # The reported marts and what they read; dbt's own tests of them run in the DAG tests.
            dbt_build(url, tmp_path_factory.mktemp("dbt"), patch, "build", "--select",
                      "+agg_reported_vs_measured", "+agg_reported_by_year",
                      "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
            yield url, outcomes
    finally:
        drop_database(server_url, url)


def warnings(url: str, submission_id: int) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for check_id, line, values in query(
            url, "select check_id, line_no, \"values\" from dq.failing_rows "
                 "where submission_id = %s order by check_id, line_no", submission_id):
        found.setdefault(check_id, []).append({"line": line, **values})
    return found


def test_every_file_loads_and_its_values_keep_their_source(reported):
    url, _ = reported
    assert query(url, "select distinct status from audit.submissions") == [("loaded",)]
    stored = query(url, """
        select source_kind, source_name, count(*) from marts.fct_reported_values
        group by 1, 2 order by 1, 2""")
    assert stored == [("council", "Hartlepool", 8), ("government", "Department for Education", 1),
                      ("media", "Northern Echo", 6)]


def test_intervals_of_lower_bounds_rounding_and_approximate_periods(reported):
    url, _ = reported
    got = {(r[0], r[1]): r[2:] for r in query(url, """
        select area_name, value_as_delivered, value_lower, value_upper, suppression,
               period_start, period_start_latest, is_period_approximate
        from marts.fct_reported_values""")}
    assert got[("Hartlepool", "at least 150")][:3] == (150, None, "lower bound")
    assert got[("Middlesbrough", "more than 200")] == (
        201, None, "lower bound", date(2019, 1, 1), date(2019, 12, 31), True)
    assert got[("North East", "30")][:2] == (25, 34)


def test_a_source_replaces_only_its_own_value_and_is_warned(reported):
    url, outcomes = reported
    rows = query(url, """
        select source_name, value_as_delivered, is_current_value, is_preferred,
               sources_for_cell
        from marts.fct_reported_values
        where area_name = 'Hartlepool' and measure = 'children_missing'
          and period_start = '2023-04-01' and period_end = '2024-03-31' and age_band is null
        order by source_name, submission_id""")
    assert rows == [("Hartlepool", "50", False, False, 2), ("Hartlepool", "52", True, True, 2),
                    ("Northern Echo", "80", True, False, 2)]
    correction = warnings(url, outcomes[("foi-hartlepool", "correction.csv")])
    [replaced] = correction["aggregate.replaces"]
    assert replaced["line"] == 2 and replaced["VALUE"] == "52"
    assert replaced["EARLIER"].startswith("50 for Hartlepool 01/04/2023-31/03/2024 from "
                                          "Hartlepool (foi-hartlepool/answer.csv line 3)")


def test_sources_that_disagree_and_parts_larger_than_wholes_are_warned(reported):
    url, outcomes = reported
    press = warnings(url, outcomes[("press-2024", "answer.csv")])
    # 80 against the council's 50: more than 10% and 2 apart.
    assert [(w["line"], w["VALUE"]) for w in press["aggregate.differs"]] == [(2, "80")]
    assert "from Hartlepool" in press["aggregate.differs"][0]["OTHER"]
    # Stockton's 16-and-over group (60) is larger than its total (45) in the same file; the
    # press's 80 for 2023-24 is larger than the council's 70 for the two years holding it.
    # Its half year's 60 is larger than the council's whole year (50, before its correction).
    parts = {(w["line"], w["COMPARED_WITH"].split(" for ")[0]) for w in
             press["aggregate.part_exceeds_whole"]}
    assert parts == {(5, "whole: 45"), (2, "whole: 70"), (7, "whole: 50")}
    dfe = warnings(url, outcomes[("dfe", "answer.csv")])
    # The region's 2023-24 [25, 34] is smaller than figures for its authorities that year:
    # Hartlepool's 50, the press's 80 and half-year 60, Stockton's 45 and its 16-and-over 60.
    compared = sorted(w["COMPARED_WITH"].split(" for ")[0] for w in
                      dfe["aggregate.part_exceeds_whole"])
    assert compared == ["part: 45", "part: 50", "part: 60", "part: 60", "part: 80"]
    [(result, count)] = query(url, "select result, unexpected_count from dq.check_results "
                                   "where submission_id = %s and check_id = "
                                   "'aggregate.part_exceeds_whole'",
                              outcomes[("dfe", "answer.csv")])
    assert (result, count) == ("WARNING", 1)


def test_nested_values_of_one_file_are_marked(reported):
    url, _ = reported
    nested = query(url, """
        select part.value_as_delivered, part.counting, part.age_band, whole.value_as_delivered
        from marts.fct_reported_values part
        join marts.fct_reported_values whole on whole.value_key = part.within_value_key
        where part.source_name = 'Hartlepool' order by part.source_line_no""")
    assert ("40", "each_child_once", None, "70") in nested   # a year of the span
    assert ("12", "each_child_once", "10 to 15", "50") in nested  # a group of the year's total


def test_year_totals_add_preferred_whole_year_values_only(reported):
    url, _ = reported
    [total] = query(url, """
        select values_included, total_lower, total_upper, total_upper_bounded, areas,
               areas_included, areas_in_being, not_aligned
        from marts.agg_reported_by_year
        where measure = 'children_missing' and period_type = 'financial_year'
          and period = '2023-24' and area_type = 'authority'""")
    # Hartlepool's corrected 52, Stockton's 45, Middlesbrough's x (no upper bound): the total
    # has none either. The spans, the group and the region are not added.
    assert total[:6] == (3, 97, None, False, "Hartlepool; Middlesbrough; Stockton-on-Tees", 3)
    assert total[6] >= 150
    assert "Middlesbrough 01/01/2019-31/03/2024" in total[7]
    assert "Hartlepool 01/04/2022-31/03/2024" in total[7]
    assert "Hartlepool 01/04/2023-30/09/2023" in total[7]  # half a year: not added


def test_each_current_value_has_a_comparison_row_with_its_span_and_coverage(reported):
    url, _ = reported
    # No incident-level return is loaded here: the warehouse counts 0 and holds no returns.
    rows = {(r[0], r[1], r[2]): r[3:] for r in query(url, """
        select area_name, value_as_delivered, coalesce(counting, ''), measured,
               measured_narrowest, returns_held, returns_expected, difference,
               measured_within_reported
        from marts.agg_reported_vs_measured""")}
    assert len(rows) == 14  # 15 delivered, one replaced by its source
    assert rows[("Hartlepool", "52", "each_child_once")] == (0, None, 0, 1, -52, False)
    assert rows[("Hartlepool", "70", "each_child_once")] == (0, None, 0, 2, -70, False)
    assert rows[("North East", "30", "each_child_once")] == (0, None, 0, 12, -25, False)
    # Since 2019 to March 2024: six financial years, read widest and narrowest.
    assert rows[("Middlesbrough", "more than 200", "each_child_once")] == (
        0, 0, 0, 6, -201, False)
    assert rows[("Middlesbrough", "x", "each_child_once")][-2:] == (0, True)


def guide_queries(section: str) -> list[str]:
    from mfc import config

    guide = (config.dbt_project_dir().parent / "docs" / "analyst-guide.md").read_text()
    text = guide.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", text, re.S)


def test_the_analyst_guide_queries_on_reported_figures_answer(reported):
    url, _ = reported
    by_source, not_borne_out, spans = guide_queries("Reported figures beside the warehouse's")
    figures = {(r[0], str(r[1]), str(r[2]), r[3], r[5]): r[7] for r in query(url, by_source)}
    assert figures[("Hartlepool", "2023-04-01", "2024-03-31", "children_missing", "all ages")] \
        == "Hartlepool (council): 52 [used]; Northern Echo (media): 80"
    assert figures[("Hartlepool", "2023-04-01", "2024-03-31", "children_missing", "10 to 15")] \
        == "Hartlepool (council): 12 [used]"
    # No incident-level return is held here: no span is covered, nothing to compare.
    assert query(url, not_borne_out) == []
    assert [(r[3], r[4]) for r in query(url, spans) if r[0] == "Hartlepool"
            and (r[1], r[2]) == (date(2022, 4, 1), date(2024, 3, 31))] == [
        ("each_child_once", "70"), ("yearly_sum", "90")]


def test_the_comparison_page_lists_each_figure_largest_difference_first(reported, tmp_path):
    import psycopg

    from mfc.reports import reported_page

    url, _ = reported
    with psycopg.connect(url) as conn:
        page = reported_page.render(conn)
    # Only Middlesbrough's x ([0, no upper bound]) holds the warehouse's 0.
    assert "14 reported figures; the warehouse's own count lies within 1 of them" in page
    # Middlesbrough's "more than 200" (201 from the warehouse's 0) is the largest difference.
    first = page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "Middlesbrough" in first and "more than 200" in first and "(year only)" in first
    assert "Northern Echo (media)" in page and "0 of 12" in page


def test_a_figure_covering_part_of_its_year_is_measured_on_that_part_and_not_added(reported):
    url, _ = reported
    [stored] = query(url, """
        select covered_from, is_partial_coverage, financial_year
        from marts.fct_reported_values where measure = 'children_away'""")
    assert stored == (date(2023, 10, 1), True, None)
    [compared] = query(url, """
        select covered_from, returns_expected from marts.agg_reported_vs_measured
        where measure = 'children_away'""")
    assert compared == (date(2023, 10, 1), 1)  # one authority-year: 2023-24 from October
    assert query(url, "select count(*) from marts.agg_reported_by_year "
                      "where measure = 'children_away' and values_included > 0") == [(0,)]
