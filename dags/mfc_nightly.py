"""mfc_nightly: at 02:00 UK time, gate and load what councils and police forces delivered,
rebuild the marts, check them; and write each returning authority its data-quality report.

Wiring only: each task calls into src/mfc (mfc.nightly) or dbt/ (through Cosmos).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, task
from airflow.sdk.exceptions import AirflowFailException
from cosmos import DbtTaskGroup

from mfc import config, nightly

# dbt reads the warehouse from MFC_DBT_* variables derived from MFC_WAREHOUSE_URL; set them in
# every process that parses this file (scheduler, dag-processor and each task's worker).
config.export_dbt_env()


@dag(
    dag_id="mfc_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    tags=["mfc", "council", "nightly"],
    default_args={"owner": "mfc-data-engineering", "retries": 2,
                  "retry_delay": pendulum.duration(minutes=5)},
    params={"landing_dir": Param(os.environ.get("MFC_LANDING_DIR", "/data/landing"),
                                 type="string",
                                 description="Folder councils and forces deliver into")},
    doc_md=__doc__,
)
def mfc_nightly():
    # params and run_id are filled in from the task context by Airflow.
    @task
    def discover_submissions(params: dict | None = None) -> dict[str, int]:
        return nightly.discover(params["landing_dir"])

    @task
    def council_waiting() -> list[int]:
        return nightly.council_waiting()

    @task
    def police_waiting() -> list[list[int]]:
        return nightly.police_waiting()

    @task
    def aggregate_waiting() -> list[list[int]]:
        return nightly.aggregate_waiting()

    # After the police months (their outcome whatever it is): a council return is reconciled
    # with the police incidents loaded by then.
    @task(max_active_tis_per_dagrun=2, trigger_rule="all_done")
    def gate_and_load(submission_id: int, run_id: str | None = None) -> dict:
        return nightly.gate(submission_id, run_id)

    @task(max_active_tis_per_dagrun=2)
    def gate_police_months(submission_ids: list[int], run_id: str | None = None) -> list[dict]:
        return nightly.gate_police(submission_ids, run_id)

    @task
    def gate_aggregate_files(submission_ids: list[int], run_id: str | None = None) -> list[dict]:
        return nightly.gate_aggregate(submission_ids, run_id)

    # Runs when nothing new arrived too (an empty map is 'skipped'), so the marts still rebuild.
    @task(trigger_rule="none_failed")
    def summarise_gates(council: list[dict], police: list[list[dict]],
                        aggregate: list[list[dict]]) -> dict[str, int]:
        return nightly.summarise(council, police, aggregate)

    # Reports describe the gate's results, not the marts: they must not wait for dbt to succeed.
    @task(trigger_rule="none_failed")
    def write_reports() -> dict[str, int]:
        return nightly.write_reports()

    @task(retries=0)
    def gate_marts() -> list[str]:
        try:
            return nightly.gate_marts()
        except nightly.MartGateFailed as failed:
            raise AirflowFailException(str(failed)) from failed  # retrying cannot fix data

    discovered = discover_submissions()
    council_ids, police_batches = council_waiting(), police_waiting()
    aggregate_batches = aggregate_waiting()
    discovered >> [council_ids, police_batches, aggregate_batches]
    council = gate_and_load.expand(submission_id=council_ids)
    police = gate_police_months.expand(submission_ids=police_batches)
    police >> council
    aggregate = gate_aggregate_files.expand(submission_ids=aggregate_batches)
    transform = DbtTaskGroup(group_id="dbt", **nightly.cosmos_configs())
    summary = summarise_gates(council, police, aggregate)
    summary >> transform >> gate_marts()
    summary >> write_reports()


mfc_nightly()
