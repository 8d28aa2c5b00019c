"""failing_rows.csv: every failing row of a submission, one line per offending cell.

Read from dq.failing_rows (filled by the gate) with PostgreSQL COPY, set-based: the latest run of
each check only, as in dq.check_results.

Safe to open in a spreadsheet. A returned file can carry anything, and a cell such as
`=HYPERLINK("http://x","y")` would be a live formula in Excel or LibreOffice. So every text
field (value, file, column, message and the rest) that begins with `=`, `+`, `-`, `@`, a tab or
a carriage return is neutralised in the COPY query itself, as OWASP recommends for CSV
injection: a single quote is put before it, which spreadsheets read as "this is text" and do
not show. A negative number such as `-5` is prefixed too (`'-5`): that is accepted practice, as
a value cannot be told apart from a formula by its first character alone; a reader who wants
the number drops the quote (the line numbers, whole numbers we write ourselves, are left as
they are).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

COLUMNS = ("check_id", "severity", "result", "file", "line", "column", "value", "message")

# The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(expression: str) -> str:
    """SQL for a text expression with a single quote put before it when it begins like a
    formula (null stays null)."""
    starts = ", ".join(
        "chr(9)" if c == "\t" else "chr(13)" if c == "\r" else f"'{c}'" for c in FORMULA_STARTS)
    return (f"case when left({expression}, 1) in ({starts}) "
            f"then '''' || {expression} else {expression} end")


# One row per cell: a row with no values (a whole file, a missing column) keeps one line with
# column and value blank. line is the line as delivered (1 = the column names).
QUERY = f"""
    with latest as (
        select distinct on (check_id) check_id, run_id, severity, result, message
        from dq.check_results where submission_id = {{sid}}
        order by check_id, checked_at desc, run_id desc
    )
    select {neutralised("f.check_id")} as check_id, l.severity, l.result,
           {neutralised("f.file_name")} as file, f.line_no as line,
           {neutralised("cell.key")} as "column", {neutralised("cell.value")} as value,
           {neutralised("l.message")} as message
    from dq.failing_rows f
    join latest l on l.check_id = f.check_id and l.run_id = f.run_id
    left join lateral jsonb_each_text(f."values") cell on true
    where f.submission_id = {{sid}}
    order by f.file_name, f.line_no nulls first, f.check_id, cell.key
"""


def write(conn: psycopg.Connection, submission_id: int, path: Path) -> None:
    """Write the CSV (header only when nothing failed) to path, replacing it whole."""
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as out:
        for block in _copy(conn, submission_id):
            out.write(block)
    partial.replace(path)


def csv_bytes(conn: psycopg.Connection, submission_id: int) -> bytes:
    """The CSV itself (UTF-8), for a caller that serves it rather than writes it (mfc check's
    page puts it in a data: link)."""
    return b"".join(_copy(conn, submission_id))


def _copy(conn: psycopg.Connection, submission_id: int) -> Iterator[bytes]:
    query = sql.SQL(QUERY).format(sid=sql.Literal(int(submission_id)))
    copy = sql.SQL("copy ({}) to stdout (format csv, header true)").format(query)
    with conn.cursor().copy(copy) as stream:
        for block in stream:
            yield bytes(block)
