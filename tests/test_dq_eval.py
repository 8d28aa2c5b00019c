"""The gates against the synthetic defects manifest (the issue's targets), on a small slice of
the North East: with defects, every injected defect is caught by the check the manifest names;
without, no return fails. Real PostgreSQL, real GX gates, real synthetic files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import gate_waiting, query

from mfc import cli, dq_eval, landing
from mfc.synth.defects import ROW_KINDS

NORTH_EAST = "E12000001"


def synthesise(out: Path, defect_rate: float) -> None:
    assert cli.main(["synth", "--out", str(out), "--seed", "5", "--years", "2023-2024",
                     "--region", NORTH_EAST, "--scale", "0.3",
                     "--defect-rate", str(defect_rate)]) == 0


def gate_all(url: str, out: Path) -> None:
    """Corrected resubmissions replace earlier deliveries: those are gated first."""
    for folder in (out / "resubmissions" / "1", out / "landing"):
        if folder.exists():
            landing.register_all(url, folder)
            gate_waiting(url, "council", "dq-eval")


@pytest.fixture(scope="module")
def spoilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("spoilt")
    synthesise(out, 0.05)
    return out


def test_every_injected_defect_is_caught_by_the_check_the_manifest_names(
        warehouse_url, spoilt, capsys):
    gate_all(warehouse_url, spoilt)
    evaluation = dq_eval.evaluate(warehouse_url, spoilt)

    kinds = {k.kind: k for k in evaluation.kinds}
    assert set(ROW_KINDS) <= set(kinds)  # the slice holds every row defect, and some files'
    assert len(kinds) > len(ROW_KINDS)
    assert {k.kind: k.caught for k in kinds.values()} == {
        k.kind: k.injected for k in kinds.values()}
    assert evaluation.caught / evaluation.injected >= 0.99
    assert all(k.not_gated == 0 for k in kinds.values())
    # Clean rows draw warnings at most (periods genuinely open on 31 March), never a FAIL.
    assert {result for _, result, _ in evaluation.clean_findings} <= {"WARNING"}
    assert evaluation.clean_submissions_failed == []

    assert cli.main(["dq-eval", "--truth", str(spoilt)]) == 0
    printed = capsys.readouterr().out
    assert "overlapping_period       574" in printed
    assert "all " in printed and "100.0%" in printed


def test_a_clean_slice_has_no_failure(warehouse_url, tmp_path):
    synthesise(tmp_path, 0)
    gate_all(warehouse_url, tmp_path)
    assert query(warehouse_url, "select count(*) from dq.check_results "
                                "where result = 'FAIL'") == [(0,)]
    assert query(warehouse_url, "select status, count(*) from audit.submissions "
                                "where source = 'council' group by status") == [("loaded", 24)]
