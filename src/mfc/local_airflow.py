"""`mfc airflow start|stop|status`: a real Airflow on this machine, the one the nightly run
runs in: scheduler, dag-processor, triggerer and API server (with the UI) as background
processes, the LocalExecutor, the project's DAGs.

Everything it keeps is under <state folder>/airflow-local: its airflow.cfg, generated secrets
and login, the processes' pids and logs, the task logs. Its metadata is a database of its own
on the warehouse's server (config.airflow_database(), created if missing). The warehouse
reaches dbt as an Airflow connection (config.WAREHOUSE_CONN_ID) defined in the processes'
environment, so nothing secret is stored in the metadata database.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from mfc import config, progress, runner, warehouse
from mfc.progress import TaskTiming

# Started in this order, stopped in the reverse: the API server last, since running tasks
# report to it while the scheduler stops them.
PROCESSES = ("api-server", "dag-processor", "triggerer", "scheduler")
USER = "admin"
# Metadata connections each process's pools may hold (SQLAlchemy pool size + overflow, the
# API server has a second, async pool): small, for a server shared with everything else.
POOL_SIZE, MAX_OVERFLOW = 1, 2
# Imported once by the LocalExecutor's forkserver, so that each task's process (a fork of a
# worker) starts with them, instead of importing Cosmos, dbt and the library anew every task:
# seconds per task, most of a dbt node's time.
PRELOAD = ("airflow.sdk", "airflow.sdk.execution_time.task_runner",
           "airflow.sdk.execution_time.supervisor", "airflow.dag_processing.dagbag",
           "airflow.dag_processing.bundles.manager", "cosmos", "cosmos.operators.local",
           "dbt.cli.main", "dbt.adapters.postgres", "openlineage.common.provider.dbt.local",
           "great_expectations", "mfc.nightly", "mfc.alerts", "mfc.gates", "mfc.task_preload")
START_TIMEOUT = 240  # seconds to wait for the API and the DAG on a cold start


class AirflowFailed(RuntimeError):
    """The local Airflow did not come up, or stopped: says why, with the end of its log."""


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def run(self) -> Path:          # <name>.pid
        return self.home / "run"

    @property
    def logs(self) -> Path:         # <name>.log: each process's own output
        return self.home / "process-logs"

    @property
    def secrets(self) -> Path:      # keys the processes must share
        return self.home / "secrets.json"

    @property
    def passwords(self) -> Path:    # the UI login, SimpleAuthManager's file
        return self.home / "passwords.json"

    @property
    def port_file(self) -> Path:    # the port it was started on, for run --airflow and stop
        return self.run / "port"

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"


def paths() -> Paths:
    return Paths(config.state_dir() / "airflow-local")


def metadata_url(warehouse_url: str, database: str) -> str:
    """SQLAlchemy URL of `database` on the warehouse's server, as the warehouse's user.
    psycopg 3 serves both of Airflow's engines (sync and the API server's async one)."""
    from sqlalchemy.engine import URL

    parts = conninfo_to_dict(warehouse_url)
    host = str(parts.get("host") or "127.0.0.1")
    socket_dir = host.startswith("/")  # a Unix socket (the embedded server) goes in the query
    return URL.create(
        "postgresql+psycopg", username=str(parts.get("user") or "postgres"),
        password=str(parts["password"]) if parts.get("password") else None,
        host=None if socket_dir else host,
        port=None if socket_dir else int(parts.get("port") or 5432), database=database,
        query={"host": host} if socket_dir else {},
    ).render_as_string(hide_password=False)


def ensure_database(warehouse_url: str, database: str) -> None:
    """Create the metadata database beside the warehouse, unless it exists."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            return
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        except psycopg.errors.InsufficientPrivilege as denied:
            raise config.ConfigurationError(
                f"cannot create Airflow's database {database} on {warehouse.where(warehouse_url)}"
                f" ({str(denied).strip()}): create it for the warehouse's user, or name one in "
                "airflow.database (MFC_AIRFLOW_DATABASE)") from None


def _secret_file(path: Path, make) -> dict[str, str]:
    """A JSON file of generated secrets, made once, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(make(), out)
    return json.loads(path.read_text())


def _generated_secrets(p: Paths) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return _secret_file(p.secrets, lambda: {
        "fernet_key": Fernet.generate_key().decode(), "jwt_secret": secrets.token_urlsafe(32),
        "api_secret_key": secrets.token_urlsafe(32)})


def password(p: Paths | None = None) -> str:
    """The UI's admin password, generated on first start (SimpleAuthManager reads the file)."""
    p = p or paths()
    return _secret_file(p.passwords, lambda: {USER: secrets.token_urlsafe(12)})[USER]


def environment(p: Paths, port: int) -> dict[str, str]:
    """Everything the four processes (and the tasks they run) are given."""
    url = config.require_warehouse_url()
    keys = _generated_secrets(p)
    metadata = metadata_url(url, config.airflow_database())
    env = {
        **os.environ,
        # Cosmos, telemetry and lineage settings of the one-off runs (runner.py).
        **runner.airflow_environment(config.state_dir()),
        "AIRFLOW_HOME": str(p.home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(config.airflow_parallelism()),
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Europe/London",
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(p.passwords),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": str(POOL_SIZE),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": str(MAX_OVERFLOW),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",  # one DAG file
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
        "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(PRELOAD),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # what the tasks say, in their logs
        "AIRFLOW__COSMOS__CACHE_DIR": str(p.home / "cosmos-cache"),
        config.WAREHOUSE_CONN_ENV: config.airflow_connection(url),
        # Settings from the config file made explicit, so that each task sees what start saw.
        "MFC_WAREHOUSE_URL": url,
        "MFC_LANDING_DIR": str(config.landing_dir()),
        "MFC_STATE_DIR": str(config.state_dir()),
        # The venv's executables (dbt, airflow) for anything that looks on PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    webhook = config.alert_webhook()
    if webhook:
        env["MFC_ALERT_WEBHOOK"] = webhook
    if config.config_file():
        env[config.CONFIG_ENV] = str(config.config_file())
    return env


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name: state, ppid, pgrp, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _started_at(pid: int) -> str | None:
    """When a process started (clock ticks since boot): with its pid, names it for good,
    where a pid alone may since have been given to another process."""
    fields = _stat(pid)
    return fields[19] if fields and fields[0] != "Z" else None


def _group_members(pgid: int) -> list[int]:
    """Processes still in a process group: a started process and everything it started."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def running(p: Paths | None = None) -> dict[str, int]:
    """The processes running now, by name: pid."""
    p = p or paths()
    found = {}
    for name in PROCESSES:
        try:
            pid, started = p.pid_file(name).read_text().split()
        except (OSError, ValueError):
            continue
        if _started_at(int(pid)) == started:
            found[name] = int(pid)
    return found


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _command(name: str, port: int) -> list[str]:
    airflow = [sys.executable, "-m", "airflow", name]
    if name == "api-server":
        return [*airflow, "--host", "127.0.0.1", "--port", str(port)]
    if name in ("scheduler", "triggerer"):
        # The API server reads task logs from the files directly: no log servers on 8793/8794.
        return [*airflow, "--skip-serve-logs"]
    return airflow


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def start(say=print) -> Api:
    """Start the four processes (unless running) and wait until the DAG can be triggered."""
    p = paths()
    up = running(p)
    if len(up) == len(PROCESSES):
        api = Api.connect(p)
        say(f"The local Airflow is already running: {api.base}/")
        return api
    if up:  # some stopped (killed, or the machine ran out of memory): start all afresh
        say(f"Only {', '.join(sorted(up))} of the local Airflow still run: restarting it")
        stop(say=lambda _: None)
    port = config.airflow_port()
    url = config.require_warehouse_url()
    warehouse.check_reachable(url)
    config.pseudonymisation_key()  # every task needs it: refuse now, not at 2 a.m.
    if port_in_use(port):
        raise config.ConfigurationError(f"port {port} is in use: set airflow.port "
                                        "(MFC_AIRFLOW_PORT) to a free one")
    database = config.airflow_database()
    ensure_database(url, database)
    p.run.mkdir(parents=True, exist_ok=True)
    p.logs.mkdir(parents=True, exist_ok=True)
    password(p)
    env = environment(p, port)
    say(f"Airflow's metadata: database {database} beside the warehouse; "
        f"migrating it (log: {p.logs / 'db-migrate.log'})")
    with (p.logs / "db-migrate.log").open("w") as log:
        migrating = subprocess.Popen([sys.executable, "-m", "airflow", "db", "migrate"],
                                     env=env, stdout=log, stderr=subprocess.STDOUT, cwd=p.home)
    # Meanwhile dbt's manifest, rendered once here rather than by several processes at once.
    from mfc import nightly

    nightly.dbt_manifest()
    if migrating.wait() != 0:
        raise AirflowFailed(f"airflow db migrate failed:\n{_tail(p.logs / 'db-migrate.log')}")
    for name in PROCESSES:
        with (p.logs / f"{name}.log").open("a") as log:
            process = subprocess.Popen(_command(name, port), env=env, stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=p.home, start_new_session=True)
        p.pid_file(name).write_text(f"{process.pid} {_started_at(process.pid)}")
    p.port_file.write_text(str(port))
    say(f"Started {', '.join(PROCESSES)} (LocalExecutor, parallelism "
        f"{config.airflow_parallelism()}); their logs: {p.logs}")
    try:
        api = Api.connect(p, wait=START_TIMEOUT)
        api.wait_for_dag(START_TIMEOUT)
    except BaseException:
        stop(say=lambda _: None)
        raise
    say(f"The Airflow UI is at {api.base}/ (user {USER}, password {password(p)}, kept in "
        f"{p.passwords})")
    return api


def stop(say=print, timeout: float = 60) -> bool:
    """Stop every process, and all they started; False if none was running."""
    p = paths()
    up = running(p)
    for name in reversed(PROCESSES):
        if name in up:
            try:
                os.killpg(up[name], signal.SIGTERM)  # its group: it and its workers
            except ProcessLookupError:
                pass
            _wait_gone(up[name], timeout)
    for name in PROCESSES:
        p.pid_file(name).unlink(missing_ok=True)
    say("The local Airflow is stopped." if up else "No local Airflow is running.")
    return bool(up)


def _wait_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_members(pgid):  # did not stop in time: no more asking
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while _group_members(pgid):
            time.sleep(0.1)


def status(say=print) -> bool:
    """Say which processes run and what the API reports; True if all four run."""
    p = paths()
    up = running(p)
    for name in PROCESSES:
        say(f"  {name:<14} {'running, pid ' + str(up[name]) if name in up else 'not running'}")
    if not up:
        return False
    try:
        health = Api.connect(p).health()
        say("  health: " + ", ".join(f"{k} {v.get('status')}" for k, v in health.items()
                                     if isinstance(v, dict)))
        say(f"  UI: {Api.base_url(p)}/ (user {USER}, password in {p.passwords})")
    except config.ConfigurationError as down:
        say(f"  API: {down}")
    return len(up) == len(PROCESSES)


class Api:
    """The local Airflow's REST API (v2), logged in as the admin user."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    @staticmethod
    def base_url(p: Paths | None = None) -> str:
        p = p or paths()
        port = p.port_file.read_text().strip() if p.port_file.exists() else None
        return f"http://localhost:{port or config.airflow_port()}"

    @classmethod
    def connect(cls, p: Paths | None = None, wait: float = 0) -> Api:
        """Log in (SimpleAuthManager: POST /auth/token); with wait, until the API answers."""
        p = p or paths()
        base = cls.base_url(p)
        if not running(p):
            raise config.ConfigurationError("no local Airflow is running: start it with "
                                            "`mfc airflow start`")
        deadline = time.monotonic() + wait
        while True:
            try:
                answer = _request("POST", f"{base}/auth/token",
                                  {"username": USER, "password": password(p)})
                return cls(base, answer["access_token"])
            except ApiError as refused:  # it answers, but not to us: waiting will not help
                raise config.ConfigurationError(
                    f"the local Airflow at {base} refused to log in ({refused}): is another "
                    "Airflow on that port?") from None
            except OSError as down:
                if time.monotonic() >= deadline:
                    raise config.ConfigurationError(
                        f"the local Airflow's API at {base} does not answer ({down}); see "
                        f"{p.logs / 'api-server.log'}") from None
                if len(running(p)) < len(PROCESSES):
                    dead = sorted(set(PROCESSES) - set(running(p)))
                    raise AirflowFailed(f"the local Airflow's {', '.join(dead)} stopped:\n" +
                                       _tail(p.logs / f"{dead[0]}.log")) from None
                time.sleep(1)

    def call(self, method: str, path: str, body: dict | None = None,
             accept: str = "application/json"):
        return _request(method, f"{self.base}/api/v2{path}", body, self.token, accept)

    def health(self) -> dict:
        return _request("GET", f"{self.base}/api/v2/monitor/health")

    def wait_for_dag(self, timeout: float, dag_id: str = runner.DAG_ID) -> dict:
        """The DAG once the dag-processor has parsed it; its import error if it cannot."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.call("GET", f"/dags/{dag_id}")
            except ApiError as missing:
                if missing.status != 404:
                    raise
            errors = self.call("GET", "/importErrors").get("import_errors", [])
            if errors:
                raise AirflowFailed(f"the DAG files do not import:\n{errors[0]['stack_trace']}")
            if time.monotonic() >= deadline:
                raise AirflowFailed(f"{dag_id} was not parsed within {timeout:.0f} s: see "
                                   f"{paths().logs / 'dag-processor.log'}")
            time.sleep(1)

    def task_instances(self, run_id: str, dag_id: str = runner.DAG_ID) -> list[dict]:
        found: list[dict] = []
        while True:
            page = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
                                    f"?limit=100&offset={len(found)}")
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def log(self, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1,
            dag_id: str = runner.DAG_ID) -> str:
        """A task's log as text: its events' messages, one a line."""
        answer = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
                                  f"/logs/{try_number}?full_content=true&map_index={map_index}")
        content = answer.get("content", [])
        if isinstance(content, str):
            return content
        return "\n".join(e.get("event", "") if isinstance(e, dict) else str(e) for e in content)


class ApiError(OSError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def _request(method: str, url: str, body: dict | None = None, token: str | None = None,
             accept: str = "application/json"):
    import urllib.error
    import urllib.request

    headers = {"Accept": accept, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as failed:
        raise ApiError(failed.code, failed.read().decode(errors="replace")[:500]) from None


@dataclass
class RemoteRun:
    run_id: str
    state: str                   # 'success', 'failed'
    url: str                     # the run in the UI
    tasks: list[TaskTiming]

    @property
    def dbt_nodes(self) -> int:
        return sum(1 for t in self.tasks if t.task_id.startswith("dbt.") and t.state == "success")


def _timing(ti: dict) -> TaskTiming:
    def when(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return TaskTiming(ti["task_id"], ti.get("state"), when(ti.get("start_date")),
                      when(ti.get("end_date")))


def trigger(landing: Path, full_refresh: bool = False, say=print, every: float = 3,
            plain_every: float = 30) -> RemoteRun:
    """Trigger mfc_nightly on the local Airflow over `landing` and follow it to its end,
    saying what runs: a line whenever that changes (every plain_every seconds at most when
    not on a terminal, as `mfc run` does)."""
    api = Api.connect()
    dag = api.wait_for_dag(START_TIMEOUT)
    body = {"logical_date": None, "note": "mfc run --airflow",
            "conf": {"landing_dir": str(landing.resolve()), "full_refresh": full_refresh}}
    due = _due_night(dag)
    if due:
        # Unpaused, the scheduler would at once start the night that is due as well (over
        # landing_dir): this run stands in for it, and the scheduler skips a night with a run.
        body["logical_date"] = due
    try:
        run = api.call("POST", f"/dags/{runner.DAG_ID}/dagRuns", body)
    except ApiError as taken:
        if taken.status != 409 or not due:
            raise
        run = api.call("POST", f"/dags/{runner.DAG_ID}/dagRuns", {**body, "logical_date": None})
    if dag.get("is_paused"):
        # As the UI's trigger button does: a paused DAG's runs would wait for ever.
        api.call("PATCH", f"/dags/{runner.DAG_ID}", {"is_paused": False})
        say(f"{runner.DAG_ID} was paused: unpaused (it runs at 02:00 from now on; pause it in "
            "the UI to stop that)")
    run_id = run["dag_run_id"]
    link = f"{api.base}/dags/{runner.DAG_ID}/runs/{run_id}"
    say(f"Triggered {runner.DAG_ID} run {run_id} on the local Airflow: {link}")
    said, said_at = "", 0.0
    interactive = sys.stdout.isatty()
    while True:
        state = api.call("GET", f"/dags/{runner.DAG_ID}/dagRuns/{run_id}")["state"]
        tasks = api.task_instances(run_id)
        line = _progress(state, tasks)
        now = time.monotonic()
        if line != said and (interactive or now - said_at >= plain_every or
                             state in ("success", "failed")):
            say(line)
            said, said_at = line, now
        if state in ("success", "failed"):
            return RemoteRun(run_id, state, link, [_timing(t) for t in tasks])
        time.sleep(every)


def _due_night(dag: dict) -> str | None:
    """The logical date of the scheduled run a paused DAG would start as soon as unpaused."""
    run_after = dag.get("next_dagrun_run_after")
    if not dag.get("is_paused") or not run_after or not dag.get("next_dagrun_logical_date"):
        return None
    if datetime.fromisoformat(run_after) > datetime.now(UTC):
        return None
    return dag["next_dagrun_logical_date"]


def _progress(state: str, tasks: list[dict]) -> str:
    done = sum(1 for t in tasks if t.get("state") in ("success", "skipped", "failed",
                                                      "upstream_failed", "removed"))
    active = sorted({t["task_id"] for t in tasks if t.get("state") == "running"})
    stages = sorted({progress.stage_of(t) for t in active})
    return (f"  {state}: {done} of {len(tasks)} task(s) done"
            + (f"; running: {', '.join(stages)} ({len(active)} task(s))" if active else ""))
