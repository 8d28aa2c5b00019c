"""Releasing a quarantined return (`mfc release`): recorded with who, when and why, loaded with
its failures still flagged; refused for what is not quarantined or has no reason; kept
quarantined, saying why, when its rows cannot be stored at all. Real PostgreSQL and GX.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import deliver, gate_council, good_tables, query

from mfc import config, release


def quarantined(url: str, tmp_path, **changes) -> int:
    tables = good_tables()
    tables["missing"][0]["MIS_END"] = "01/05/2023"  # ends before it starts (03/05/2023)
    outcome, results = gate_council(url, deliver(tmp_path / "landing", tables, **changes))
    assert outcome.status == "quarantined"
    return outcome.submission_id


def test_a_released_return_loads_with_its_failures_flagged(warehouse_url, tmp_path):
    sid = quarantined(warehouse_url, tmp_path)
    failed_before = query(warehouse_url, "select check_id from dq.check_results "
                          "where submission_id = %s and result = 'FAIL'", sid)
    assert failed_before

    done = subprocess.run(
        [sys.executable, "-m", "mfc.cli", "release", str(sid), "--reason",
         "2015-16 return; the council has merged and cannot resubmit"],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"Submission {sid} released and loaded; its failures stay flagged: " in done.stdout

    assert query(warehouse_url, "select status from audit.submissions "
                                "where submission_id = %s", sid) == [("loaded",)]
    [(who, reason, failed, outcome)] = query(
        warehouse_url, "select released_by, reason, failed_checks, outcome "
                       "from audit.releases where submission_id = %s", sid)
    assert reason == "2015-16 return; the council has merged and cannot resubmit"
    assert failed == [c for (c,) in failed_before] and outcome is None
    assert who.endswith("(postgres)")
    # The same failures, flagged once (the gate ran again and stored its results afresh).
    assert query(warehouse_url, "select check_id from dq.check_results "
                 "where submission_id = %s and result = 'FAIL'", sid) == failed_before
    assert query(warehouse_url, "select count(distinct run_id) from dq.check_results "
                 "where submission_id = %s", sid) == [(1,)]
    assert query(warehouse_url, "select count(*) from raw.council_missing "
                                "where submission_id = %s", sid) == [(3,)]


def test_only_a_quarantined_return_with_a_reason_is_released(warehouse_url, tmp_path):
    sid = quarantined(warehouse_url, tmp_path)
    with pytest.raises(config.ConfigurationError, match="give the reason"):
        release.release(warehouse_url, sid, "  ")
    with pytest.raises(config.ConfigurationError, match="there is no submission 999"):
        release.release(warehouse_url, 999, "why not")
    assert release.release(warehouse_url, sid, "historic").status == "loaded"
    with pytest.raises(config.ConfigurationError,
                       match=f"submission {sid} is loaded: only a quarantined submission"):
        release.release(warehouse_url, sid, "again")


def test_a_return_whose_files_cannot_be_read_stays_quarantined_saying_why(
        warehouse_url, tmp_path):
    sid = quarantined(warehouse_url, tmp_path, files={"missing.csv": b"CHILD;DOB\n\xff\xfe"})
    outcome = release.release(warehouse_url, sid, "we need it")
    assert outcome.status == "quarantined"
    [(why,)] = query(warehouse_url, "select outcome from audit.releases "
                                    "where submission_id = %s", sid)
    assert why.startswith("could not be loaded: ")


def test_the_report_and_the_marts_say_a_return_was_released(
        warehouse_url, tmp_path, monkeypatch):
    from helpers import dbt_build

    from mfc import reports

    sid = quarantined(warehouse_url, tmp_path)
    release.release(warehouse_url, sid, "historic year")
    out = tmp_path / "reports"
    reports.write_all(warehouse_url, out, with_catalogue=False)
    page = next(out.glob(f"*/{sid}/index.html")).read_text()
    assert "Loaded with its failures (" in page and "because: historic year" in page
    dbt_build(warehouse_url, tmp_path, monkeypatch, "run", "--select", "+fct_missing_incidents")
    assert query(warehouse_url, "select from_released_return, count(*) "
                                "from marts.fct_missing_incidents group by 1") == [(True, 3)]
