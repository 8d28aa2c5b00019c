"""mfc_nightly end to end with dag.test(): real Airflow, Cosmos, dbt, GX and PostgreSQL.

The demo's synthetic returns have known answers (mfc.demo_data): the marts must equal them
exactly, the spoiled return must be quarantined, and a second run must change nothing. A run
killed at each stage, or whose server restarts, must end as that uninterrupted run did (the
second half of this module).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import hashlib
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from helpers import marts_snapshot, query

from mfc import config, demo_data, nightly, progress, runner, warehouse

DAG_FILE = config.dags_dir() / "mfc_nightly.py"


@pytest.fixture(scope="module")
def dag():
    runner.prepare_airflow()
    return runner.load_dag()


def test_dag_files_import_and_follow_policy(dag):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(config.dags_dir()))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"mfc_nightly"}
    assert dag.catchup is False
    assert dag.tags and "nightly" in dag.tags
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) == "Europe/London"
    assert dag.start_date.year == 2026  # static, not computed at parse time
    assert dag.dagrun_timeout.total_seconds() == 6 * 3600  # done before analysts start work
    for task in dag.tasks:
        assert task.owner == "mfc-data-engineering"
        assert task.execution_timeout.total_seconds() == 2 * 3600, task.task_id
        assert [type(n).__name__ for n in task.on_failure_callback] == ["AlertNotifier"]
        expected = 0 if task.task_id == "gate_marts" else 2
        assert task.retries == expected, task.task_id
    # Cosmos rendered every dbt node as a task, seeds and models included.
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert {"dbt.authorities_seed_build", "dbt.fct_missing_incidents_model_build",
            "dbt.agg_missing_by_authority_year_model_build"} <= dbt_tasks


def test_dag_file_is_wiring_only():
    """No database access or heavy imports at parse time: the work lives in src/mfc."""
    source = DAG_FILE.read_text()
    for forbidden in ("psycopg", "great_expectations", "Variable.get", "Connection",
                      "import pandas"):
        assert forbidden not in source


def snapshot(url: str) -> dict[str, list]:
    """Every row of every table we own, in a stable order."""
    tables = query(url, "select table_schema || '.' || table_name from information_schema.tables "
                        "where table_schema in ('audit', 'raw', 'dq', 'landing', 'marts', "
                        "'reference') and table_type = 'BASE TABLE' order by 1")
    return {t: query(url, f"select * from {t} as r order by r::text") for (t,) in tables}


def test_nightly_run_loads_good_returns_quarantines_the_bad_one_and_reruns_change_nothing(
        nightly_demo, monkeypatch, dag):
    for name, value in nightly_demo.env.items():
        monkeypatch.setenv(name, value)
    warehouse_url, returns, landing = nightly_demo.url, nightly_demo.returns, nightly_demo.landing
    run = nightly_demo.run
    assert run.state == "success"
    # The connection budget (MFC_MAX_CONNECTIONS), dbt's threads included; none left open.
    assert 2 <= nightly_demo.peak_connections <= config.max_connections() == 20
    assert nightly_demo.open_connections == 0
    # Every kind's batches were mapped, each stage timed.
    assert {t.task_id for t in run.tasks} >= {"gate_council", "gate_police", "gate_aggregate"}
    assert set(progress.stage_seconds(run.tasks)) >= {"register + archive", "gate + promote",
                                                      "dbt", "mart gate", "reports"}

    statuses = dict(query(warehouse_url, "select authority_as_delivered || ' ' || collection_year, "
                                         "status from audit.submissions where source = 'council'"))
    assert statuses == {f"{r.folder} {r.year}": ("loaded" if r.is_clean else "quarantined")
                        for r in returns}
    # The marts equal the synthetic truth, authority by authority, year by year.
    marts = {(gss, year): {"incidents": i, "children": c, "children_3_plus": c3}
             for gss, year, i, c, c3 in query(
                 warehouse_url, "select authority_gss, collection_year, incidents, "
                 "distinct_children, children_missing_3_plus "
                 "from marts.agg_missing_by_authority_year")}
    assert marts == {(r.gss, r.year): r.truth() for r in returns if r.is_clean}
    assert query(warehouse_url, "select count(*) from marts.fct_missing_incidents "
                                "where council_submission_id is not null") == [
        (sum(r.truth()["incidents"] for r in returns if r.is_clean),)]
    # Every police month file of the slice's forces loaded.
    assert query(warehouse_url, "select status, count(*) from audit.submissions "
                                "where source = 'police' group by 1") == [
        ("loaded", len(list(landing.glob("police/*/*.csv"))))]
    # The FOI answer: the force's calendar year as reported; sums are intervals, and a value
    # for a calendar year is not added into a financial year but named.
    reported = query(warehouse_url, "select measure, period_type, period, area_type, "
                     "values_included, total_lower, total_upper, total_upper_bounded, "
                     "not_aligned from marts.agg_reported_by_year "
                     "where (measure, period) in (('missing_incidents', '2023'), "
                     "('children_missing', '2023-24')) order by 1")
    incidents = demo_data.cleveland_incidents_2023(landing.parent)
    assert reported == [
        ("children_missing", "financial_year", "2023-24", "authority", 1, 0, None, False,
         "Hartlepool 01/01/2023-31/12/2023"),
        ("missing_incidents", "calendar_year", "2023", "force", 1, incidents, incidents, True,
         None)]
    assert query(warehouse_url, "select value_lower, value_upper from marts.fct_reported_values "
                 "where area_name = 'Hartlepool' and calendar_year = 2023") == [(43, 47)]

    # The spoiled return: named rows in dq, nothing in raw.
    bad = next(r for r in returns if not r.is_clean)
    failures = query(warehouse_url, "select d.check_id, d.examples from dq.check_results d "
                     "join audit.submissions s using (submission_id) "
                     "where s.status = 'quarantined' and d.result = 'FAIL' order by 1")
    named = sorted((check, ex[0]["line"]) for check, ex in failures)
    assert named == sorted((check, line) for line, _, check in bad.defects)
    assert query(warehouse_url, "select count(*) from raw.council_missing m "
                 "join audit.submissions s using (submission_id) "
                 "where s.status = 'quarantined'") == [(0,)]
    # Every submission got its data-quality report, linked from the national page.
    reports = config.reports_dir()
    assert (reports / "index.html").is_file()
    for ret in returns:
        assert list((reports / ret.gss).glob("*/index.html")), ret.gss
    [(bad_id,)] = query(warehouse_url, "select submission_id from audit.submissions "
                        "where status = 'quarantined'")
    page = (reports / bad.gss / str(bad_id) / "index.html").read_text()
    # Its planted defects (mfc.demo_data): 567 and 1005, one row each.
    assert "Quarantined: 2 blocking checks failed, 2 rows to fix" in page

    # Rerun through the CLI: exit 0, and not one row anywhere changes.
    before = snapshot(warehouse_url)
    rerun = subprocess.run([sys.executable, "-m", "mfc.cli", "run", "--landing", str(landing)],
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "mfc_nightly finished: success" in rerun.stdout
    # It says what it did, in plain text when not on a terminal: nothing new this time.
    assert "Submissions decided in this run" in rerun.stdout
    assert "nothing new" in rerun.stdout and "Seconds per stage" in rerun.stdout
    assert "marts.fct_missing_incidents" in rerun.stdout
    # Nothing new since today's build: dbt did not run again.
    assert "Marts (0 dbt nodes built and tested)" in rerun.stdout
    assert "\x1b[" not in rerun.stdout
    assert snapshot(warehouse_url) == before

    # The analyst guide's queries run, and answer.
    guide = (config.dags_dir().parent / "docs" / "analyst-guide.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", guide, re.S)
    assert len(blocks) >= 5
    for block in blocks:
        assert query(warehouse_url, block), block

    # Each mart check fails on its own crafted fault (all passed above, on good marts), in a
    # build made aside as the nightly run makes it. Moving an incident to another authority also
    # breaks the totals, and must say so.
    nightly.start_marts_build()
    for table in ("fct_missing_incidents", "agg_missing_by_authority_year", "dim_authorities"):
        query_commit(warehouse_url, f"create table marts_next.{table} as table marts.{table}")
    [(key, gss)] = query(warehouse_url, "select incident_key, responsible_authority_gss "
                         "from marts.fct_missing_incidents where council_submission_id "
                         "is not null order by incident_key limit 1")
    fct = f"update marts_next.fct_missing_incidents set {{}} where incident_key = '{key}'"
    agg = ("update marts_next.agg_missing_by_authority_year set incidents = incidents {} 1 "
           "where authority_year_key = (select min(authority_year_key) "
           "from marts_next.agg_missing_by_authority_year)")
    faults = [
        ({"mfc.marts.duration_not_negative"}, fct.format("duration_days = -1"),
         fct.format("duration_days = ended_on - started_on")),
        ({"mfc.marts.authority_known", "mfc.marts.totals_agree"},
         fct.format("responsible_authority_gss = 'E06999999'"),
         fct.format(f"responsible_authority_gss = '{gss}'")),
        ({"mfc.marts.authority_in_force", "mfc.marts.totals_agree"},  # Bournemouth, gone 2019
         fct.format("responsible_authority_gss = 'E06000028'"),
         fct.format(f"responsible_authority_gss = '{gss}'")),
        ({"mfc.marts.totals_agree"}, agg.format("+"), agg.format("-")),
    ]
    for expected, fault, undo in faults:
        query_commit(warehouse_url, fault)
        with pytest.raises(nightly.MartGateFailed) as failed:
            nightly.gate_marts()
        assert set(re.findall(r"^(mfc\.marts\.\w+) FAIL", str(failed.value), re.M)) == expected
        assert "left unpublished in schema marts_next" in str(failed.value)
        query_commit(warehouse_url, undo)
        # Analysts' marts were never touched: the build is aside.
        assert snapshot(warehouse_url) == before
    assert len(nightly.gate_marts()) == 4  # undone: all four pass again

    # Published: the build is the marts now, in one step; the old build is gone; it is recorded.
    nightly.publish_marts("test-publish")
    assert query(warehouse_url, "select table_name from information_schema.tables "
                 "where table_schema = 'marts' order by 1") == [
        ("agg_missing_by_authority_year",), ("dim_authorities",), ("fct_missing_incidents",)]
    assert query(warehouse_url, "select nspname from pg_namespace where nspname like 'marts%'") \
        == [("marts",)]
    assert query(warehouse_url, "select count(*) from audit.mart_builds where run_id = "
                 "'test-publish' and published_at is not null") == [(1,)]
    # Analysts read the published build as before.
    assert query(warehouse_url, "select has_schema_privilege('mfc_analyst', 'marts', 'usage'), "
                 "has_schema_privilege('mfc_transformer', 'marts', 'create')") == [(True, True)]


def query_commit(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(statement)


def mfc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mfc.cli", *args], capture_output=True,
                          text=True, timeout=600, env={**_environ(), **(env or {})})


def one_line(failed: subprocess.CompletedProcess) -> str:
    """A user's mistake ends in exit status 2 and one line on stderr, never a traceback."""
    assert failed.returncode == 2, failed
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1, \
        failed.stderr
    return failed.stderr


def test_every_cli_error_a_user_can_cause_is_one_line(tmp_path, server_url):
    from helpers import create_database, drop_database

    synthetic = tmp_path / "synthetic"
    (synthetic / "landing" / "council").mkdir(parents=True)
    (synthetic / "truth").mkdir()
    (synthetic / "truth" / "records.csv").write_text("file,line,true_incident_id\n")
    unreachable = {"MFC_WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    assert "127.0.0.1:1/nowhere cannot be reached" in one_line(
        mfc("run", "--landing", str(synthetic / "landing"), env=unreachable))
    assert "does not exist" in one_line(mfc("run", "--landing", str(tmp_path / "absent")))
    # The synthetic output's root, not its landing folder: says what it expected, and where.
    said = one_line(mfc("run", "--landing", str(synthetic)))
    assert "holds none of council/, police/, aggregate/" in said
    assert f"did you mean {synthetic / 'landing'}?" in said
    empty = create_database(server_url)
    try:
        said = one_line(mfc("evaluate", "--truth", str(synthetic),
                            env={"MFC_WAREHOUSE_URL": empty}))
        assert "has no marts yet: run `mfc run --landing FOLDER`" in said
        # A second `mfc run` while one holds the warehouse: refused, not interleaved.
        with psycopg.connect(empty, autocommit=True) as first_run:
            first_run.execute("select pg_advisory_lock(hashtext('mfc.run'))")
            said = one_line(mfc("run", "--landing", str(synthetic / "landing"),
                                env={"MFC_WAREHOUSE_URL": empty}))
        assert "another `mfc run` is running on the warehouse at" in said and " since " in said
    finally:
        drop_database(server_url, empty)


class Sink(http.server.BaseHTTPRequestHandler):
    """A webhook: keeps what is posted to it."""
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (the handler's name is http.server's)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Sink.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_run_that_cannot_reach_the_warehouse_fails_at_once_and_alerts(
        tmp_path, monkeypatch, capfd):
    landing = tmp_path / "landing"
    (landing / "council").mkdir(parents=True)
    monkeypatch.setenv("MFC_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    server = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MFC_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    try:
        result = runner.run_nightly(landing)
    finally:
        server.shutdown()
    assert result.state == "failed"
    assert {t.task_id for t in result.tasks if t.state == "failed"} == {"discover_submissions"}
    said = capfd.readouterr()
    reason = ("the warehouse at 127.0.0.1:1/nowhere cannot be reached (connection to server at "
              '"127.0.0.1", port 1 failed: Connection refused)')
    assert reason in said.out + said.err
    # The operator is told, once, which task and why.
    [alert] = Sink.received
    assert alert["task_id"] == "discover_submissions" and alert["dag_id"] == "mfc_nightly"
    assert reason in alert["text"] and alert["text"].startswith("mfc_nightly ")


class Mailbox:
    """An SMTP server's handler (aiosmtpd): keeps each message it is sent."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


def test_a_run_stopped_at_its_deadline_alerts_by_webhook_and_email(dag, monkeypatch):
    from aiosmtpd.controller import Controller

    Sink.received.clear()
    hook = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port: aiosmtpd cannot be given port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mail = Controller(mailbox, hostname="127.0.0.1", port=port)
    mail.start()
    monkeypatch.setenv("MFC_ALERT_WEBHOOK", f"http://127.0.0.1:{hook.server_port}/hook")
    monkeypatch.setenv("MFC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MFC_SMTP_PORT", str(port))
    monkeypatch.setenv("MFC_SMTP_FROM", "mfc@warehouse.example")
    monkeypatch.setenv("MFC_SMTP_TO", "on-call@warehouse.example, data-team@warehouse.example")
    run_id = "scheduled__2026-12-04T02:00:00+00:00"
    try:
        [notifier] = dag.on_failure_callback
        # The contexts the dag-processor gives a run's failure callback: a run failed by a task
        # (that task has already alerted), and a run stopped at its dagrun_timeout.
        notifier({"dag": dag, "run_id": run_id, "reason": "task_failure"})
        notifier({"dag": dag, "run_id": run_id, "reason": "timed_out"})
    finally:
        hook.shutdown()
        mail.stop()
    said = (f"mfc_nightly {run_id}: the run missed its deadline and was stopped; analysts "
            "still read the last good marts")
    [alert] = Sink.received
    assert alert["text"] == said and alert["reason"] == "timed_out"
    [sent] = mailbox.messages
    assert sent["Subject"] == said
    assert sent["To"] == "on-call@warehouse.example, data-team@warehouse.example"
    assert json.loads(sent.get_content())["run_id"] == run_id


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_demo_truth_counts_the_files_as_written(tmp_path):
    """The truth the DAG test relies on counts the delivered files, not the generator's intent."""
    import csv

    returns = demo_data.write(tmp_path)
    assert {r.folder for r in returns} >= {"E06000002", "839", "Sheffield"}  # all three namings
    assert sum(not r.is_clean for r in returns) == 1
    for ret in returns:
        with Path(tmp_path / "landing" / "council" / ret.folder / ret.year / "missing.csv").open(
                newline="") as f:
            rows = list(csv.DictReader(f))
        per_child: dict[str, int] = {}
        for row in rows:
            per_child[row["CHILD"]] = per_child.get(row["CHILD"], 0) + 1
        assert ret.truth() == {"incidents": len(rows), "children": len(per_child),
                               "children_3_plus": sum(n >= 3 for n in per_child.values())}
        assert ret.truth()["incidents"] > 0


def test_a_setting_to_fix_fails_the_task_without_retrying(dag, tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("MFC_WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    discover = dag.get_task("discover_submissions")
    assert discover.retries == 2  # the scheduler retries what may pass next time
    with pytest.raises(AirflowFailException, match="holds none of council/, police/, aggregate/"):
        discover.python_callable(params={"landing_dir": str(tmp_path)})


# ---------------------------------------------------------------------------------------------
# Killed and restarted runs. The README's main job, `mfc demo`, on a machine with no warehouse
# configured, killed with SIGKILL at each stage and started again: each next run resumes, the
# last ends as an uninterrupted run would (the same marts, no file lost, no row doubled), a
# PostgreSQL restart in its middle is survived by retrying the task it broke, and analysts never
# see a half-built build. The demo runs as a user runs it (a real process: Airflow, Cosmos, dbt,
# GX, an embedded PostgreSQL of its own, which the test can restart). It is held at a named point
# (mfc.faults) and killed there. The uninterrupted run it is compared with is nightly_demo, over
# the same files (in this module, so that one pytest-xdist worker makes it once).

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


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo = Demo(tmp_path_factory.mktemp("killed"))
    try:
        yield demo
    finally:
        warehouse.stop_embedded(demo.state)


@pytest.fixture(scope="module")
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
