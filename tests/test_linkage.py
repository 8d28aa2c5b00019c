"""The nightly DAG on a synthetic region, clean: the warehouse's national and per-authority
counts and its incident merging and child linkage meet the targets of docs/architecture.md
against the synthetic truth (mfc evaluate). Real Airflow, dbt, GX and PostgreSQL.
"""

from __future__ import annotations

import pytest
from helpers import query

from mfc import evaluate, runner
from mfc.synth import write

NORTH_EAST = "E12000001"
SEED = 7


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


def test_the_warehouse_meets_its_targets_against_the_truth(warehouse_url, region, tmp_path):
    runner.prepare_airflow()
    assert runner.run_nightly(region / "landing", tmp_path / "run.log").state == "success"
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
