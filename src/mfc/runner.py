"""Run the nightly DAG once, as the scheduler would, with dag.test() in this process.

Airflow's own metadata for these one-off runs lives in SQLite under the state folder (not in
the UI of `mfc airflow`: `mfc run --airflow` runs there); the warehouse is wherever
MFC_WAREHOUSE_URL (or the config file) points. Airflow reads its settings at import, so
everything here happens before the first `import airflow`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import IO

from mfc import config, progress
from mfc.progress import TaskTiming

DAG_ID = "mfc_nightly"
ONE_OFF_RETRIES = 1
ONE_OFF_RETRY_DELAY = timedelta(seconds=5)


def airflow_environment(state: Path) -> dict[str, str]:
    home = state / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.dags_dir()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL",
                                                          "WARNING"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos-cache"),
        "AIRFLOW__COSMOS__USE_DATASET_AIRFLOW3_URI_STANDARD": "True",
        # Cosmos reads the lineage namespace when it loads; lineage itself is not emitted.
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "mfc",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "SCARF_ANALYTICS": "false",
    }


def prepare_airflow(state: Path | None = None) -> None:
    """Point Airflow at the state folder and bring its metadata database up to date."""
    env = airflow_environment(state or config.state_dir())
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    # Migrating takes seconds even when there is nothing to do: once per Airflow release.
    migrated = Path(env["AIRFLOW_HOME"]) / f".migrated-{metadata.version('apache-airflow')}"
    if migrated.exists() and (Path(env["AIRFLOW_HOME"]) / "airflow.db").exists():
        return
    migrate = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"],
                             capture_output=True, text=True)
    if migrate.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout}\n{migrate.stderr}")
    migrated.touch()


def load_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(config.dags_dir()))
    if bag.import_errors:
        raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
    return bag.get_dag(DAG_ID)


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[IO[str]]:
    """Send everything written to stdout and stderr, by us or by dbt's subprocesses, to a file;
    yield the terminal, for what the run itself says (mfc.progress)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with log_path.open("ab") as log, terminal:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@dataclass
class RunResult:
    state: str                  # the DAG run's final state: 'success', 'failed'
    started: datetime
    tasks: list[TaskTiming]

    @property
    def dbt_nodes(self) -> int:
        return sum(1 for t in self.tasks if t.task_id.startswith("dbt.") and t.state == "success")


def _timings(run) -> list[TaskTiming]:
    from airflow.utils.session import create_session

    with create_session() as session:
        return [TaskTiming(ti.task_id, str(ti.state) if ti.state else None, ti.start_date,
                           ti.end_date) for ti in run.get_task_instances(session=session)]


def run_nightly(landing_dir: Path, log_path: Path | None = None, quiet: bool = True,
                full_refresh: bool = False) -> RunResult:
    """One run of mfc_nightly over landing_dir.

    With log_path, Airflow's and dbt's task logs go to that file instead of the terminal;
    unless quiet, a progress line shows on the terminal meanwhile (mfc.progress). With
    full_refresh, dbt rebuilds its incremental models whole.
    """
    url = config.require_warehouse_url()
    # dbt's connection, for dag.test() in this process: Cosmos maps it to dbt's profile.
    os.environ[config.WAREHOUSE_CONN_ENV] = config.airflow_connection(url)
    conf = {"landing_dir": str(landing_dir.resolve()), "full_refresh": full_refresh}
    started = datetime.now(UTC)
    with output_to(log_path) if log_path else contextlib.nullcontext(sys.stdout) as terminal:
        prepare_airflow()
        dag = load_dag()
        # A one-off run retries a task once, soon (a restarted server, a dropped connection),
        # not after the scheduler's backoff; a setting to fix, or a failed mart gate, still
        # fails at once (AirflowFailException, retries=0).
        for task in dag.tasks:
            task.retries = min(task.retries, ONE_OFF_RETRIES)
            task.retry_delay = ONE_OFF_RETRY_DELAY
            task.retry_exponential_backoff = False
        with progress.Watch(url, progress.console_for(terminal, quiet or log_path is None)):
            run = dag.test(run_conf=conf)
        tasks = _timings(run)
    return RunResult(str(run.state), started, tasks)


def default_log_path() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return config.state_dir() / "logs" / f"mfc_nightly-{stamp}.log"
