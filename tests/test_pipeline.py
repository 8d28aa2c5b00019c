"""The one pipeline every return kind goes through (mfc.pipeline): the same lifecycle for each
kind, batches bounded whatever arrives, and a connection budget.

Real PostgreSQL, real GX; each test its own database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import (
    AGGREGATE_GOOD,
    CLEVELAND,
    deliver,
    deliver_aggregate,
    deliver_police,
    gate_waiting,
    good_tables,
    query,
    register_and_gate,
)

from mfc import landing, pipeline
from mfc.kinds import COUNCIL, KINDS, POLICE
from mfc.warehouse import ConnectionWatch

POLICE_ROW = [CLEVELAND, "C-2024-001", "PER-1", "14/05/2009", "", "F", "03/03/2024 22:15",
              "04/03/2024 07:40", "MEDIUM", "Y", "E06000065", "TS1", "TS3"]
POLICE_ROW_2 = [CLEVELAND, "C-2024-002", "PER-2", "", "15", "M", "15/03/2024 16:05",
                "15/03/2024 21:30", "LOW", "N", "", "TS17", "TS18"]


def _council(root: Path, which: str) -> str:
    tables = good_tables()
    if which == "bad":
        tables["missing"][2]["MISSING"] = "X"
        deliver(root / "landing", tables, authority="807")
        return "807 2023-24"
    if which == "resent":
        tables["missing"] = tables["missing"][:2]
    deliver(root / "landing", tables, authority="806")
    return "806 2023-24"


def _police(root: Path, which: str) -> str:
    if which == "bad":
        deliver_police(root, "2024-04", [[CLEVELAND, "C-2024-009", *POLICE_ROW[2:6],
                                          "32/04/2024 10:00", *POLICE_ROW[7:]]])
        return f"{CLEVELAND} 2024-04"
    deliver_police(root, "2024-03", [POLICE_ROW] if which == "good"
                   else [POLICE_ROW, POLICE_ROW_2])
    return f"{CLEVELAND} 2024-03"


def _aggregate(root: Path, which: str) -> str:
    if which == "bad":
        deliver_aggregate(root, [[*AGGREGATE_GOOD[0][:3], "kids", *AGGREGATE_GOOD[0][4:]]],
                          name="other.csv")
        return "foi-2024-0412 other"
    deliver_aggregate(root, AGGREGATE_GOOD if which == "good" else AGGREGATE_GOOD[:5])
    return "foi-2024-0412 answer"


# kind -> (deliver good / bad / resent, the raw table, rows good and resent, the check that
# fails on the bad one)
LIFECYCLE = {
    "council": (_council, "raw.council_missing", (3, 2), "1006"),
    "police": (_police, "raw.police_incidents", (1, 2), "police.reported_missing"),
    "aggregate": (_aggregate, "raw.aggregate_values", (9, 5), "aggregate.measure"),
}


def _statuses(url: str, source: str) -> dict[str, str]:
    return dict(query(url, "select authority_as_delivered || ' ' || collection_year, status "
                           "from audit.submissions where source = %s", source))


def _loaded_rows(url: str, table: str) -> int:
    return query(url, f"select count(*) from {table} join audit.submissions "
                      "using (submission_id) where status = 'loaded'")[0][0]


def test_every_kind_is_a_return_kind_of_the_one_pipeline():
    assert [k.source for k in KINDS] == ["council", "police", "aggregate"]
    assert set(LIFECYCLE) == {k.source for k in KINDS}
    assert all(isinstance(k, pipeline.ReturnKind) for k in KINDS)


@pytest.mark.parametrize("source", sorted(LIFECYCLE))
def test_the_lifecycle_of_a_submission_is_the_same_for_every_kind(warehouse_url, tmp_path,
                                                                  source):
    write, raw_table, (good_rows, resent_rows), failing = LIFECYCLE[source]
    good, bad = write(tmp_path / "first", "good"), write(tmp_path / "first", "bad")
    outcomes = register_and_gate(warehouse_url, tmp_path / "first" / "landing", source)

    assert _statuses(warehouse_url, source) == {good: "loaded", bad: "quarantined"}
    assert sorted(o.failed_checks for o in outcomes) == [[], [failing]]
    assert _loaded_rows(warehouse_url, raw_table) == good_rows
    for table in {t.landing_table for k in KINDS for t in k.tables}:
        assert query(warehouse_url, f"select count(*) from {table}") == [(0,)]
    results = query(warehouse_url, "select count(*) from dq.check_results")

    # A rerun over the same landing folder changes nothing.
    assert register_and_gate(warehouse_url, tmp_path / "first" / "landing", source) == []
    assert query(warehouse_url, "select count(*) from dq.check_results") == results

    # The same body and period again, corrected: it replaces the loaded one.
    write(tmp_path / "second", "resent")
    [resent] = register_and_gate(warehouse_url, tmp_path / "second" / "landing", source)
    assert resent.status == "loaded"
    assert _loaded_rows(warehouse_url, raw_table) == resent_rows
    assert query(warehouse_url, "select status from audit.submissions order by submission_id") \
        == [("superseded",), ("quarantined",), ("loaded",)]


def test_batches_are_bounded_whatever_arrives_and_keep_a_body_together(warehouse_url):
    # 2,000 council submissions of 175 authorities waiting: more than 64 batches of 20.
    query(warehouse_url, "insert into audit.submissions (source, authority_as_delivered, "
          "authority_gss, collection_year, fileset_sha256, landing_path) "
          "select 'council', 'A' || (n % 175), 'E0' || (n % 175), (2000 + n / 175)::text, "
          "md5(n::text), '/landing' from generate_series(1, 2000) n returning submission_id")
    ids = landing.waiting(warehouse_url, "council")
    batches = pipeline.batches(warehouse_url, COUNCIL, ids)

    assert len(batches) <= pipeline.MAX_BATCHES
    assert sorted(sid for b in batches for sid in b) == sorted(ids)  # each once
    by_body = dict(query(warehouse_url, "select submission_id, authority_gss "
                                        "from audit.submissions"))
    for body in set(by_body.values()):
        holding = [b for b in batches if any(by_body[sid] == body for sid in b)]
        assert len(holding) == 1, body  # an authority's years in one batch ...
        mine = [sid for sid in holding[0] if by_body[sid] == body]
        assert mine == sorted(mine)     # ... oldest first
    # Few waiting: batches of the kind's own size.
    few = pipeline.batches(warehouse_url, POLICE, ids[:30])
    assert [len(b) for b in few] <= [POLICE.batch_size] * len(few)
    assert pipeline.batches(warehouse_url, COUNCIL, []) == []


def test_gating_holds_two_connections_at_most_and_leaves_none_open(warehouse_url, server_url,
                                                                   tmp_path):
    for authority in ("805", "806", "807", "808"):
        deliver(tmp_path / "landing", authority=authority)
    deliver_police(tmp_path, "2024-03", [POLICE_ROW])
    landing.register_all(warehouse_url, tmp_path / "landing")
    with ConnectionWatch(server_url, warehouse_url) as watch:
        outcomes = gate_waiting(warehouse_url, "police") + gate_waiting(warehouse_url, "council")
    assert [o.status for o in outcomes] == ["loaded"] * 5
    assert 1 <= watch.peak <= 2  # the pipeline's own connection and GX's, unpooled
    assert watch.now() == 0      # GX's engines hold nothing once a validation is done


def test_a_batch_larger_than_gx_hands_back_is_validated_in_parts(warehouse_url, tmp_path,
                                                                  monkeypatch):
    # GX returns at most 200 rows of a query: with a limit of 2, five months take three parts.
    from mfc import gates

    monkeypatch.setattr(gates, "GX_ROWS", 2)
    months = ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]
    for n, month in enumerate(months):
        day = f"10/{month[5:]}/{month[:4]}"
        deliver_police(tmp_path, month, [[CLEVELAND, f"C-{n}", "PER-1", "14/05/2009", "", "F",
                                          f"{day} 22:15", f"{day} 23:40" if n != 3 else "bad",
                                          "LOW", "Y", "", "TS1", "TS3"]])
    outcomes = register_and_gate(warehouse_url, tmp_path / "landing", "police")
    assert [o.failed_checks for o in outcomes] == [[], [], [], ["police.found"], []]
