"""The README's main job, `mfc demo`, on a machine with no warehouse configured, killed with
SIGKILL at each stage and started again: each next run resumes, the last ends as an
uninterrupted run would (the same marts, no file lost, no row doubled), a PostgreSQL restart in
its middle is survived by retrying the task it broke, and analysts never see a half-built build.

The demo runs as a user runs it (a real process: Airflow, Cosmos, dbt, GX, an embedded
PostgreSQL of its own, which the test can restart). It is held at a named point (mfc.faults) and
killed there. The uninterrupted run it is compared with is the shared nightly_demo (conftest.py),
over the same files.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import marts_snapshot, query

from mfc import demo_data, warehouse

# Where each kill lands: the n-th time the run passes a point (mfc.faults).
REGISTERING, GATING, PROMOTING, REPORTS = "registering:2", "gating:1", "promoting:2", "reports:2"
LANDING_TABLES = ("council_header", "council_episodes", "council_missing", "police_incidents",
                  "aggregate_values")


class Demo:
    """`mfc demo` with a state folder of its own and no warehouse set."""

    def __init__(self, folder: Path) -> None:
        self.state = folder / "state"
        self.flag = folder / "paused"
        self.env = {k: v for k, v in os.environ.items()
                    if k != "MFC_WAREHOUSE_URL" and not k.startswith(("AIRFLOW", "MFC_DBT"))}
        self.env.update(MFC_STATE_DIR=str(self.state), MFC_PAUSE_FLAG=str(self.flag))
        self.url = warehouse.start_embedded(self.state)  # the server the demo will use
        self.landing = self.state / "demo" / "landing"

    def start(self, pause: str = "none", *command: str) -> subprocess.Popen:
        # A session of its own, so that the kill takes every process the run started.
        env = {**self.env, "MFC_PAUSE_AT": pause}
        if command:  # `mfc run` on the demo's warehouse
            env["MFC_WAREHOUSE_URL"] = self.url
        return subprocess.Popen([sys.executable, "-m", "mfc.cli", *(command or ("demo",))],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)

    def kill_when(self, reached: Callable[[], bool], process: subprocess.Popen) -> None:
        deadline = time.monotonic() + 600
        while not reached():
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"the run never got there: {process.communicate()[0][-3000:]}")
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()

    def kill_at(self, point: str) -> dict:
        self.kill_when(self.flag.exists, self.start(point))
        self.flag.unlink()
        return state(self.url)

    def run_through_a_restart(self, point: str) -> subprocess.CompletedProcess:
        """Held at point (a connection open), its server restarted under it, then let go."""
        process = self.start(point)
        while not self.flag.exists():
            assert process.poll() is None, process.communicate()[0][-3000:]
            time.sleep(0.05)
        assert warehouse.stop_embedded(self.state)
        warehouse.start_embedded(self.state)
        self.flag.unlink()
        said = process.communicate(timeout=900)[0]
        return subprocess.CompletedProcess(process.args, process.returncode, said)


# Session-scoped, though only this module uses them: under pytest-xdist its tests may be run
# between test_dag's (they share nightly_demo), and a module fixture would then be made twice.
@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    demo = Demo(tmp_path_factory.mktemp("killed"))
    try:
        yield demo
    finally:
        warehouse.stop_embedded(demo.state)


@pytest.fixture(scope="session")
def killed(demo):
    """The chain of killed runs, then the last run, with its restart: what each left."""
    left = {point: demo.kill_at(point) for point in (REGISTERING, GATING, PROMOTING, REPORTS)}
    left["last"] = demo.run_through_a_restart("reports:1")
    return left


def tables(url: str, schema: str) -> list[str]:
    return [t for (t,) in query(url, "select table_name from information_schema.tables "
                                     "where table_schema = %s order by 1", schema)]


def state(url: str) -> dict:
    return {
        "statuses": dict(query(url, "select status, count(*) from audit.submissions group by 1")),
        "landing_rows": sum(query(url, f"select count(*) from landing.{table}")[0][0]
                            for table in LANDING_TABLES),
    }


def test_each_kill_stopped_the_run_where_it_was_aimed(killed, nightly_demo):
    # Killed while registering: the second delivery was recorded, nothing yet decided.
    assert killed[REGISTERING]["statuses"] == {"received": 2}
    # Killed while gating: everything registered and the first batch landed, none decided.
    total = query(nightly_demo.url, "select count(*) from audit.submissions")[0][0]
    assert killed[GATING]["statuses"] == {"received": total}
    assert killed[GATING]["landing_rows"] > 0  # left behind, holding children's identifiers
    # Killed while promoting the second submission of a batch: only the first got through.
    assert sum(n for s, n in killed[PROMOTING]["statuses"].items() if s != "received") == 1
    assert sum(killed[REPORTS]["statuses"].values()) == total


def test_a_postgresql_restart_mid_run_is_survived_by_a_retry(killed, demo):
    last = killed["last"]
    assert last.returncode == 0, last.stdout[-3000:]
    assert "mfc_nightly finished: success" in last.stdout
    # The reports task lost its connection to the restart, and its second try wrote them.
    log = max((demo.state / "logs").glob("*.log"), key=lambda p: p.stat().st_mtime)
    assert "terminating connection due to administrator command" in log.read_text()
    assert (demo.state / "reports" / "index.html").is_file()


def test_the_last_run_ends_as_an_uninterrupted_run(killed, demo, nightly_demo):
    url, reference = demo.url, nightly_demo.url
    # The same submissions, decided the same way, and no landing row left behind.
    by_status = "select source, status, count(*) from audit.submissions group by 1, 2 order by 1, 2"
    assert query(url, by_status) == query(reference, by_status)
    assert state(url)["landing_rows"] == 0
    # No row doubled: raw holds what the uninterrupted run loaded, row for row.
    for table in ("raw.council_header", "raw.council_episodes", "raw.council_missing",
                  "raw.police_incidents", "raw.aggregate_values"):
        assert query(url, f"select count(*) from {table}") == \
            query(reference, f"select count(*) from {table}"), table
    # Each submission's checks stored by one run only.
    assert query(url, "select count(*) from (select submission_id from dq.check_results "
                      "group by 1 having count(distinct run_id) > 1) as twice") == [(0,)]
    # The marts, row for row (the uninterrupted run's as it left them).
    assert marts_snapshot(url) == nightly_demo.marts
    assert tables(url, "marts_next") == []


def test_no_delivered_file_was_lost(killed, demo):
    files = query(demo.url, "select f.sha256, f.archived_path from audit.submission_files f "
                            "where f.problem is null")
    delivered = sorted(p for p in demo.landing.rglob("*") if p.is_file())
    assert sorted(sha for sha, _ in files) == sorted(
        hashlib.sha256(p.read_bytes()).hexdigest() for p in delivered)
    for sha, archived in files:  # every kept copy is there, and is the file delivered
        assert hashlib.sha256(Path(archived).read_bytes()).hexdigest() == sha


def test_the_demo_prints_the_table_the_synthetic_truth_gives(killed, tmp_path):
    out = killed["last"].stdout
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


def test_a_kill_during_dbt_leaves_analysts_the_last_good_marts(killed, demo):
    before = marts_snapshot(demo.url)
    # A full rebuild, killed once its build aside is half made.
    demo.kill_when(lambda: len(tables(demo.url, "marts_next")) >= 5,
                   demo.start("none", "run", "--landing", str(demo.landing), "--full-refresh",
                              "--quiet"))
    assert 5 <= len(tables(demo.url, "marts_next")) < len(tables(demo.url, "marts"))
    # The marts analysts read are as they were.
    assert marts_snapshot(demo.url) == before
