"""Two runs on one warehouse at once (a manual run beside the scheduled one): each submission is
claimed before it is gated, so it is checked, stored and promoted once; a claim dies with the
run that held it. Real PostgreSQL and GX, real council returns.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import psycopg
from helpers import deliver, query

from mfc import landing, pipeline
from mfc.kinds.council import COUNCIL

AUTHORITIES = ("806", "805", "807")  # Middlesbrough, Hartlepool, Redcar and Cleveland


def registered(url: str, tmp_path) -> list[int]:
    root = tmp_path / "landing"
    for authority in AUTHORITIES:
        deliver(root, authority=authority)
    return landing.register_all(url, root)


def stored_once(url: str, ids: list[int]) -> None:
    """Every submission decided once: one run's results, raw rows of one promotion."""
    runs = query(url, "select submission_id, count(distinct run_id), count(*) "
                      "from dq.check_results where submission_id = any(%s) group by 1", ids)
    checks = {n for _, _, n in runs}
    assert [(sid, n) for sid, n, _ in runs] == [(sid, 1) for sid in sorted(ids)]
    assert len(checks) == 1  # the same checks for each
    assert query(url, "select count(distinct submission_id), count(*) from raw.council_missing") \
        == [(len(ids), len(ids) * query(url, "select count(*) from raw.council_missing "
                                             "where submission_id = %s", ids[0])[0][0])]
    assert query(url, "select count(*) from landing.council_missing") == [(0,)]


def test_a_submission_another_run_holds_is_left_to_it(warehouse_url, tmp_path):
    ids = registered(warehouse_url, tmp_path)
    held = ids[1]
    with psycopg.connect(warehouse_url, autocommit=True) as other_run:
        other_run.execute("select pg_advisory_lock(hashtext('mfc.gate'), %s::int)", (held,))
        outcomes = pipeline.gate_and_load_batch(warehouse_url, COUNCIL, ids, "run-1")
        assert [(o.submission_id, o.status) for o in outcomes] == [
            (ids[0], "loaded"), (held, pipeline.CLAIMED_ELSEWHERE), (ids[2], "loaded")]
        assert query(warehouse_url, "select count(*) from dq.check_results "
                                    "where submission_id = %s", held) == [(0,)]
    # The other run went away (its connection closed): the next run gates what it left.
    [outcome] = pipeline.gate_and_load_batch(warehouse_url, COUNCIL, [held], "run-2")
    assert outcome.status == "loaded"
    stored_once(warehouse_url, ids)


def test_two_runs_gating_the_same_batch_at_once_decide_each_submission_once(
        warehouse_url, tmp_path):
    ids = registered(warehouse_url, tmp_path)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda run: pipeline.gate_and_load_batch(
            warehouse_url, COUNCIL, ids, run), ["scheduled", "manual"]))
    for sid in ids:
        seen = {o.status for run in runs for o in run if o.submission_id == sid}
        assert seen <= {"loaded", pipeline.CLAIMED_ELSEWHERE} and "loaded" in seen
    assert query(warehouse_url, "select distinct status from audit.submissions") == [("loaded",)]
    stored_once(warehouse_url, ids)
