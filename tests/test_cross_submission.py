"""Council checks against the authority's other returns, the police and the deadline: each one
warns on its case and names the figures; a corrected return replaces the one before it.

Real PostgreSQL, real gate (GX); each test its own database.
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
from helpers import (
    CLEVELAND,
    deliver,
    deliver_police,
    gate_police,
    gate_submission,
    good_tables,
    query,
    results_of,
)
from helpers import gate_council as gate

from mfc import landing

MIDDLESBROUGH = "E06000002"


def _daily_periods(child: str, dob: str, first: date, count: int) -> list[dict[str, str]]:
    """count one-day periods on consecutive days from first."""
    return [{"CHILD": child, "DOB": dob, "MISSING": "M",
             "MIS_START": f"{first + timedelta(days=i):%d/%m/%Y}",
             "MIS_END": f"{first + timedelta(days=i):%d/%m/%Y}"} for i in range(count)]


def _with_periods(first: date, counts: tuple[int, int]) -> dict:
    tables = good_tables()
    tables["missing"] = (_daily_periods("T001", "05/01/2010", first, counts[0])
                         + _daily_periods("T003", "29/02/2012", first, counts[1]))
    return tables


def test_a_fall_from_509_to_72_periods_is_flagged_as_a_possible_recording_change(
        warehouse_url, tmp_path):
    deliver(tmp_path / "a", _with_periods(date(2022, 6, 2), (255, 254)), year="2022-23")
    first, _ = gate(warehouse_url, tmp_path / "a")
    assert first.status == "loaded"
    deliver(tmp_path / "b", _with_periods(date(2023, 9, 1), (36, 36)), year="2023-24")
    outcome, results = gate(warehouse_url, tmp_path / "b")

    assert outcome.status == "loaded"  # a warning: the authority confirms, the data loads
    change = results["mfc.submission.volume_change"]
    assert change["result"] == "WARNING"
    assert change["message"].startswith(
        "missing.csv has 72 missing/away periods against 509 in 2022-23 (-86%): a possible "
        "change in recording practice")
    assert change["examples"][0]["values"] == {"2022-23": 509, "2023-24": 72}


def test_a_steady_year_passes_the_volume_check(warehouse_url, tmp_path):
    deliver(tmp_path / "a", _with_periods(date(2022, 6, 2), (60, 40)), year="2022-23")
    gate(warehouse_url, tmp_path / "a")
    deliver(tmp_path / "b", _with_periods(date(2023, 9, 1), (50, 40)), year="2023-24")
    _, results = gate(warehouse_url, tmp_path / "b")
    assert results["mfc.submission.volume_change"]["result"] == "PASS"


def _cleveland_year(root, months: int):
    """Cleveland Police's months from April 2023: 30 incidents of Middlesbrough's looked-after
    children in March 2024 (when the year is complete), none in the others."""
    march = [[CLEVELAND, f"C-2024-{n:03d}", f"PER-{n}", "", "15", "F",
              f"{1 + n % 28:02d}/03/2024 22:15", f"{1 + n % 28:02d}/03/2024 23:40", "LOW", "Y",
              MIDDLESBROUGH, "TS1", "TS1"] for n in range(30)]
    for i in range(months):
        month = date(2023 + (3 + i) // 12, (3 + i) % 12 + 1, 1)
        deliver_police(root, f"{month:%Y-%m}", march if month.month == 3 else [])
    return root / "landing"


def test_council_periods_are_reconciled_with_police_incidents(warehouse_url, tmp_path):
    statuses = gate_police(warehouse_url, _cleveland_year(tmp_path / "p", 12))
    assert [status for status, _ in statuses.values()] == ["loaded"] * 12
    _, results = gate(warehouse_url, deliver(tmp_path / "c"))  # 3 periods returned

    reconciliation = results["mfc.submission.police_reconciliation"]
    assert reconciliation["result"] == "WARNING"
    assert reconciliation["message"] == (
        "missing.csv has 3 missing/away periods in 2023-24; police forces recorded 30 incidents "
        "of looked-after children of this authority (-90% against police). Please check that "
        "every period was returned.")


def test_the_reconciliation_waits_for_the_forces_whole_year(warehouse_url, tmp_path):
    gate_police(warehouse_url, _cleveland_year(tmp_path / "p", 11))
    _, results = gate(warehouse_url, deliver(tmp_path / "c"))
    assert results["mfc.submission.police_reconciliation"]["result"] == "NOT_RUN"
    assert results["mfc.submission.police_reconciliation"]["message"] == (
        "Not run: 11 of the 12 months of 2023-24 from the police force area E23000013 are "
        "loaded; the check runs when all are.")


def test_a_return_received_after_the_deadline_is_flagged_late(warehouse_url, tmp_path,
                                                              monkeypatch):
    """Judged on when the warehouse received it: its files' dates (here on time) play no part."""
    monkeypatch.setenv("MFC_COLLECTION_STARTED", "2024-04-01")
    [sid] = landing.register_all(warehouse_url, deliver(tmp_path))
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("update audit.submissions set received_at = '2024-09-01 12:00+01' "
                     "where submission_id = %s", (sid,))
    outcome = gate_submission(warehouse_url, sid)
    results = results_of(warehouse_url, sid)
    assert outcome.status == "loaded"
    assert results["mfc.submission.late"]["result"] == "WARNING"
    assert results["mfc.submission.late"]["message"] == (
        "Received on 01/09/2024, after the deadline of 30/06/2024.")


def test_a_backfilled_year_is_not_late(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MFC_COLLECTION_STARTED", "2024-04-01")
    [sid] = landing.register_all(warehouse_url, deliver(tmp_path, year="2021-22"))
    gate_submission(warehouse_url, sid)
    late = results_of(warehouse_url, sid)["mfc.submission.late"]
    assert (late["result"], late["message"]) == ("PASS", (
        "Not late: the deadline of 30/06/2022 fell before the warehouse began collecting "
        "returns on 01/04/2024; 2021-22 was backfilled."))


def test_a_corrected_return_supersedes_a_quarantined_one_and_says_so(warehouse_url, tmp_path):
    bad = good_tables()
    bad["missing"][2]["MISSING"] = "X"
    deliver(tmp_path / "one", bad)
    first, _ = gate(warehouse_url, tmp_path / "one")
    assert first.status == "quarantined"
    deliver(tmp_path / "two")
    second, results = gate(warehouse_url, tmp_path / "two")

    assert second.status == "loaded"
    assert results["mfc.submission.superseded"]["result"] == "PASS"
    assert query(warehouse_url, "select submission_id, status, superseded_by "
                 "from audit.submissions order by 1") == [(1, "superseded", 2), (2, "loaded", None)]
    # The first keeps its failure, and now says what replaced it.
    assert query(warehouse_url, "select check_id, result, message from dq.check_results "
                 "where submission_id = 1 and result <> 'PASS' order by check_id") == [
        ("1006", "FAIL", "Missing type invalid."),
        ("mfc.missing.open_at_year_end", "WARNING",
         "MIS_END is blank: the period was still open at the end of the collection year. If "
         "the child has come back, give the date; if not, check they are still missing."),
        ("mfc.submission.police_reconciliation", "NOT_RUN",
         "Not run: 0 of the 12 months of 2023-24 from the police force area E23000013 are "
         "loaded; the check runs when all are."),
        ("mfc.submission.superseded", "WARNING",
         "Replaced by submission 2, delivered 01/05/2024; that one is the authority's return "
         "for the year now."),
        ("mfc.submission.volume_change", "NOT_RUN",
         "Not run: no loaded return for 2022-23 to compare with.")]


def test_a_re_export_that_would_empty_a_loaded_year_is_held_back_until_confirmed(
        warehouse_url, tmp_path):
    deliver(tmp_path / "a", _with_periods(date(2023, 6, 2), (45, 45)))
    first, _ = gate(warehouse_url, tmp_path / "a")
    assert first.status == "loaded"
    header_only = good_tables()
    header_only["missing"] = []
    deliver(tmp_path / "b", header_only)
    outcome, results = gate(warehouse_url, tmp_path / "b")

    assert outcome.status == "quarantined"
    assert outcome.failed_checks == ["mfc.submission.replaces_most"]
    held = results["mfc.submission.replaces_most"]
    assert held["message"].startswith(
        "missing.csv has 0 missing/away periods for 2023-24; the loaded return it would replace "
        f"(submission {first.submission_id}) has 90 (-100%).")
    assert "CONFIRM_REPLACE.txt" in held["message"]
    # The year stays as it was: the loaded return's 90 periods.
    assert query(warehouse_url, "select status, count(m.line_no) from audit.submissions "
                 "left join raw.council_missing m using (submission_id) "
                 "group by submission_id, status order by submission_id") == [
        ("loaded", 90), ("quarantined", 0)]

    # Confirmed by the authority: it replaces the year, with a warning saying so.
    deliver(tmp_path / "c", header_only, files={"CONFIRM_REPLACE.txt": b"yes, none this year\n"})
    confirmed, results = gate(warehouse_url, tmp_path / "c")
    assert confirmed.status == "loaded"
    assert results["mfc.submission.replaces_most"]["result"] == "WARNING"
    assert "mfc.file.recognised" not in {k for k, r in results.items()
                                        if r["result"] == "WARNING"}
    assert query(warehouse_url, "select count(*) from raw.council_missing m join "
                 "audit.submissions using (submission_id) where status = 'loaded'") == [(0,)]
