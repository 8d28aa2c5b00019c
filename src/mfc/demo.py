"""`mfc demo`: synthetic council and police returns through the real nightly pipeline, then the
results."""

from __future__ import annotations

import os
import shutil
import sys

import psycopg

from mfc import config, demo_data, runner, warehouse


def main(fresh: bool = False) -> int:
    config.use_demo_key()
    state = config.state_dir()
    landing = state / "demo" / "landing"
    url = config.warehouse_url()
    embedded = url is None
    if embedded:
        if fresh:
            shutil.rmtree(state / "pgdata", ignore_errors=True)
            shutil.rmtree(config.archive_dir(), ignore_errors=True)
        print(f"MFC_WAREHOUSE_URL is not set: starting an embedded PostgreSQL in {state}/pgdata")
        url = warehouse.start_embedded(state)
        os.environ["MFC_WAREHOUSE_URL"] = url
    shutil.rmtree(state / "demo", ignore_errors=True)
    returns = demo_data.write(state / "demo")
    months = len(list(landing.glob("police/*/*.csv")))
    print(f"Wrote {len(returns)} synthetic council returns and {months} police month files "
          f"to {landing}")
    log = runner.default_log_path()
    print("Running mfc_nightly through Airflow (dag.test): gate -> load -> dbt -> mart checks")
    print(f"  task logs: {log}")
    state_of_run = runner.run_nightly(landing, log).state
    print(f"mfc_nightly finished: {state_of_run}\n")
    if state_of_run != "success":
        print(f"The run failed: see {log}", file=sys.stderr)
        return 1
    with psycopg.connect(url) as conn:
        print(results_table(conn))
        print(merged_table(conn))
        print(quarantine_report(conn))
    print(reports_help())
    print(connection_help(url, embedded))
    return 0


def _table(title: str, header: tuple[str, ...], rows: list[tuple]) -> str:
    widths = [max(len(str(v)) for v in col) for col in zip(header, *rows, strict=False)]
    lines = [title]
    for row in (header, *rows):
        lines.append("  ".join(str(v).rjust(w) if isinstance(v, int) else str(v).ljust(w)
                               for v, w in zip(row, widths, strict=True)))
    return "\n".join(lines) + "\n"


def results_table(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        "select collection_year, authority_name, incidents, distinct_children, "
        "children_missing_3_plus from marts.agg_missing_by_authority_year "
        "order by collection_year, authority_name"
    ).fetchall()
    return _table("Missing and away incidents the councils returned, by authority and "
                  "collection year (marts.agg_missing_by_authority_year):",
                  ("Year", "Authority", "Incidents", "Children", "Children 3+"), rows)


def merged_table(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        "select period, area_name, incidents, incidents_council_only, incidents_both, "
        "incidents_police_only, distinct_children, children_police_only "
        "from marts.agg_missing_by_area_period "
        "where period_type = 'financial_year' and area_type in ('national', 'region') "
        "order by period, area_type desc, area_name"
    ).fetchall()
    return _table("Council and police returns merged: incidents by who recorded them, and "
                  "distinct children, each counted once (marts.agg_missing_by_area_period):",
                  ("Year", "Area", "Incidents", "Council only", "Both", "Police only",
                   "Children", "Police only"), rows)


def quarantine_report(conn: psycopg.Connection) -> str:
    from mfc.gates import MAX_EXAMPLES

    quarantined = conn.execute(
        "select s.submission_id, coalesce(a.authority_name || ' (' || s.authority_gss || ')', "
        "s.authority_as_delivered), s.collection_year, s.landing_path "
        "from audit.submissions s left join marts.dim_authorities a "
        "on a.authority_gss = s.authority_gss "
        "where s.status = 'quarantined' order by s.submission_id"
    ).fetchall()
    if not quarantined:
        return "No submission was quarantined.\n"
    lines = []
    for submission_id, authority, year, path in quarantined:
        lines.append(f"Quarantined: submission {submission_id} ({authority} {year}, {path})")
        failures = conn.execute(
            "select check_id, message, unexpected_count, examples from dq.check_results "
            "where submission_id = %s and result = 'FAIL' order by check_id", (submission_id,),
        ).fetchall()
        for check_id, message, count, examples in failures:
            lines.append(f"  {check_id}: {message} ({count} row(s))")
            for ex in examples[:MAX_EXAMPLES]:
                values = ", ".join(f"{c} {v!r}" for c, v in ex.get("values", {}).items())
                lines.append(f"      {ex['file']} line {ex.get('line')}: {values}")
    lines.append("Every check result is in dq.check_results; nothing of a quarantined "
                 "submission reaches raw.")
    return "\n".join(lines) + "\n"


def reports_help() -> str:
    reports = config.reports_dir()
    return ("Data-quality reports, one per submission (what failed, on which line, and every "
            "failing row as CSV),\nlinked from the national page; open it in a browser:\n"
            f"  {reports / 'index.html'}\n")


def connection_help(url: str, embedded: bool) -> str:
    lines = [
        "Look at the warehouse with psql:",
        f"  psql '{url}'",
        "  e.g. select * from marts.agg_missing_by_authority_year;",
        "       select * from dq.check_results where result = 'FAIL';",
    ]
    if embedded:
        lines.append("The embedded PostgreSQL keeps running for that; `mfc stop` stops it.")
    return "\n".join(lines) + "\n"
