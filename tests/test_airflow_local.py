"""`mfc airflow`: a real local Airflow (scheduler, dag-processor, triggerer, API server) with its
metadata on the warehouse's server, started, given a run by `mfc run --airflow`, read through
its REST API, and stopped. Real processes, a real PostgreSQL; nothing mocked.
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from helpers import create_database, database_url, deliver, drop_database, query
from psycopg.conninfo import conninfo_to_dict

AUTHORITY = "806"          # Middlesbrough, by its DfE code
AUTHORITY_GSS = "E06000002"
YEAR = "2023-24"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Connections:
    """The most server connections seen at once on some databases (pg_stat_activity), polled
    from the maintenance database while a block runs."""

    def __init__(self, server: str, *databases: str) -> None:
        self.server, self.databases = server, list(databases)
        self.peak: dict[str, int] = dict.fromkeys(databases, 0)
        self.peak_total = 0
        self._stop = threading.Event()

    def _poll(self) -> None:
        with psycopg.connect(self.server, autocommit=True) as conn:
            while not self._stop.is_set():
                seen = dict(conn.execute(
                    "select datname, count(*) from pg_stat_activity where datname = any(%s) "
                    "group by 1", (self.databases,)).fetchall())
                for name, count in seen.items():
                    self.peak[name] = max(self.peak[name], count)
                self.peak_total = max(self.peak_total, sum(seen.values()))
                self._stop.wait(0.2)

    def __enter__(self) -> Connections:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def site(server_url, tmp_path):
    """A config file naming a new warehouse, a landing folder holding one council return, a
    state folder and a free port; the databases are dropped and every process stopped after."""
    warehouse = create_database(server_url)
    metadata = f"mfc_airflow_test_{uuid.uuid4().hex[:12]}"
    landing = deliver(tmp_path / "landing", authority=AUTHORITY, year=YEAR)
    config_file = tmp_path / "mfc.toml"
    config_file.write_text(
        f'warehouse_url = "{warehouse}"\nlanding_dir = "landing"\nstate_dir = "state"\n\n'
        f'[airflow]\nport = {free_port()}\ndatabase = "{metadata}"\n')
    # Only the config file says where things are: no setting of this session leaks in.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "MFC_")) or k in (
               "MFC_PSEUDONYMISATION_KEY", "MFC_LANDING_QUIET_SECONDS")}
    env["MFC_CONFIG"] = str(config_file)
    try:
        yield {"env": env, "warehouse": warehouse, "metadata": metadata, "landing": landing,
               "state": tmp_path / "state"}
    finally:
        mfc(env, "airflow", "stop")
        drop_database(server_url, warehouse)
        drop_database(server_url, database_url(server_url, metadata))


def mfc(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mfc.cli", *args], env=env, capture_output=True,
                          text=True, timeout=900)


def api(base: str, token: str, path: str):
    request = urllib.request.Request(f"{base}/api/v2{path}", headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def login(base: str, password: str) -> str:
    """SimpleAuthManager's token endpoint, as any API client would use it."""
    request = urllib.request.Request(
        f"{base}/auth/token", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"username": "admin", "password": password}).encode())
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["access_token"]


def process_group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def test_local_airflow_runs_the_nightly_dag_and_shows_it_through_its_api(site, server_url):
    env, state = site["env"], site["state"]

    started = mfc(env, "airflow", "start")
    assert started.returncode == 0, started.stdout + started.stderr
    [base] = re.findall(r"The Airflow UI is at (http://localhost:\d+)/", started.stdout)
    assert f"database {site['metadata']}" in started.stdout
    status = mfc(env, "airflow", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert len(re.findall(r"running, pid \d+", status.stdout)) == 4
    assert "metadatabase healthy, scheduler healthy, triggerer healthy, dag_processor healthy" \
        in status.stdout
    with urllib.request.urlopen(f"{base}/", timeout=30) as page:  # the UI itself
        assert page.status == 200 and b"<html" in page.read().lower()

    with Connections(server_url, site["metadata"],
                     conninfo_to_dict(site["warehouse"])["dbname"]) as seen:
        run = mfc(env, "run")  # over landing_dir, from the config file
    assert run.returncode == 0, run.stdout + run.stderr
    # While the local Airflow runs, a run goes there: it shows in the UI.
    assert "The local Airflow is running (mfc airflow start): the run goes there" in run.stdout
    assert "mfc_nightly was paused: unpaused" in run.stdout
    [run_id] = re.findall(r"Triggered mfc_nightly run (\S+) on the local Airflow", run.stdout)
    assert "mfc_nightly finished: success" in run.stdout
    # Airflow and the run together stay well within the server's connections.
    assert seen.peak_total < 20, seen.peak

    # The run, as the API (and so the UI) shows it: one run, a success, every task done.
    token = login(base, json.loads((state / "airflow-local" / "passwords.json").read_text())[
        "admin"])
    runs = api(base, token, "/dags/mfc_nightly/dagRuns")["dag_runs"]
    assert [(r["dag_run_id"], r["state"]) for r in runs] == [(run_id, "success")]
    assert runs[0]["conf"]["landing_dir"] == str(site["landing"])
    tasks = api(base, token, f"/dags/mfc_nightly/dagRuns/{run_id}/taskInstances?limit=100")
    states = {t["task_id"]: t["state"] for t in tasks["task_instances"]}
    assert states["gate_council"] == "success" and states["publish_marts"] == "success"
    assert states["dbt.fct_missing_incidents_model_build"] == "success"
    # A task's log, through the API: what it found in the landing folder.
    log = api(base, token, f"/dags/mfc_nightly/dagRuns/{run_id}/taskInstances/"
                           "discover_submissions/logs/1?full_content=true")
    text = "\n".join(e.get("event", "") for e in log["content"] if isinstance(e, dict))
    assert f"to gate from {site['landing']}: 1 council return(s)" in text, text[-2000:]

    # The warehouse holds what was delivered: the marts equal the return's own counts.
    with (site["landing"] / "council" / AUTHORITY / YEAR / "missing.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert query(site["warehouse"], "select incidents, distinct_children "
                 "from marts.agg_missing_by_authority_year where authority_gss = %s "
                 "and collection_year = %s", AUTHORITY_GSS, YEAR) == [
        (len(rows), len({r["CHILD"] for r in rows}))]

    pids = [int((state / "airflow-local" / "run" / f"{name}.pid").read_text().split()[0])
            for name in ("api-server", "dag-processor", "triggerer", "scheduler")]
    stopped = mfc(env, "airflow", "stop")
    assert stopped.returncode == 0 and "The local Airflow is stopped." in stopped.stdout
    # Each process and everything it started (executor workers, API workers) is gone.
    assert not [pid for pid in pids if process_group_alive(pid)]
    assert mfc(env, "airflow", "status").returncode == 1
    said = mfc(env, "run", "--airflow")
    assert said.returncode == 2 and said.stderr.strip() == (
        "mfc run: no local Airflow is running: start it with `mfc airflow start`")


def test_the_config_file_gives_every_setting_and_the_environment_overrides_it(
        tmp_path, monkeypatch):
    from mfc import config

    example = Path(__file__).resolve().parents[1] / "infra" / "mfc.example.toml"
    for name in config.FILE_KEYS.values():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MFC_CONFIG", str(example))
    assert config.warehouse_url() == "postgresql://mfc_loader@127.0.0.1:5432/mfc"
    assert config.landing_dir() == Path("/data/landing")
    assert config.state_dir() == example.parent / ".mfc"  # relative to the file
    assert (config.airflow_port(), config.airflow_database()) == (8080, "mfc_airflow")
    assert config.airflow_parallelism() == max(2, os.cpu_count() or 1)
    assert config.smtp() is None and config.alert_webhook() is None
    monkeypatch.setenv("MFC_WAREHOUSE_URL", "postgresql://other@db/mfc")
    assert config.warehouse_url() == "postgresql://other@db/mfc"

    mine = tmp_path / "mfc.toml"
    mine.write_text('alert_webhook = "http://127.0.0.1:9/hook"\n[smtp]\nhost = "mail"\n'
                    'from = "mfc@example.org"\nto = ["a@example.org", "b@example.org"]\n')
    monkeypatch.setenv("MFC_CONFIG", str(mine))
    assert config.smtp() == config.Smtp("mail", 25, "mfc@example.org",
                                        ("a@example.org", "b@example.org"))
    assert config.alert_webhook() == "http://127.0.0.1:9/hook"
    mine.write_text('warehouse = "postgresql://typo@db/mfc"\n')
    monkeypatch.delenv("MFC_WAREHOUSE_URL")
    with pytest.raises(config.ConfigurationError, match="unknown setting.*warehouse"):
        config.warehouse_url()
    monkeypatch.delenv("MFC_CONFIG")
    monkeypatch.chdir(tmp_path)  # ./mfc.toml when MFC_CONFIG is not set
    mine.write_text('landing_dir = "deliveries"\n')
    assert config.landing_dir() == tmp_path / "deliveries"


def test_the_warehouse_connection_keeps_a_socket_host_for_dbt():
    """The embedded server's URL names a Unix socket: Cosmos' profile mapping must get it as
    the host, and a password (trust authentication ignores it), or it refuses to run."""
    from mfc import config

    conn = json.loads(config.airflow_connection("postgresql://postgres:@/mfc?host=/tmp/pg"))
    assert (conn["conn_type"], conn["host"], conn["schema"], conn["login"]) == (
        "postgres", "/tmp/pg", "mfc", "postgres")
    assert conn["password"]
