"""The data-quality marts (dq_submissions, dq_authority_history, dq_national_status) on real
gate results: Middlesbrough returns two years (the second quarantined, then corrected), its
neighbour Hartlepool returns nothing. Real PostgreSQL, GX gate and dbt; one database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from helpers import dbt_build, deliver, gate_submission, good_tables, query

from mfc import landing

MIDDLESBROUGH, HARTLEPOOL = "E06000002", "E06000001"
# Judge "overdue" on this day: 2022-23's deadline (30/06/2023) has passed, 2023-24's has not.
AS_OF = "2024-06-01"
STARTED = "2023-04-01"  # when the warehouse began collecting: 2022-23 onwards are judged


def _year_earlier(value: str) -> str:
    return value[:6] + str(int(value[6:]) - 1) if value else value


def tables_for_2022_23(periods: int) -> dict[str, list[dict[str, str]]]:
    """The good return a year earlier, with `periods` one-day missing periods of T001."""
    tables = good_tables()
    for row in tables["episodes"]:
        row["DECOM"], row["DEC"] = _year_earlier(row["DECOM"]), _year_earlier(row["DEC"])
    for row in tables["header"]:
        row["MC_DOB"] = _year_earlier(row["MC_DOB"])
    first = date(2022, 5, 1)
    tables["missing"] = [
        {"CHILD": "T001", "DOB": "05/01/2010", "MISSING": "M",
         "MIS_START": f"{first + timedelta(days=4 * i):%d/%m/%Y}",
         "MIS_END": f"{first + timedelta(days=4 * i):%d/%m/%Y}"}
        for i in range(periods)
    ]
    return tables


def gate(url: str, landing_dir: Path, run_id: str, received: datetime) -> str:
    """Register a delivery as if the warehouse received it at `received` (what lateness is
    judged on), then gate it."""
    [submission_id] = landing.register_all(url, landing_dir)
    with psycopg.connect(url) as conn:
        conn.execute("update audit.submissions set received_at = %s where submission_id = %s",
                     (received.astimezone(), submission_id))
    return gate_submission(url, submission_id, run_id).status


def build_dq_marts(url: str, monkeypatch, tmp_path: Path) -> None:
    dbt_build(url, tmp_path, monkeypatch,
              "build", "--select", "+dq_submissions", "+dq_authority_history",
              "+dq_national_status",
              # Tests of other staging models that share a parent with these wait for their
              # own build.
              "--indirect-selection", "buildable",
              "--vars", f"{{dq_as_of: '{AS_OF}', collection_started: '{STARTED}'}}")


def test_dq_marts_follow_a_quarantine_a_correction_and_a_missing_return(
        warehouse_url, monkeypatch, tmp_path):
    url = warehouse_url
    monkeypatch.setenv("MFC_COLLECTION_STARTED", STARTED)  # the gate's lateness, as dbt's
    # 2022-23: 60 periods, loaded, received three days after the deadline.
    assert gate(url, deliver(tmp_path / "a", year="2022-23", tables=tables_for_2022_23(60)),
                "run-1", datetime(2023, 7, 3, 12)) == "loaded"
    # 2023-24: MISSING 'X' on line 4 fails DfE rule 1006; the corrected return then loads.
    spoiled = good_tables()
    spoiled["missing"][2]["MISSING"] = "X"
    assert gate(url, deliver(tmp_path / "b", year="2023-24", tables=spoiled), "run-2",
                datetime(2024, 5, 1, 9)) == "quarantined"
    assert gate(url, deliver(tmp_path / "c", year="2023-24"), "run-3",
                datetime(2024, 5, 20, 9)) == "loaded"
    build_dq_marts(url, monkeypatch, tmp_path)

    submissions = {r[0]: r[1:] for r in query(url, """
        select submission_id, return_source, authority_gss, returned_by_name, collection_year,
               status, superseded_by, blocking_failures, failed_check_ids, rows_delivered
        from marts.dq_submissions""")}
    assert submissions == {
        1: ("council", MIDDLESBROUGH, "Middlesbrough", "2022-23", "loaded", None, 0, None, 60),
        2: ("council", MIDDLESBROUGH, "Middlesbrough", "2023-24", "superseded", 3, 1, "1006", 3),
        3: ("council", MIDDLESBROUGH, "Middlesbrough", "2023-24", "loaded", None, 0, None, 3),
    }
    # Counts and warnings are those of each check's newest row in dq.check_results.
    latest = query(url, """
        select submission_id, count(*),
               count(*) filter (where result = 'PASS'),
               string_agg(check_id, ',' order by check_id) filter (where result = 'WARNING')
        from (select distinct on (submission_id, check_id) *
              from dq.check_results order by submission_id, check_id, checked_at desc) newest
        group by submission_id order by submission_id""")
    assert query(url, "select submission_id, checks_run, checks_passed, warning_check_ids "
                      "from marts.dq_submissions order by submission_id") == latest
    assert all(count > 10 for _, count, _, _ in latest)
    # The superseded submission warns so, from the later run, over the PASS of its own gate.
    [(warnings,)] = query(url, "select warning_check_ids from marts.dq_submissions "
                               "where submission_id = 2")
    assert "mfc.submission.superseded" in (warnings or "").split(",")

    history = query(url, """
        select collection_year, submissions_received, is_resubmitted, latest_submission_id,
               latest_status, loaded_submission_id, missing_periods,
               previous_year_missing_periods, missing_periods_change,
               missing_periods_change_pct::text, failed_check_ids
        from marts.dq_authority_history order by collection_year""")
    assert history == [
        ("2022-23", 1, False, 1, "loaded", 1, 60, None, None, None, None),
        ("2023-24", 2, True, 3, "loaded", 3, 3, 60, -57, "-95.0", "1006"),
    ]

    status = {(r[0], r[1]): r[2:] for r in query(url, """
        select authority_gss, collection_year, national_status, deadline, has_returned,
               submissions_received, is_late, is_overdue
        from marts.dq_national_status""")}
    assert status[(MIDDLESBROUGH, "2022-23")] == ("loaded", date(2023, 6, 30), True, 1, True,
                                                  False)
    assert status[(MIDDLESBROUGH, "2023-24")] == ("loaded", date(2024, 6, 30), True, 2, False,
                                                  False)
    assert status[(HARTLEPOOL, "2022-23")] == ("overdue", date(2023, 6, 30), False, 0, None,
                                               True)
    assert status[(HARTLEPOOL, "2023-24")] == ("not returned", date(2024, 6, 30), False, 0,
                                               None, False)
    # Every English authority in being on 31 March: Cumbria's two successors from April 2023.
    assert query(url, "select collection_year, count(*) from marts.dq_national_status "
                      "group by 1 order by 1") == [("2022-23", 152), ("2023-24", 153)]
    assert query(url, "select national_status, count(*) from marts.dq_national_status "
                      "group by 1 order by 1") == [("loaded", 2), ("not returned", 152),
                                                   ("overdue", 151)]


def test_dq_marts_build_on_an_empty_warehouse(warehouse_url, monkeypatch, tmp_path):
    build_dq_marts(warehouse_url, monkeypatch, tmp_path)
    for mart in ("dq_submissions", "dq_authority_history", "dq_national_status"):
        assert query(warehouse_url, f"select count(*) from marts.{mart}") == [(0,)]
