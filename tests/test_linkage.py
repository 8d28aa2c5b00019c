"""The nightly DAG on a synthetic region, clean: the warehouse's national and per-authority
counts and its incident merging and child linkage meet the targets of docs/architecture.md
against the synthetic truth (mfc evaluate). Real Airflow, dbt, GX and PostgreSQL.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime

import pandas as pd
import pytest
from helpers import query

from mfc import evaluate
from mfc.publish import disclosure
from mfc.publish.disclosure import Row
from mfc.synth import reported, write

NORTH_EAST = "E12000001"
SEED = 7
RUN_LOG: dict[str, object] = {}  # the module's one run: its log, for the test of the logs

# Warnings a healthy run may log, each with why it is not a fault to fix here.
EXPLAINED_WARNINGS = {
    # Cosmos asks for the OpenLineage provider on import; the warehouse emits no lineage.
    "To enable emitting Openlineage events, install apache-airflow-providers-openlineage.",
}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """Two years of the North East at full scale: 12 authorities, 3 forces, 144 files."""
    from mfc.geography import AuthorityRegister

    out = tmp_path_factory.mktemp("north-east")
    authorities = {a.gss_code for a in AuthorityRegister.from_seed()
                   if a.region_code == NORTH_EAST}
    write.synthesise(write.Options(out, SEED, range(2023, 2025), authorities, 1.0,
                                   progress=False))
    return out


@pytest.fixture(scope="module")
def warehouse_url(region, server_url, tmp_path_factory):
    """The region through the nightly DAG once, for every test of this module."""
    from helpers import create_database, drop_database

    url = create_database(server_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFC_WAREHOUSE_URL", url)
        patch.setenv("MFC_ARCHIVE_DIR", str(tmp_path_factory.mktemp("archive")))
        # As an operator runs it (a process of its own, its logs in the file it is given).
        log = tmp_path_factory.mktemp("run") / "run.log"
        done = subprocess.run([sys.executable, "-m", "mfc.cli", "run", "--landing",
                               str(region / "landing"), "--log", str(log), "--quiet"],
                              capture_output=True, text=True, timeout=1500)
        assert done.returncode == 0, done.stdout + done.stderr
        RUN_LOG["path"] = log
        yield url
    drop_database(server_url, url)


def test_the_warehouse_meets_its_targets_against_the_truth(warehouse_url, region):
    assert query(warehouse_url, "select distinct status from audit.submissions") == [("loaded",)]

    report = evaluate.evaluate(warehouse_url, region)

    # Nationally (here: all the slice holds), incidents and distinct children within 1%.
    assert sorted(report["years"]) == ["2022-23", "2023-24"]
    for year, counts in report["years"].items():
        for measure in ("incidents", "distinct_children"):
            assert abs(counts[measure]["error_pct"]) <= 1.0, (year, measure, counts)
    # Per authority with at least 50 children missing in the year, within 3%.
    judged = report["authorities"]["rows"]
    assert len(judged) >= 10
    for row in judged:
        for measure in ("incidents", "distinct_children"):
            assert abs(row[measure]["error_pct"]) <= 3.0, row
    # Merging and linkage, pairwise.
    for name in ("incident_merging", "child_linkage"):
        assert report[name]["precision"] >= 0.99, report[name]
        assert report[name]["recall"] >= 0.97, report[name]
    assert report["child_linkage"]["records_matched_to_truth"] == \
        report["child_linkage"]["records_in_warehouse"]

    # The analyst guide's regional queries. The region's distinct children are the sum over its
    # authorities less the children two of them returned; its published figure adds children
    # the region's forces saw that no council returned.
    [(distinct, summed)] = query(warehouse_url, """
        with in_region as (
            select f.child_id, f.responsible_authority_gss
            from marts.fct_missing_incidents f
            join marts.dim_authorities a on a.authority_gss = f.responsible_authority_gss
            where a.region_name = 'North East' and f.financial_year = '2023-24')
        select count(distinct child_id),
               (select sum(n) from (select count(distinct child_id) as n from in_region
                                    group by responsible_authority_gss) as per_authority)
        from in_region""")
    [(shared,)] = query(warehouse_url, """
        select coalesce(sum(authorities - 1), 0) from (
            select child_id, count(distinct responsible_authority_gss) as authorities
            from marts.fct_missing_incidents f
            join marts.dim_authorities a on a.authority_gss = f.responsible_authority_gss
            where a.region_name = 'North East' and f.financial_year = '2023-24'
            group by child_id) as per_child""")
    assert summed - distinct == shared
    [(published, police_only)] = query(warehouse_url, """
        select distinct_children, children_police_only from marts.agg_missing_by_area_period
        where area_type = 'region' and area_code = 'E12000001'
            and period_type = 'financial_year' and period = '2023-24'""")
    [(unattributed,)] = query(warehouse_url, """
        select count(distinct f.child_id) from marts.fct_missing_incidents f
        join marts.dim_authorities a on a.pfa_code = f.force_code
        where f.responsible_authority_gss is null and a.region_name = 'North East'
            and f.financial_year = '2023-24'
            and f.child_id not in (
                select child_id from marts.fct_missing_incidents g
                join marts.dim_authorities b on b.authority_gss = g.responsible_authority_gss
                where b.region_name = 'North East' and g.financial_year = '2023-24')""")
    assert unattributed > 0.3 * distinct  # children missing from home, most of them
    assert published == distinct + unattributed
    assert police_only >= unattributed


def financial_year(day: date) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def test_the_breakdowns_add_up_and_match_the_truth(warehouse_url, region):
    rows = query(warehouse_url, """
        select financial_year, geographic_level, area_code, breakdown, group_name, incidents,
               distinct_children
        from marts.agg_missing_breakdowns""")
    totals = {(r[0], r[1], r[2]): (r[5], r[6]) for r in rows if r[3] == "Total"}
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for year, level, area, breakdown, _, incidents, children in rows:
        if breakdown != "Total":
            sums[(year, level, area, breakdown)][0] += incidents
            sums[(year, level, area, breakdown)][1] += children
    assert len(totals) >= 2 * (12 + 1 + 2)  # 12 authorities, the region, England, E&W
    breakdowns = {"Age band", "Sex", "Ethnicity group", "Placement type", "Placed", "Duration",
                  "Repeat band", "Missing or away", "Looked after", "Recorded by"}
    assert {key[3] for key in sums} == breakdowns
    for (year, level, area, breakdown), (incidents, children) in sums.items():
        total_incidents, total_children = totals[(year, level, area)]
        assert incidents == total_incidents, (year, area, breakdown)
        # A child is in one group of a breakdown of children, in each of theirs of incidents.
        if breakdown in disclosure.CHILD_BREAKDOWNS:
            assert children == total_children, (year, area, breakdown)
        else:
            assert children >= total_children, (year, area, breakdown)

    # The totals are the marts' own: the region as agg_missing_by_area_period counts it.
    for year, incidents, children in query(warehouse_url, """
            select period, incidents, distinct_children from marts.agg_missing_by_area_period
            where area_type = 'region' and area_code = %s
                and period_type = 'financial_year'""", NORTH_EAST):
        assert totals[(year, "Regional", NORTH_EAST)] == (incidents, children)

    # Missing and away periods as the region's councils recorded them: the truth's, by year.
    from mfc.geography import AuthorityRegister

    councils = {a.gss_code for a in AuthorityRegister.from_seed() if a.region_code == NORTH_EAST}
    truth: Counter = Counter()
    with (region / "truth" / "incidents.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["council_recorded"] == "1" and row["responsible_gss"] in councils:
                started = datetime.strptime(row["reported_missing"], "%d/%m/%Y %H:%M").date()
                year = financial_year(started)
                truth[(year, row["missing_type"])] += 1
                truth[(year, row["placement_gss"] == row["responsible_gss"])] += 1
    found = {(r[0], r[4]): r[5] for r in rows
             if r[1] == "National" and r[2] == "K04000001" and r[3] == "Missing or away"}
    placed = {(r[0], r[4]): r[5] for r in rows
              if r[1] == "National" and r[2] == "K04000001" and r[3] == "Placed"}
    for year in ("2022-23", "2023-24"):
        for code, group in (("M", "Missing"), ("A", "Away from placement without authorisation")):
            assert abs(found[(year, group)] - truth[(year, code)]) <= 0.01 * truth[(year, code)], \
                (year, group, found[(year, group)], truth[(year, code)])
        # Placed inside or outside its own authority, as the truth placed the child.
        for inside, group in ((True, "Inside its own authority"),
                              (False, "Outside its own authority")):
            assert abs(placed.get((year, group), 0) - truth[(year, inside)]) \
                <= 0.02 * truth[(year, inside)], (year, group, placed, truth[(year, inside)])

    # Rates: children looked after from the councils' headers; every authority has some.
    rates = query(warehouse_url, """
        select area_code, looked_after_children, looked_after_children_missing,
               children_missing_per_1000_looked_after
        from marts.agg_missing_breakdowns
        where breakdown = 'Total' and geographic_level = 'Local authority'
            and financial_year = '2023-24'""")
    # (Authorities outside the region appear too, for children the region's forces saw.)
    rates = [r for r in rates if r[0] in councils]
    assert len(rates) == 12
    for area, looked_after, missing, rate in rates:
        assert looked_after > missing > 0, area
        assert float(rate) == pytest.approx(1000 * missing / looked_after, abs=0.05), area


def published_rows(path) -> list[Row]:
    """The published table as an adversary reads it: suppressed cells unknown."""
    rows = []
    with path.open(newline="") as f:
        for record in csv.DictReader(f):
            level = record["geographic_level"]
            area = {"National": record["country_code"], "Regional": record["region_code"],
                    "Local authority": record["new_la_code"]}[level]
            region = (record["region_code"] or record["country_code"]) \
                if level == "Local authority" else None
            hidden = record["incidents"] == "c"
            assert hidden == (record["children"] == "c"), record
            rows.append(Row(level, area, region, record["breakdown_topic"], record["breakdown"],
                            {c: 0 if hidden else int(record[c]) for c in ("incidents",
                                                                           "children")},
                            suppressed=hidden))
    return rows


def test_the_publication_is_disclosure_controlled_and_passes_the_screener(
        warehouse_url, tmp_path, monkeypatch, capsys):
    from mfc import cli

    monkeypatch.setenv("MFC_WAREHOUSE_URL", warehouse_url)
    out = tmp_path / "2023-24"
    assert cli.main(["publish", "--year", "2023-24", "--out", str(out)]) == 0
    assert cli.main(["publish", "--check", str(out)]) == 0
    assert "passes" in capsys.readouterr().out
    data = out / "missing_from_care.csv"
    with data.open(newline="") as f:
        records = list(csv.DictReader(f))

    # Primary: no count of 1 to 5 is shown; national and regional counts end in 0.
    for record in records:
        for count in ("incidents", "children"):
            if record[count] not in ("c", "z", "x"):
                assert not 0 < int(record[count]) < 6, record
                if record["geographic_level"] != "Local authority":
                    assert int(record[count]) % 10 == 0, record
    suppressed = [r for r in records if r["incidents"] == "c"]
    assert any(r["geographic_level"] == "Local authority" for r in suppressed)
    # Secondary: given every published figure, no suppressed count can be pinned within 5.
    assert disclosure.audit(published_rows(data)) == []
    # ... which the audit would catch: show one suppressed row that was hidden for another's
    # sake, and it is found out.
    truth = {(r[0], r[1], r[2]): (r[3], r[4]) for r in query(warehouse_url, """
        select area_code, breakdown, group_name, incidents, distinct_children
        from marts.agg_missing_breakdowns
        where financial_year = '2023-24' and geographic_level = 'Local authority'""")}
    shown = published_rows(data)
    hidden_by_breakdown: dict[tuple, list[Row]] = defaultdict(list)
    for row in shown:
        if row.level == "Local authority" and row.topic != "Total" and row.suppressed:
            hidden_by_breakdown[(row.area, row.topic)].append(row)
    pairs = [rows for rows in hidden_by_breakdown.values() if len(rows) == 2
             and sum(truth[(r.area, r.topic, r.group)][0] >= 6 for r in rows) == 1]
    assert pairs, "no breakdown with one primary and one secondary suppression"
    [row] = [r for r in pairs[0] if truth[(r.area, r.topic, r.group)][0] >= 6]
    row.suppressed = False
    row.true = dict(zip(("incidents", "children"), truth[(row.area, row.topic, row.group)],
                        strict=True))
    assert disclosure.audit(shown) != []

    # The same rows, in the warehouse's published schema.
    assert query(warehouse_url, "select count(*) from published.missing_from_care "
                                "where time_period = '202324'") == [(len(records),)]


def test_reported_figures_sit_beside_the_warehouse_count_of_the_same_thing(
        warehouse_url, region):
    """The synthetic FOI answers and DfE's regional figures (mfc synth, truth/reported.csv):
    stored as delivered; the warehouse's own count of each, over its span (multi-year distinct
    children, repeat children, yearly sums), made exactly as defined; and equal to the truth
    but for the linkage's own errors."""
    truth, delivered = {}, {}
    with (region / "truth" / "reported.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            truth[(row["file"].split("/")[-2], int(row["line"]))] = row
    for path in (region / "landing" / "aggregate").glob("*/answer.csv"):
        with path.open(newline="") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                delivered[(path.parent.name, line)] = row["VALUE"]
    assert len(truth) == len(delivered) > 100
    rows = query(warehouse_url, """
        select v.delivered_by, v.source_line_no, v.value_as_delivered, m.measured,
               m.measured_coverage, v.area_type
        from marts.fct_reported_values v
        join marts.agg_reported_vs_measured m using (value_key)""")
    # The reported side is what was delivered, every value of it.
    assert {(r[0], r[1]): r[2] for r in rows} == delivered
    assert {r[4] for r in rows} == {1}  # the answers cover only spans the returns cover

    def figure(key: tuple[str, int], area_type: str, incidents: pd.DataFrame) -> int:
        t = truth[key]
        return reported.true_value(
            incidents, area_type, t["area"],
            datetime.strptime(t["period_start"], "%d/%m/%Y").date(),
            datetime.strptime(t["period_end"], "%d/%m/%Y").date(), t["measure"],
            t["counting"] or None)

    # Measured exactly as defined: the same definition applied to the warehouse's incidents.
    facts = pd.DataFrame(query(warehouse_url, """
        select f.child_id, to_char(f.started_on, 'DD/MM/YYYY') || ' 00:00',
               case when g.looked_after_group = 'Looked after' then 'Y' else 'N' end,
               f.responsible_authority_gss, f.force_code,
               case when g.missing_or_away like 'Away%' then 'A' else 'M' end,
               (f.council_submission_id is not null)::int, (f.police_submission_id is not null)::int
        from marts.fct_missing_incidents f join marts.fct_incident_groups g using (incident_key)
        """), columns=["true_child_id", "reported_missing", "looked_after", "responsible_gss",
                       "force", "missing_type", "council_recorded", "police_recorded"])
    for r in rows:
        assert r[3] == figure((r[0], r[1]), r[5], facts), (r, truth[(r[0], r[1])])
    # Against the truth: most exactly; the rest off only by the linkage's own errors (a police
    # report not linked to its child, two incidents merged as one): here 20 of 137, by 1 to 4
    # children or incidents in hundreds, the largest 4 of 74 children.
    off = [(r[0], r[1], int(truth[(r[0], r[1])]["true_value"]), r[3]) for r in rows
           if r[3] != int(truth[(r[0], r[1])]["true_value"])]
    assert len(off) <= 0.2 * len(rows), off
    for folder, line, true, measured in off:
        assert abs(measured - true) <= max(5, 0.03 * true), (folder, line, true, measured)


def test_a_healthy_run_logs_no_error_and_no_unexplained_warning(warehouse_url):
    import re

    lines = RUN_LOG["path"].read_text().splitlines()
    assert any("dbt.fct_missing_incidents" in line or "fct_missing_incidents" in line
               for line in lines)  # the run's own log, not an empty file
    levelled = [re.sub(r"^\S+ ", "", line) for line in lines
                if re.search(r"\[(warning|error|critical) *\]", line)]
    errors = [line for line in levelled if not line.startswith("[warning")]
    assert errors == []
    unexplained = [line for line in levelled
                   if not any(known in line for known in EXPLAINED_WARNINGS)]
    assert unexplained == []
    # Python's own warnings (GX, pandas) are warnings too.
    assert not [line for line in lines if "Warning:" in line]
