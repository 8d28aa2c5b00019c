"""Gate checks for the council return (SSDA903 header, episodes and missing tables).

Ids are the DfE rule number where one exists (wording as in DfE's validation rules), else
mfc.<table>.<what>. Each GX query reads one table of one submission as `{batch}` (landing
columns are lower-case text as delivered, trimmed, blank = null) and returns the offending rows
with their line_no. Examples keep the line and the values that are wrong, never a CHILD or UPN
(the line is enough to find the row). docs/returns/council.md lists these checks.
"""

from __future__ import annotations

from expectations.checks import (
    BLOCKING,
    Check,
    columns_present,
    in_set,
    not_blank,
    unexpected_rows,
)
from mfc.returns.council import TABLES


def _bad_date(column: str, *, blank_allowed: bool) -> str:
    blank = f"{column} is not null and " if blank_allowed else ""
    return (
        f"select line_no, {column} from {{batch}} "
        f"where {blank}landing.to_date_uk({column}) is null order by line_no"
    )


# Every DfE column of each table must be there before anything else is read.
STRUCTURE: tuple[Check, ...] = tuple(
    Check(
        f"mfc.{table.name}.columns",
        table.name,
        "structure",
        BLOCKING,
        f"{table.file_name} must have every DfE column: {', '.join(table.columns)}.",
        build=columns_present(table.columns),
    )
    for table in TABLES
)

CONTENT: tuple[Check, ...] = (
    Check("mfc.header.child", "header", "content", BLOCKING,
          "CHILD is blank.", ("CHILD",), not_blank("child")),
    Check("mfc.header.dob", "header", "content", BLOCKING,
          "DOB is blank or not a valid date (dd/mm/yyyy).", ("DOB",),
          unexpected_rows(_bad_date("dob", blank_allowed=False))),
    Check("mfc.header.mc_dob", "header", "content", BLOCKING,
          "MC_DOB is not a valid date (dd/mm/yyyy).", ("MC_DOB",),
          unexpected_rows(_bad_date("mc_dob", blank_allowed=True))),
    Check("mfc.episodes.child", "episodes", "content", BLOCKING,
          "CHILD is blank.", ("CHILD",), not_blank("child")),
    Check("mfc.episodes.decom", "episodes", "content", BLOCKING,
          "DECOM is blank or not a valid date (dd/mm/yyyy).", ("DECOM",),
          unexpected_rows(_bad_date("decom", blank_allowed=False))),
    Check("mfc.episodes.dec", "episodes", "content", BLOCKING,
          "DEC is not a valid date (dd/mm/yyyy).", ("DEC",),
          unexpected_rows(_bad_date("dec", blank_allowed=True))),
    Check("mfc.missing.child", "missing", "content", BLOCKING,
          "CHILD is blank.", ("CHILD",), not_blank("child")),
    Check("mfc.missing.dob", "missing", "content", BLOCKING,
          "DOB is blank or not a valid date (dd/mm/yyyy).", ("DOB",),
          unexpected_rows(_bad_date("dob", blank_allowed=False))),
    Check("1004", "missing", "content", BLOCKING,
          "Start date of the missing/away episode is not a valid date.", ("MIS_START",),
          unexpected_rows(_bad_date("mis_start", blank_allowed=False))),
    Check("1005", "missing", "content", BLOCKING,
          "End date of the missing/away episode is not a valid date.", ("MIS_END",),
          unexpected_rows(_bad_date("mis_end", blank_allowed=True))),
    Check("1006", "missing", "content", BLOCKING,
          "Missing type invalid.", ("MISSING",), in_set("missing", ["M", "A"])),
    Check("565", "missing", "content", BLOCKING,
          "The date that the child started to be missing or away from placement without "
          "authorisation has been completed but whether the child was missing or away from "
          "placement without authorisation has not been completed.",
          ("MISSING", "MIS_START"),
          unexpected_rows("select line_no, missing, mis_start from {batch} "
                "where missing is null and mis_start is not null order by line_no")),
    Check("567", "missing", "content", BLOCKING,
          "End date before start date.",
          ("MIS_START", "MIS_END"),
          unexpected_rows("select line_no, mis_start, mis_end from {batch} "
                "where landing.to_date_uk(mis_end) < landing.to_date_uk(mis_start) "
                "order by line_no")),
    Check("mfc.missing.duplicate_period", "missing", "content", BLOCKING,
          "The same missing/away period (CHILD and MIS_START) is returned more than once.",
          ("MIS_START",),
          unexpected_rows("select line_no, child, mis_start from ("
                "select line_no, child, mis_start, "
                "count(*) over (partition by child, landing.to_date_uk(mis_start)) as copies "
                "from {batch} where mis_start is not null) periods "
                "where copies > 1 order by line_no")),
    Check("INT04", "missing", "cross-table", BLOCKING,
          "Child in Missing not in Header: CHILD is not in header.csv.", (),
          # GX aliases {batch} itself, so the query names no alias of its own.
          unexpected_rows("select line_no, child from {batch} where child is not null "
                "and (submission_id, child) not in (select submission_id, child "
                "from landing.council_header where child is not null) order by line_no")),
)

# Checks of the delivery itself, run in Python before anything is read with GX: a file that
# cannot be parsed cannot be validated.
SUBMISSION: tuple[Check, ...] = (
    Check("mfc.submission.year", None, "file", BLOCKING,
          "The delivery folder must name the collection year as YYYY-YY, e.g. 2023-24."),
    Check("mfc.authority.known", None, "file", BLOCKING,
          "The delivery folder must name a children's services authority in being in the "
          "collection year, by GSS code, DfE code or name."),
    Check("mfc.file.present", None, "file", BLOCKING,
          "header.csv, episodes.csv and missing.csv must all be delivered."),
    Check("mfc.file.readable", None, "file", BLOCKING,
          "Each file must be a comma-separated UTF-8 text file with the column names on line 1 "
          "and the same number of fields on every line."),
)

ALL: tuple[Check, ...] = SUBMISSION + STRUCTURE + CONTENT
