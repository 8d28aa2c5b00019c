"""The README's main job: `mfc demo` on a machine with no warehouse configured."""

from __future__ import annotations

import os
import subprocess
import sys

from mfc import demo_data, warehouse


def test_demo_runs_on_an_embedded_postgresql_and_prints_the_table(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k != "MFC_WAREHOUSE_URL" and not k.startswith(("AIRFLOW", "MFC_DBT"))}
    env["MFC_STATE_DIR"] = str(tmp_path / "state")
    try:
        demo = subprocess.run([sys.executable, "-m", "mfc.cli", "demo"], env=env,
                              capture_output=True, text=True, timeout=900)
    finally:
        warehouse.stop_embedded(tmp_path / "state")
    out = demo.stdout
    assert demo.returncode == 0, out + demo.stderr
    assert "starting an embedded PostgreSQL" in out
    # One line per good return, with the counts the synthetic truth gives.
    for ret in demo_data.write(tmp_path / "truth"):
        if ret.is_clean:
            truth = ret.truth()
            assert any(line.startswith(ret.year) and
                       line.split()[-3:] == [str(truth["incidents"]), str(truth["children"]),
                                             str(truth["children_3_plus"])]
                       for line in out.splitlines()), (ret.folder, ret.year)
    # The merged national line of each year adds up: council only + both + police only.
    national = [line.split() for line in out.splitlines() if "England and Wales" in line]
    assert [n[0] for n in national] == ["2022-23", "2023-24"]
    for n in national:
        incidents, council, both, police = map(int, n[4:8])
        assert incidents == council + both + police > 0 and both > 0 and police > 0
    assert "Quarantined: submission" in out and "Hartlepool (E06000001) 2023-24" in out
    bad = next(r for r in demo_data.write(tmp_path / "again") if not r.is_clean)
    line = next(line for line, _, check in bad.defects if check == "1005")
    assert f"missing.csv line {line}: MIS_END '31/02/2024'" in out
    assert "psql 'postgresql://" in out
