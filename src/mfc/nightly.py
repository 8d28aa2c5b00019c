"""The steps of the nightly refresh, as plain functions the DAG (dags/mfc_nightly.py) wires up."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from mfc import config, landing, mart_builds, pipeline, warehouse
from mfc.kinds import KINDS, kind

log = logging.getLogger(__name__)

CONNECTIONS_PER_GATE = 2  # a gate task's psycopg connection and GX's (unpooled)
DBT_THREADS = 2           # the dbt profile's (cosmos_configs; dbt/profiles.yml too)


def _dbt_vars() -> dict[str, str]:
    """The nightly build of the marts goes aside, to be gated and then published
    (mfc.mart_builds); the dq marts judge lateness from the day collection began, as the gate
    does (config.collection_started; unset, both take the first submission received)."""
    found = {"marts_schema": mart_builds.BUILD}
    try:
        started = config.collection_started()
    except config.ConfigurationError:
        started = None  # the gate's lateness check stops on it, with the one line
    if started:
        found["collection_started"] = started.isoformat()
    return found


DBT_VARS = _dbt_vars()


class MartGateFailed(RuntimeError):
    """The marts broke an assertion: analysts must not see this build."""


def gate_slots() -> int:
    """Gate tasks of one kind that may run at once. Two kinds gate side by side (police and
    aggregate; council after police), each task holds CONNECTIONS_PER_GATE connections, and
    dbt's threads and one more are kept back: within MFC_MAX_CONNECTIONS (20), and no more
    than the machine has cores."""
    spare = config.max_connections() - DBT_THREADS - 1
    return max(1, min(os.cpu_count() or 1, spare // (2 * CONNECTIONS_PER_GATE)))


def discover(landing_dir: str) -> dict[str, int]:
    """Make sure the warehouse tables exist and register new deliveries; what waits, by kind."""
    url = config.require_warehouse_url()
    folder = Path(landing_dir)
    landing.check_folder(folder)
    warehouse.check_reachable(url)
    warehouse.ensure_schema(url)
    warehouse.check_key(url, record=True)
    landing.register_all(url, folder)
    counts = {k.source: len(landing.waiting(url, k.source)) for k in KINDS}
    log.info("to gate from %s: %s", folder,
             ", ".join(f"{n} {kind(source).label}(s)" for source, n in counts.items()))
    return counts


def waiting_batches(source: str) -> list[list[int]]:
    """Submissions of one kind to gate, in at most pipeline.MAX_BATCHES batches."""
    url = config.require_warehouse_url()
    chosen = pipeline.batches(url, kind(source), landing.waiting(url, source))
    if chosen:
        sizes = sorted(len(b) for b in chosen)
        log.info("%d %s(s) in %d batch(es) of %d to %d", sum(sizes), kind(source).label,
                 len(chosen), sizes[0], sizes[-1])
    return chosen


def gate_batch(source: str, submission_ids: list[int], run_id: str) -> list[dict[str, Any]]:
    """Gate one batch of one kind; quarantines are outcomes, not task failures."""
    outcomes = pipeline.gate_and_load_batch(config.require_warehouse_url(), kind(source),
                                            submission_ids, run_id)
    for outcome in outcomes:
        log.info("%s %s: %s %s", kind(source).label, outcome.submission_id, outcome.status,
                 ", ".join(outcome.failed_checks))
    return [o.as_dict() for o in outcomes]


def batch_label(source: str, submission_ids: list[int]) -> str:
    """How the Airflow UI names a mapped gate task: its batch."""
    return (f"{len(submission_ids)} {kind(source).label}(s), "
            f"{submission_ids[0]}-{submission_ids[-1]}" if submission_ids else "empty")


def summarise(*by_kind: list[list[dict[str, Any]]] | None) -> dict[str, int]:
    """Submissions by status; each quarantine logged with its failed checks. Outcomes come in
    lists per batch, a list of batches per kind (None: none ran)."""
    outcomes = [o for batches in by_kind for batch in _each(batches) for o in batch]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
        if outcome["status"] == "quarantined":
            log.warning("submission %s quarantined: failed %s", outcome["submission_id"],
                        ", ".join(outcome["failed_checks"]))
    return counts


def _each(batches: Sequence[Any] | None) -> list[Any]:
    """The items of a mapped task's outputs by index: iterating Airflow's lazy sequence asks
    for one item past the end, which its API client logs as an error (XCom not found)."""
    if batches is None:
        return []
    return [batches[i] for i in range(len(batches))]


def write_reports() -> dict[str, int]:
    """Rewrite every submission's data-quality report, the national page and the check catalogue."""
    from mfc import reports

    out = config.reports_dir()
    counts = reports.write_all(config.require_warehouse_url(), out)
    log.info("data-quality reports in %s (national page: %s)", out, out / "index.html")
    return counts


def _project_files() -> list[Path]:
    project = config.dbt_project_dir()
    return sorted(p for p in project.rglob("*")
                  if p.is_file() and p.suffix in (".sql", ".yml", ".yaml", ".csv", ".md")
                  and not {"target", "logs", "dbt_packages"} & set(p.relative_to(project).parts))


def project_fingerprint() -> str:
    """sha256 over the dbt project's files: a change of model, test or seed changes it."""
    digest = hashlib.sha256()
    for path in _project_files():
        digest.update(f"{path.relative_to(config.dbt_project_dir())}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def marts_need_building(decided: dict[str, int], full_refresh: bool = False) -> bool:
    """Whether dbt must run: something was decided tonight, a full refresh was asked for, or
    the marts were not yet built today (UK date: the dq marts count days to deadlines) from
    this dbt project. A night with nothing new skips a rebuild that would change nothing."""
    if full_refresh or sum(decided.values()):
        return True
    with psycopg.connect(config.require_warehouse_url()) as conn:
        built = conn.execute(
            "select 1 from audit.mart_builds where project_fingerprint = %s and "
            "(built_at at time zone 'Europe/London')::date = "
            "(now() at time zone 'Europe/London')::date", (project_fingerprint(),)).fetchone()
    if built:
        log.info("nothing new since the marts were built today from this dbt project: "
                 "dbt is skipped")
    return built is None


def start_marts_build() -> None:
    """dbt builds the marts aside (mart_builds.BUILD); analysts read yesterday's meanwhile."""
    mart_builds.start(config.require_warehouse_url())


def gate_marts() -> list[str]:
    """Validate the new build of the marts with GX; raise MartGateFailed naming every failed
    check (the build is then left aside, unpublished, for the operator to look at)."""
    from expectations import marts
    from mfc import gates

    url = config.require_warehouse_url()
    results = gates.validate_marts(url, marts.checks(mart_builds.BUILD), mart_builds.BUILD)
    failures = [gates.describe(r) for r in results if r.failed]
    if failures:
        raise MartGateFailed(
            f"mart checks failed on the new build, left unpublished in schema "
            f"{mart_builds.BUILD} (analysts still read the last good marts):\n"
            + "\n".join(failures))
    return [r.check.check_id for r in results]


def publish_marts(run_id: str | None = None, full_refresh: bool = False) -> None:
    """The gated build replaces the marts analysts read, in one transaction."""
    mart_builds.publish(config.require_warehouse_url(), run_id or "manual", project_fingerprint(),
                        bool(full_refresh))


def _dbt() -> str:
    """dbt beside this interpreter: the venv's, whether or not it is on PATH."""
    return str(Path(sys.executable).parent / "dbt")


def dbt_manifest() -> Path:
    """dbt's manifest, for Cosmos to render the DAG from without running dbt at every parse:
    `dbt parse` once, and again only when a file of the project is newer than it."""
    project = config.dbt_project_dir()
    target = config.state_dir() / "dbt-parse"
    manifest = target / "manifest.json"
    newest = max(p.stat().st_mtime for p in _project_files())
    if manifest.is_file() and manifest.stat().st_mtime >= newest:
        return manifest
    # profiles.yml reads MFC_DBT_* (parsing connects to nothing: the defaults do when no
    # warehouse is set); given to dbt alone, not exported into the process parsing the DAG.
    url = config.warehouse_url()
    parsed = subprocess.run(
        [_dbt(), "parse", "--quiet", "--project-dir", str(project), "--profiles-dir",
         str(project), "--target-path", str(target), "--log-path", str(target / "logs"),
         "--vars", json.dumps(DBT_VARS)],
        capture_output=True, text=True,
        env={**os.environ, **(config.dbt_target(url).as_env() if url else {})})
    if parsed.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{parsed.stdout}\n{parsed.stderr}")
    return manifest


def cosmos_configs() -> dict[str, Any]:
    """Arguments for Cosmos' DbtTaskGroup: the dbt project, its profile and how to run dbt."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    project_dir = config.dbt_project_dir()
    dbt = _dbt()
    return {
        "project_config": ProjectConfig(dbt_project_path=project_dir, install_dbt_deps=False,
                                        manifest_path=dbt_manifest()),
        # The warehouse is an Airflow connection (config.WAREHOUSE_CONN_ID), read when a dbt
        # task runs, never at parse time: `mfc airflow` and `mfc run` define it from
        # warehouse_url, a deployment as it likes (infra/compose.yaml: an environment variable).
        "profile_config": ProfileConfig(
            profile_name="mfc", target_name="warehouse",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=config.WAREHOUSE_CONN_ID,
                profile_args={"schema": "analytics", "threads": DBT_THREADS}),
        ),
        "execution_config": ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER, dbt_executable_path=dbt
        ),
        "render_config": RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
            # A relationships test must wait for both tables, not run with the first one built.
            should_detach_multiple_parents_tests=True,
            # Exposures (dbt/models/exposures.yml) document who reads what; nothing to run.
            exclude=["resource_type:exposure"],
            # No Airflow assets: nothing is scheduled on them, and each would be one Airflow
            # has not registered (a warning per model and run).
            emit_datasets=False,
        ),
        # The incremental models rebuild whole when the run asks (mfc run --full-refresh).
        # No JSON artifacts per node: nothing reads them, and writing the whole project's
        # manifest.json was most of each dbt task's own time.
        "operator_args": {"install_deps": False, "full_refresh": "{{ params.full_refresh }}",
                          "vars": DBT_VARS, "dbt_cmd_flags": ["--no-write-json"]},
    }
