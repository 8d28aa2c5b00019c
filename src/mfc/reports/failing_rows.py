"""failing_rows.csv: every failing row of a submission, one line per offending cell.

Read from dq.failing_rows (filled by the gate) with PostgreSQL COPY, set-based: the latest run of
each check only, as in dq.check_results.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

COLUMNS = ("check_id", "severity", "result", "file", "line", "column", "value", "message")

# One row per cell: a row with no values (a whole file, a missing column) keeps one line with
# column and value blank. line is the line as delivered (1 = the column names).
QUERY = """
    with latest as (
        select distinct on (check_id) check_id, run_id, severity, result, message
        from dq.check_results where submission_id = {sid}
        order by check_id, checked_at desc, run_id desc
    )
    select f.check_id, l.severity, l.result, f.file_name as file, f.line_no as line,
           cell.key as "column", cell.value as value, l.message
    from dq.failing_rows f
    join latest l on l.check_id = f.check_id and l.run_id = f.run_id
    left join lateral jsonb_each_text(f."values") cell on true
    where f.submission_id = {sid}
    order by f.file_name, f.line_no nulls first, f.check_id, cell.key
"""


def write(conn: psycopg.Connection, submission_id: int, path: Path) -> None:
    """Write the CSV (header only when nothing failed) to path, replacing it whole."""
    query = sql.SQL(QUERY).format(sid=sql.Literal(int(submission_id)))
    copy = sql.SQL("copy ({}) to stdout (format csv, header true)").format(query)
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out, conn.cursor().copy(copy) as stream:
        for block in stream:
            out.write(block)
    partial.replace(path)
