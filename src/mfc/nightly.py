"""The steps of the nightly refresh, as plain functions the DAG (dags/mfc_nightly.py) wires up."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from mfc import batch, config, landing, load, load_aggregate, load_police, warehouse

log = logging.getLogger(__name__)


class MartGateFailed(RuntimeError):
    """The marts broke an assertion: analysts must not see this build."""


def discover(landing_dir: str) -> dict[str, int]:
    """Make sure the warehouse tables exist and register new deliveries; what waits, by source."""
    url = config.require_warehouse_url()
    folder = Path(landing_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"landing folder {folder} does not exist")
    warehouse.ensure_schema(url)
    landing.register_all(url, folder)
    counts = {source: len(landing.waiting(url, source))
              for source in ("council", "police", "aggregate")}
    log.info("to gate from %s: %d council return(s), %d police month file(s), %d aggregate "
             "file(s)", folder, counts["council"], counts["police"], counts["aggregate"])
    return counts


def council_waiting() -> list[int]:
    """Council submissions to gate, one by one."""
    return landing.waiting(config.require_warehouse_url(), "council")


def police_waiting() -> list[list[int]]:
    """Police month files to gate, in batches (mfc.batch)."""
    url = config.require_warehouse_url()
    return batch.batches(url, landing.waiting(url, "police"))


def aggregate_waiting() -> list[list[int]]:
    """Aggregate files to gate, in batches (mfc.batch)."""
    url = config.require_warehouse_url()
    return batch.batches(url, landing.waiting(url, "aggregate"))


def gate(submission_id: int, run_id: str) -> dict[str, Any]:
    """Gate one submission; a quarantine is an outcome, not a task failure."""
    outcome = load.gate_and_load(config.require_warehouse_url(), submission_id, run_id)
    log.info("submission %s: %s %s", submission_id, outcome.status,
             ", ".join(outcome.failed_checks))
    return outcome.as_dict()


def gate_police(submission_ids: list[int], run_id: str) -> list[dict[str, Any]]:
    """Gate one batch of police month files; quarantines are outcomes, not task failures."""
    outcomes = load_police.gate_and_load_batch(config.require_warehouse_url(), submission_ids,
                                               run_id)
    for outcome in outcomes:
        log.info("police submission %s: %s %s", outcome.submission_id, outcome.status,
                 ", ".join(outcome.failed_checks))
    return [o.as_dict() for o in outcomes]


def gate_aggregate(submission_ids: list[int], run_id: str) -> list[dict[str, Any]]:
    """Gate one batch of aggregate files; quarantines are outcomes, not task failures."""
    outcomes = load_aggregate.gate_and_load_batch(config.require_warehouse_url(),
                                                  submission_ids, run_id)
    for outcome in outcomes:
        log.info("aggregate submission %s: %s %s", outcome.submission_id, outcome.status,
                 ", ".join(outcome.failed_checks))
    return [o.as_dict() for o in outcomes]


def summarise(council: list[dict[str, Any]] | None,
              *batched: list[list[dict[str, Any]]] | None) -> dict[str, int]:
    """Submissions by status; each quarantine logged with its failed checks. Council outcomes
    come one per submission, police and aggregate ones in lists per batch (None: none ran)."""
    outcomes = [*(council or []), *(o for batches in batched for batch in batches or []
                                    for o in batch)]
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome["status"]] = counts.get(outcome["status"], 0) + 1
        if outcome["status"] == "quarantined":
            log.warning("submission %s quarantined: failed %s", outcome["submission_id"],
                        ", ".join(outcome["failed_checks"]))
    return counts


def write_reports() -> dict[str, int]:
    """Rewrite every submission's data-quality report, the national page and the Data Docs."""
    from mfc import reports

    out = config.reports_dir()
    counts = reports.write_all(config.require_warehouse_url(), out)
    log.info("data-quality reports in %s (national page: %s)", out, out / "index.html")
    return counts


def gate_marts() -> list[str]:
    """Validate the marts with GX; raise MartGateFailed naming every failed check."""
    from expectations import marts
    from mfc import gates

    url = config.require_warehouse_url()
    results = gates.validate_marts(url, marts.CHECKS)
    failures = [gates.describe(r) for r in results if r.failed]
    if failures:
        raise MartGateFailed("mart checks failed:\n" + "\n".join(failures))
    return [r.check.check_id for r in results]


def cosmos_configs() -> dict[str, Any]:
    """Arguments for Cosmos' DbtTaskGroup: the dbt project, its profile and how to run dbt."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior

    project_dir = config.dbt_project_dir()
    # dbt beside this interpreter: the venv's, whether or not it is on PATH.
    dbt = str(Path(sys.executable).parent / "dbt")
    return {
        "project_config": ProjectConfig(dbt_project_path=project_dir, install_dbt_deps=False),
        "profile_config": ProfileConfig(
            profile_name="mfc", target_name="warehouse",
            profiles_yml_filepath=project_dir / "profiles.yml",
        ),
        "execution_config": ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER, dbt_executable_path=dbt
        ),
        "render_config": RenderConfig(
            load_method=LoadMode.DBT_LS, test_behavior=TestBehavior.BUILD,
            # dbt ls in a subprocess keeps its listing out of the task logs and the terminal.
            invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=dbt,
            # A relationships test must wait for both tables, not run with the first one built.
            should_detach_multiple_parents_tests=True,
        ),
        "operator_args": {"install_deps": False},
    }
