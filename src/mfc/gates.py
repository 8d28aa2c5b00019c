"""Run gate checks with Great Expectations and turn their results into dq.check_results rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from expectations.checks import Check, per_submission
from mfc.warehouse import sqlalchemy_url

MAX_EXAMPLES = 20


@dataclass
class CheckResult:
    check: Check
    result: str                     # PASS, WARNING, FAIL, NOT_RUN
    unexpected_count: int | None = None
    checked_count: int | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None      # overrides check.message (e.g. to say why NOT_RUN)

    @property
    def failed(self) -> bool:
        return self.result == "FAIL"

    @property
    def blocks(self) -> bool:
        return self.failed and self.check.severity == "blocking"


def outcome(check: Check, unexpected: int, checked: int | None,
            examples: list[dict[str, Any]]) -> CheckResult:
    if unexpected == 0:
        return CheckResult(check, "PASS", 0, checked)
    result = "FAIL" if check.severity == "blocking" else "WARNING"
    return CheckResult(check, result, unexpected, checked, examples[:MAX_EXAMPLES])


def not_run(checks: tuple[Check, ...], reason: str) -> list[CheckResult]:
    return [CheckResult(c, "NOT_RUN", message=f"Not run: {reason}") for c in checks]


def describe(result: CheckResult) -> str:
    """One line per example a data team can act on: file, line, column and value."""
    lines = [f"{result.check.check_id} {result.result}: {result.message or result.check.message}"]
    for ex in result.examples:
        values = ", ".join(f"{col} {val!r}" for col, val in ex.get("values", {}).items())
        where = f"{ex['file']} line {ex['line']}" if ex.get("line") else ex["file"]
        lines.append(f"    {where}: {values}" if values else f"    {where}")
    return "\n".join(lines)


def _examples(check: Check, file_name: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    examples = []
    for row in rows[:MAX_EXAMPLES]:
        values = {col: row.get(col.lower()) for col in check.columns}
        examples.append({"file": file_name, "line": row.get("line_no"), "values": values})
    return examples


def _raised(gx_result: Any) -> str | None:
    """The error GX caught while computing a result; it files errors per metric."""
    info = gx_result.exception_info or {}
    for entry in [info, *(v for v in info.values() if isinstance(v, dict))]:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None


@contextmanager
def _warehouse(url: str) -> Iterator[tuple[Any, Any, Any]]:
    """GX, an ephemeral context and the warehouse as its SQL data source. GX keeps a connection
    pool per data source until garbage collection: close it when done, or a nightly run's many
    validations hold dozens of connections open."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql("warehouse", connection_string=sqlalchemy_url(url))
    try:
        yield gx, context, source
    finally:
        source.get_engine().dispose()


def _from_gx(check: Check, file_name: str, checked: int, gx_result: Any) -> CheckResult:
    error = _raised(gx_result)
    if error:
        # A check that cannot run is a defect in the check, not in the data: stop loudly.
        raise RuntimeError(f"check {check.check_id} could not run: {error}")
    details = gx_result.result or {}
    kind = gx_result.expectation_config.type
    if kind == "expect_table_columns_to_match_set":
        missing = sorted(details.get("details", {}).get("mismatched", {}).get("missing", []))
        examples = [{"file": file_name, "line": 1, "values": {c.upper(): None}} for c in missing]
        result = outcome(check, len(missing), None, examples)
        if missing:
            result.message = (
                f"{file_name} lacks the DfE column(s) {', '.join(c.upper() for c in missing)}; "
                f"{check.message}"
            )
        return result
    if kind == "unexpected_rows_expectation":
        rows = details.get("details", {}).get("unexpected_rows", [])
        return outcome(check, int(details.get("observed_value") or 0), checked,
                       _examples(check, file_name, rows))
    rows = details.get("unexpected_index_list") or []
    return outcome(check, int(details.get("unexpected_count") or 0), checked,
                   _examples(check, file_name, rows))


def validate_tables(
    url: str,
    submission_id: int,
    checks: tuple[Check, ...],
    columns_by_table: dict[str, list[str]],
    file_names: dict[str, str],
    row_counts: dict[str, int],
) -> list[CheckResult]:
    """Validate each table's landing rows of one submission with the checks that read it."""
    with _warehouse(url) as (gx, context, source):
        results = []
        for table, columns in columns_by_table.items():
            table_checks = [c for c in checks if c.table == table]
            if not table_checks:
                continue
            selected = ", ".join(["submission_id", "line_no", *(c.lower() for c in columns)])
            asset = source.add_query_asset(
                f"council_{table}",
                query=f"select {selected} from landing.council_{table} "
                f"where submission_id = {int(submission_id)}",
            )
            suite = context.suites.add(gx.ExpectationSuite(f"council_{table}_{checks[0].stage}"))
            for check in table_checks:
                suite.add_expectation(check.expectation())
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=f"council_{table}_{submission_id}",
                    data=asset.add_batch_definition_whole_table("submission"),
                    suite=suite,
                )
            )
            # COMPLETE with line_no as the index: failing rows come back with their line numbers.
            run = validation.run(result_format={
                "result_format": "COMPLETE", "unexpected_index_column_names": ["line_no"],
            })
            by_id = {r.expectation_config.meta["check_id"]: r for r in run.results}
            for check in table_checks:
                results.append(
                    _from_gx(check, file_names[table], row_counts[table], by_id[check.check_id])
                )
        return results


def validate_batch(
    url: str,
    landing_table: str,
    submission_ids: list[int],
    checks: tuple[Check, ...],
    file_names: dict[int, str],
    row_counts: dict[int, int],
) -> dict[int, list[CheckResult]]:
    """Validate the landing rows of several submissions in one GX run (small files: police
    months). Each check's query returns per submission its first failing rows and their number
    (failing_rows); see expectations.checks.per_submission."""
    if len(submission_ids) * MAX_EXAMPLES > 200:  # GX hands back at most 200 rows per query
        raise ValueError(f"at most {200 // MAX_EXAMPLES} submissions per batch")
    with _warehouse(url) as (gx, context, source):
        ids = ", ".join(str(int(i)) for i in submission_ids)
        asset = source.add_query_asset(
            "batch", query=f"select * from {landing_table} where submission_id in ({ids})")
        suite = context.suites.add(gx.ExpectationSuite(f"{landing_table}_batch"))
        for check in checks:
            suite.add_expectation(check.expectation(wrap=per_submission))
        validation = context.validation_definitions.add(gx.ValidationDefinition(
            name="batch", data=asset.add_batch_definition_whole_table("batch"), suite=suite))
        run = validation.run(result_format={"result_format": "COMPLETE"})
        by_id = {r.expectation_config.meta["check_id"]: r for r in run.results}
        results: dict[int, list[CheckResult]] = {sid: [] for sid in submission_ids}
        for check in checks:
            gx_result = by_id[check.check_id]
            error = _raised(gx_result)
            if error:
                raise RuntimeError(f"check {check.check_id} could not run: {error}")
            rows = (gx_result.result or {}).get("details", {}).get("unexpected_rows", [])
            failing: dict[int, list[dict[str, Any]]] = {}
            for row in rows:
                failing.setdefault(int(row["submission_id"]), []).append(row)
            for sid in submission_ids:
                found = failing.get(sid, [])
                count = int(found[0]["failing_rows"]) if found else 0
                results[sid].append(outcome(check, count, row_counts[sid],
                                            _examples(check, file_names[sid], found)))
        return results


def store(conn: psycopg.Connection, submission_id: int, run_id: str,
          results: list[CheckResult], landing_tables: dict[str, str] | None = None) -> None:
    """Write the results, and every failing row: a check's query is run again over the
    submission's landing rows (landing_tables: return table -> landing table) so that no failing
    row is left out; a check without a query keeps its examples."""
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into dq.check_results (submission_id, run_id, check_id, table_name, stage,
                severity, result, unexpected_count, checked_count, message, examples)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    submission_id, run_id, r.check.check_id, r.check.table, r.check.stage,
                    r.check.severity, r.result, r.unexpected_count, r.checked_count,
                    r.message or r.check.message, json.dumps(r.examples, default=str),
                )
                for r in results
            ],
        )
    for r in results:
        if r.result not in ("FAIL", "WARNING"):
            continue
        landing_table = (landing_tables or {}).get(r.check.table or "")
        if r.check.query and landing_table:
            _store_failing_rows(conn, submission_id, run_id, r, landing_table)
        else:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into dq.failing_rows (submission_id, run_id, check_id, file_name, "
                    "line_no, \"values\") values (%s, %s, %s, %s, %s, %s)",
                    [(submission_id, run_id, r.check.check_id, ex.get("file", ""),
                      ex.get("line"), json.dumps(ex.get("values", {}), default=str))
                     for ex in r.examples])


def _store_failing_rows(conn: psycopg.Connection, submission_id: int, run_id: str,
                        result: CheckResult, landing_table: str) -> None:
    check = result.check
    file_name = (result.examples[0]["file"] if result.examples else f"{check.table}.csv")
    batch = f"(select * from {landing_table} where submission_id = {int(submission_id)})"
    # As GX substitutes {batch}: a query that joins aliases it itself.
    batch += "" if re.search(r"\bjoin\b", check.query, re.IGNORECASE) else " as subselect"
    values = ", ".join(f"'{c}', failing.{c.lower()}" for c in check.columns)
    conn.execute(
        f"insert into dq.failing_rows (submission_id, run_id, check_id, file_name, line_no, "
        f"\"values\") select %s, %s, %s, %s, failing.line_no, jsonb_build_object({values}) "
        f"from ({check.query.format(batch=batch)}) as failing",
        (submission_id, run_id, check.check_id, file_name),
    )


def validate_marts(url: str, checks: tuple[Check, ...]) -> list[CheckResult]:
    """Validate whole mart tables (schema marts) with the checks that name them."""

    with _warehouse(url) as (gx, context, source):
        results = []
        for table in dict.fromkeys(c.table for c in checks):
            table_checks = [c for c in checks if c.table == table]
            asset = source.add_table_asset(table, table_name=table, schema_name="marts")
            suite = context.suites.add(gx.ExpectationSuite(f"marts_{table}"))
            for check in table_checks:
                suite.add_expectation(check.expectation())
            validation = context.validation_definitions.add(gx.ValidationDefinition(
                name=f"marts_{table}", data=asset.add_batch_definition_whole_table("all"),
                suite=suite,
            ))
            run = validation.run(result_format={"result_format": "SUMMARY"})
            by_id = {r.expectation_config.meta["check_id"]: r for r in run.results}
            for check in table_checks:
                results.append(_from_gx(check, f"marts.{table}", None, by_id[check.check_id]))
        return results
