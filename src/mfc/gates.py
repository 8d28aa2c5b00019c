"""Run gate checks with Great Expectations and turn their results into dq.check_results rows."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from expectations.checks import Check
from mfc.warehouse import sqlalchemy_url

GX_ROWS = 200            # the most rows GX hands back of a query's result
MAX_EXAMPLES = 20        # shown in the report and kept with the result
MAX_FAILING_ROWS = 1000  # kept per check and submission (dq.failing_rows, the CSV);
                         # the result counts them all


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
    from sqlalchemy.pool import NullPool

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    # No pool: each query GX makes borrows a connection and gives it back to the server, so a
    # validation holds one connection at a time and none outlives it (GX's own engines are
    # freed only by the garbage collector: pooled, a nightly run held dozens open).
    # The generic SQL source: GX's Postgres one rejects a URL whose host is a Unix socket (the
    # embedded server's), and does nothing more for us; GX warns to suggest it, every time.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")
        source = context.data_sources.add_sql(
            "warehouse", connection_string=sqlalchemy_url(url), kwargs={"poolclass": NullPool})
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


def columns_result(check: Check, file_name: str, delivered: list[str],
                   required: tuple[str, ...]) -> CheckResult:
    """A structure check, from the columns line 1 delivered: every required one is there."""
    missing = [c for c in required if c not in delivered]
    # checked_count counts rows; a structure check reads none.
    result = outcome(check, len(missing), None,
                     [{"file": file_name, "line": 1, "values": {c: None}} for c in missing])
    if missing:
        result.message = f"{file_name} lacks the column(s) {', '.join(missing)}; {check.message}"
    return result


def failing_rows_sql(check: Check, landing_table: str, submission_ids: list[int]) -> str:
    """The check's query over the landing rows of these submissions: every failing row, with
    its submission_id and line_no."""
    ids = ", ".join(str(int(i)) for i in submission_ids)
    batch = f"(select * from {landing_table} where submission_id in ({ids}))"
    # As GX substitutes {batch}: a query that joins aliases it itself.
    batch += "" if re.search(r"\bjoin\b", check.query or "", re.IGNORECASE) else " as subselect"
    return check.query.format(batch=batch)


def validate_content(url: str, checks: tuple[Check, ...], landing_tables: dict[str, str],
                     runnable: dict[str, list[int]]) -> dict[str, dict[int, int]]:
    """Run the content checks of a whole batch of submissions in one GX validation: each check
    is one SQL query over every submission it may read (runnable: check id -> submission ids),
    returning one row per submission that fails it, with how many of its rows fail. Returns
    check id -> {submission id: failing rows} (a submission that passes is absent)."""
    everyone = sorted({sid for c in checks for sid in runnable.get(c.check_id, [])})
    if len(everyone) <= GX_ROWS:
        return _validate_content(url, checks, landing_tables, runnable)
    # GX hands back at most GX_ROWS rows: a larger batch is validated in parts (a check that
    # compares submissions then compares those of one part: 200 months of a force, in order).
    counts: dict[str, dict[int, int]] = {}
    for start in range(0, len(everyone), GX_ROWS):
        chunk = set(everyone[start:start + GX_ROWS])
        found = _validate_content(url, checks, landing_tables, {
            check_id: [sid for sid in ids if sid in chunk] for check_id, ids in runnable.items()})
        for check_id, failing in found.items():
            counts.setdefault(check_id, {}).update(failing)
    return counts


def _validate_content(url: str, checks: tuple[Check, ...], landing_tables: dict[str, str],
                      runnable: dict[str, list[int]]) -> dict[str, dict[int, int]]:
    active = [c for c in checks if runnable.get(c.check_id)]
    if not active:
        return {}
    everyone = sorted({sid for c in active for sid in runnable[c.check_id]})
    if len(everyone) > GX_ROWS:
        raise ValueError(f"at most {GX_ROWS} submissions in one GX validation")
    ids = ", ".join(str(int(i)) for i in everyone)
    with _warehouse(url) as (gx, context, source):
        asset = source.add_query_asset(
            "submissions",
            query=f"select submission_id from audit.submissions where submission_id in ({ids})")
        suite = context.suites.add(gx.ExpectationSuite("content"))
        for check in active:
            rows = failing_rows_sql(check, landing_tables[check.table], runnable[check.check_id])
            rows = rows.replace("{", "{{").replace("}", "}}")  # literal braces, for GX's format
            # A join, so GX leaves {batch} for us to alias (it aliases only join-free queries).
            suite.add_expectation(check.expectation(wrap=lambda _, rows=rows: (
                f"select submission_id, count(*) as failing_rows from ({rows}) failures "
                "join {batch} as in_batch using (submission_id) group by submission_id")))
        validation = context.validation_definitions.add(gx.ValidationDefinition(
            name="content", data=asset.add_batch_definition_whole_table("batch"), suite=suite))
        run = validation.run(result_format={"result_format": "COMPLETE"})
    counts: dict[str, dict[int, int]] = {}
    for gx_result in run.results:
        check_id = gx_result.expectation_config.meta["check_id"]
        error = _raised(gx_result)
        if error:
            # A check that cannot run is a defect in the check, not in the data: stop loudly.
            raise RuntimeError(f"check {check_id} could not run: {error}")
        rows = (gx_result.result or {}).get("details", {}).get("unexpected_rows", [])
        counts[check_id] = {int(r["submission_id"]): int(r["failing_rows"]) for r in rows}
    return counts


def store(conn: psycopg.Connection, submission_id: int, run_id: str,
          results: list[CheckResult], sources: dict[str, tuple[str, str]] | None = None,
          batches: dict[str, list[int]] | None = None) -> None:
    """Write the results and their failing rows. A query check that found rows is run again
    (sources: return table -> (landing table, file name)) over the batch it was run on
    (batches: check id -> submission ids; this one alone if not given), keeping this
    submission's rows: the first MAX_FAILING_ROWS are kept, and the first examples are read
    from them; the result keeps the count of all. A check without a query keeps its
    examples."""
    for r in results:
        if r.result not in ("FAIL", "WARNING"):
            continue
        source = (sources or {}).get(r.check.table or "")
        if r.check.query and source:
            batch = ((batches or {}).get(r.check.check_id) if r.check.compares_submissions
                     else None) or [submission_id]
            r.examples = _store_failing_rows(conn, submission_id, run_id, r.check, *source,
                                             batch)
        else:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into dq.failing_rows (submission_id, run_id, check_id, file_name, "
                    "line_no, \"values\") values (%s, %s, %s, %s, %s, %s)",
                    [(submission_id, run_id, r.check.check_id, ex.get("file", ""),
                      ex.get("line"), json.dumps(ex.get("values", {}), default=str))
                     for ex in r.examples[:MAX_FAILING_ROWS]])
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


def _store_failing_rows(conn: psycopg.Connection, submission_id: int, run_id: str,
                        check: Check, landing_table: str, file_name: str,
                        batch: list[int]) -> list[dict[str, Any]]:
    """Keep the check's first MAX_FAILING_ROWS failing rows; return the first MAX_EXAMPLES."""
    values = ", ".join(f"'{c}', failing.{c.lower()}" for c in check.columns)
    # Over the whole batch, as the check was run: a check may compare files of one batch.
    rows = failing_rows_sql(check, landing_table, batch)
    conn.execute(
        f"insert into dq.failing_rows (submission_id, run_id, check_id, file_name, line_no, "
        f"\"values\") select %s, %s, %s, %s, failing.line_no, jsonb_build_object({values}) "
        f"from ({rows}) as failing where failing.submission_id = %s "
        "order by failing.line_no limit %s",
        (submission_id, run_id, check.check_id, file_name, submission_id,
         MAX_FAILING_ROWS),
    )
    kept = conn.execute(
        "select line_no, \"values\" from dq.failing_rows where submission_id = %s "
        "and run_id = %s and check_id = %s order by line_no limit %s",
        (submission_id, run_id, check.check_id, MAX_EXAMPLES)).fetchall()
    return [{"file": file_name, "line": line, "values": {c: found.get(c) for c in check.columns}}
            for line, found in kept]


def validate_marts(url: str, checks: tuple[Check, ...], schema: str = "marts") -> list[CheckResult]:
    """Validate whole mart tables (in `schema`: marts, or a build not yet published) with the
    checks that name them."""

    with _warehouse(url) as (gx, context, source):
        results = []
        for table in dict.fromkeys(c.table for c in checks):
            table_checks = [c for c in checks if c.table == table]
            asset = source.add_table_asset(table, table_name=table, schema_name=schema)
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
                results.append(_from_gx(check, f"{schema}.{table}", None, by_id[check.check_id]))
        return results
