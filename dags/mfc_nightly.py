"""mfc_nightly: at 02:00 UK time, gate and load what councils and police forces delivered,
rebuild the marts, check them; and write each returning authority its data-quality report.

Wiring only: each task calls into src/mfc (mfc.nightly) or dbt/ (through Cosmos).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from cosmos import DbtTaskGroup

from mfc import config, nightly
from mfc.alerts import AlertNotifier, DeadlineNotifier
from mfc.kinds import KINDS


@dag(
    dag_id="mfc_nightly",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="Europe/London"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    tags=["mfc", "council", "nightly"],
    # A task that fails tells the operator (MFC_ALERT_WEBHOOK); a hung one is stopped, and
    # so is a run that would still be going when analysts start work.
    default_args={"owner": "mfc-data-engineering", "retries": 2,
                  "retry_delay": pendulum.duration(minutes=5),
                  "retry_exponential_backoff": True,
                  "execution_timeout": pendulum.duration(hours=2),
                  "on_failure_callback": [AlertNotifier()]},
    dagrun_timeout=pendulum.duration(hours=6),
    # The run as a whole: a run stopped at its deadline tells the operator too.
    on_failure_callback=[DeadlineNotifier()],
    params={"landing_dir": Param(str(config.landing_dir()), type="string",
                                 description="Folder councils and forces deliver into"),
            "full_refresh": Param(False, type="boolean",
                                  description="Rebuild every dbt model whole, not only what the "
                                              "night's submissions changed")},
    doc_md=__doc__,
)
def mfc_nightly():
    # params and run_id are filled in from the task context by Airflow.
    @task
    def discover_submissions(params: dict | None = None) -> dict[str, int]:
        try:
            return nightly.discover(params["landing_dir"])
        except config.ConfigurationError as wrong:
            raise AirflowFailException(str(wrong)) from wrong  # a setting to fix: no retry

    @task
    def waiting(source: str) -> list[list[int]]:
        return nightly.waiting_batches(source)

    # A batch per mapped task, at most pipeline.MAX_BATCHES per kind whatever arrives; the UI
    # names each by its batch.
    @task(max_active_tis_per_dagrun=nightly.gate_slots(), map_index_template="{{ batch_label }}")
    def gate(source: str, submission_ids: list[int], run_id: str | None = None) -> list[dict]:
        get_current_context()["batch_label"] = nightly.batch_label(source, submission_ids)
        return nightly.gate_batch(source, submission_ids, run_id)

    # Runs when nothing new arrived too (an empty map is 'skipped'), so the marts still rebuild.
    @task(trigger_rule="none_failed")
    def summarise_gates(*outcomes: list[list[dict]]) -> dict[str, int]:
        return nightly.summarise(*outcomes)

    # Reports describe the gate's results, not the marts: they must not wait for dbt to succeed.
    @task(trigger_rule="none_failed")
    def write_reports() -> dict[str, int]:
        return nightly.write_reports()

    # Skips dbt and the mart gate (not the reports) when nothing is new since today's build.
    @task.short_circuit
    def marts_need_building(decided: dict[str, int], params: dict | None = None) -> bool:
        return nightly.marts_need_building(decided, params["full_refresh"])

    # dbt builds the marts aside; analysts read the last published build until the new one
    # has passed its gate and replaced it in one transaction.
    @task
    def start_marts_build() -> None:
        nightly.start_marts_build()

    @task(retries=0)
    def gate_marts() -> list[str]:
        try:
            return nightly.gate_marts()
        except nightly.MartGateFailed as failed:
            raise AirflowFailException(str(failed)) from failed  # retrying cannot fix data

    @task
    def publish_marts(run_id: str | None = None, params: dict | None = None) -> None:
        nightly.publish_marts(run_id, params["full_refresh"])

    discovered = discover_submissions()
    gates = {}
    for kind in KINDS:
        batches = waiting.override(task_id=f"{kind.source}_waiting")(kind.source)
        discovered >> batches
        # A kind gated after another waits for it whatever its outcome (all_done): council
        # returns are reconciled with the police months loaded by then.
        gates[kind.source] = gate.override(
            task_id=f"gate_{kind.source}",
            trigger_rule="all_done" if kind.gate_after else "all_success",
        ).partial(source=kind.source).expand(submission_ids=batches)
    for kind in KINDS:
        for before in kind.gate_after:
            gates[before] >> gates[kind.source]
    transform = DbtTaskGroup(group_id="dbt", **nightly.cosmos_configs())
    summary = summarise_gates(*gates.values())
    (marts_need_building(summary) >> start_marts_build() >> transform >> gate_marts()
     >> publish_marts())
    summary >> write_reports()


mfc_nightly()
