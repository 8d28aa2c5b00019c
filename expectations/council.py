"""Gate checks for the council return (SSDA903 header, episodes and missing tables).

Ids are the DfE rule number where one exists (wording as in DfE's validation rules), else
mfc.<table>.<what>. Each query reads one table of a batch of submissions as `{batch}` (landing
columns are lower-case text as delivered, trimmed, blank = null, with <column>_date parsed once
for the dates checks compare; GX aliases {batch} itself unless the query joins) and returns
every offending row with its submission_id and line_no; windows and joins are per submission.
Queries join audit.submissions for the collection year and the other landing tables of the
same submission. Examples keep the line and the values that are wrong, never a CHILD or UPN
(the line is enough to find the row).
docs/returns/council.md lists these checks.
"""

from __future__ import annotations

from expectations.checks import BLOCKING, WARNING, Check, columns_present
from mfc.returns.council import TABLES

# Dates as the queries read them (null when not a valid dd/mm/yyyy date): landing computes
# <column>_date once per row (src/mfc/migrations/versions/0001_baseline.sql) for the dates
# checks compare.
START, END = "mis_start_date", "mis_end_date"
PARSED = {"dob", "decom", "dec", "mis_start", "mis_end"}
YEAR = "join audit.submissions using (submission_id)"
# Each child's periods of care in the same submission: first start, and the end when every
# episode has ended (null while the child is still looked after).
CARE = ("left join (select submission_id, child, count(*) as episodes, "
        "min(decom_date) as care_from, "
        "case when bool_and(dec is not null) then max(dec_date) end "
        "as care_ended from landing.council_episodes group by submission_id, child) care "
        "using (submission_id, child)")


def _rows(columns: str, where: str, joins: str = "") -> str:
    # GX aliases {batch} itself unless the query joins; then the query must.
    batch = "{batch} as batch" if joins else "{batch}"
    return (f"select distinct submission_id, line_no, {columns} from {batch} {joins} "
            f"where {where} order by line_no")


def _bad_date(column: str, *, blank_allowed: bool) -> str:
    blank = f"{column} is not null and " if blank_allowed else f"{column} is null or "
    parsed = f"{column}_date" if column in PARSED else f"landing.to_date_uk({column})"
    return _rows(column, f"{blank}{parsed} is null")


def _bad_code(field: str, *, blank_allowed: bool = False, joins: str = "") -> str:
    """Codes not in the collection year's list (landing.code_lists): a join, which PostgreSQL
    hashes, rather than a lookup per row (landing.valid_code reads the same way)."""
    column = field.lower()
    blank = f"{column} is not null and " if blank_allowed else f"{column} is null or "
    listed = (f"left join landing.code_lists listed on listed.field = '{field}' "
              f"and listed.code = upper({column}) "
              "and left(collection_year, 4)::int between coalesce(listed.first_year, 0) "
              "and coalesce(listed.last_year, 9999)")
    return _rows(column, f"{blank}listed.code is null", f"{YEAR} {joins} {listed}")


def _check(check_id, table, stage, severity, message, columns, query, reads=()) -> Check:
    return Check(check_id, table, stage, severity, message, columns, query=query, reads=reads)


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

# Columns we do not read are ignored, and said so (checked in Python as the file lands).
UNKNOWN_COLUMNS: tuple[Check, ...] = tuple(
    Check(f"mfc.{table.name}.unknown_column", table.name, "structure", WARNING,
          f"{table.file_name} has a column this collection does not read; it is ignored. "
          "Check it is not a DfE column under another name.")
    for table in TABLES
)

HEADER_CHECKS: tuple[Check, ...] = (
    _check("mfc.header.child", "header", "content", BLOCKING,
           "CHILD is blank.", ("CHILD",), _rows("child", "child is null")),
    _check("mfc.header.sex", "header", "content", BLOCKING,
           "SEX is not a valid code for the collection year (1 or 2 up to 2023-24; M, F or U "
           "from 2024-25).", ("SEX",), _bad_code("SEX")),
    _check("mfc.header.dob", "header", "content", BLOCKING,
           "DOB is blank or not a valid date (dd/mm/yyyy).", ("DOB",),
           _bad_date("dob", blank_allowed=False)),
    _check("mfc.header.ethnic", "header", "content", BLOCKING,
           "ETHNIC is not one of DfE's ethnicity codes (e.g. WBRI, MWBC; REFU refused, NOBT "
           "not yet obtained).", ("ETHNIC",), _bad_code("ETHNIC")),
    _check("mfc.header.mc_dob", "header", "content", BLOCKING,
           "MC_DOB is not a valid date (dd/mm/yyyy).", ("MC_DOB",),
           _bad_date("mc_dob", blank_allowed=True)),
)

EPISODE_CHECKS: tuple[Check, ...] = (
    _check("mfc.episodes.child", "episodes", "content", BLOCKING,
           "CHILD is blank.", ("CHILD",), _rows("child", "child is null")),
    _check("mfc.episodes.decom", "episodes", "content", BLOCKING,
           "DECOM is blank or not a valid date (dd/mm/yyyy).", ("DECOM",),
           _bad_date("decom", blank_allowed=False)),
    _check("mfc.episodes.dec", "episodes", "content", BLOCKING,
           "DEC is not a valid date (dd/mm/yyyy).", ("DEC",),
           _bad_date("dec", blank_allowed=True)),
    _check("mfc.episodes.dec_before_decom", "episodes", "content", BLOCKING,
           "DEC (date episode ceased) is before DECOM (date episode commenced).",
           ("DECOM", "DEC"),
           _rows("decom, dec", "dec_date < decom_date")),
    _check("mfc.episodes.ls", "episodes", "content", BLOCKING,
           "LS is not a valid legal status code (C1, C2, D1, E1, J1-J3, L1-L3, V2-V4).",
           ("LS",), _bad_code("LS")),
    _check("mfc.episodes.place", "episodes", "content", BLOCKING,
           "PLACE is not a valid placement type for the collection year (K3 from 2024-25; "
           "H5, P2 and Z1 replaced by Z11-Z14 from 2025-26).", ("PLACE",), _bad_code("PLACE")),
    _check("mfc.episodes.rec", "episodes", "content", BLOCKING,
           "REC is not a valid reason episode ceased, or is blank although DEC is given.",
           ("DEC", "REC"),
           _rows("dec, rec", "(rec is not null or dec is not null) and (rec is null or not "
                 "landing.valid_code('REC', upper(rec), collection_year))", YEAR)),
)

MISSING_CHECKS: tuple[Check, ...] = (
    _check("mfc.missing.child", "missing", "content", BLOCKING,
           "CHILD is blank.", ("CHILD",), _rows("child", "child is null")),
    _check("mfc.missing.dob", "missing", "content", BLOCKING,
           "DOB is blank or not a valid date (dd/mm/yyyy).", ("DOB",),
           _bad_date("dob", blank_allowed=False)),
    _check("1004", "missing", "content", BLOCKING,
           "Start date of the missing/away episode is not a valid date.", ("MIS_START",),
           _bad_date("mis_start", blank_allowed=False)),
    _check("1005", "missing", "content", BLOCKING,
           "End date of the missing/away episode is not a valid date.", ("MIS_END",),
           _bad_date("mis_end", blank_allowed=True)),
    _check("1006", "missing", "content", BLOCKING,
           "Missing type invalid.", ("MISSING",),
           _rows("missing", "missing is not null and missing not in ('M', 'A')")),
    _check("564", "missing", "content", BLOCKING,
           "Child was missing or away from placement without authorisation and the date "
           "started to be missing or away from placement without authorisation is blank.",
           ("MISSING", "MIS_START"),
           _rows("missing, mis_start", "missing is not null and mis_start is null")),
    _check("565", "missing", "content", BLOCKING,
           "The date that the child started to be missing or away from placement without "
           "authorisation has been completed but whether the child was missing or away from "
           "placement without authorisation has not been completed.",
           ("MISSING", "MIS_START"),
           _rows("missing, mis_start", "missing is null and mis_start is not null")),
    _check("566", "missing", "content", BLOCKING,
           "The date that the child ceased to be missing or away from placement without "
           "authorisation has been completed but whether the child was missing or away from "
           "placement without authorisation has not been completed.",
           ("MISSING", "MIS_END"),
           _rows("missing, mis_end", "missing is null and mis_end is not null")),
    _check("567", "missing", "content", BLOCKING,
           "The date that the child ceased to be missing or away from placement without "
           "authorisation is before the date that the child started to be missing or away "
           "from placement without authorisation.",
           ("MIS_START", "MIS_END"), _rows("mis_start, mis_end", f"{END} < {START}")),
    _check("570", "missing", "content", BLOCKING,
           "The date that the child started to be missing or away from placement without "
           "authorisation is after the end of the collection year.",
           ("MIS_START",), _rows("mis_start", f"{START} > period_end", YEAR)),
    _check("571", "missing", "content", BLOCKING,
           "The date that the child ceased to be missing or away from placement without "
           "authorisation is before the start or after the end of the collection year.",
           ("MIS_END",), _rows("mis_end", f"{END} < period_start or {END} > period_end", YEAR)),
    _check("574", "missing", "content", BLOCKING,
           "A new missing/away from placement without authorisation period cannot start when "
           "the previous missing/away from placement without authorisation period is still "
           "open. Missing/away from placement without authorisation periods should also not "
           "overlap.",
           ("MIS_START", "MIS_END"),
           # The earlier period of each overlapping pair: the one whose end is wrong (or
           # missing). Equal starts are the duplicate check's; ending and starting again on
           # the same day is not an overlap (DfE holds dates, not times).
           "select submission_id, line_no, mis_start, mis_end from (select submission_id, "
           f"line_no, mis_start, mis_end, {START} as starts, {END} as ends, "
           f"lead({START}) over (partition by submission_id, child "
           f"order by {START}, line_no) as next_start from {{batch}} "
           f"where {START} is not null) periods "
           "where next_start > starts and (mis_end is null or next_start < ends) "
           "order by line_no"),
    _check("mfc.missing.duplicate_period", "missing", "content", BLOCKING,
           "The same missing/away period (CHILD and MIS_START) is returned more than once.",
           ("MIS_START",),
           "select submission_id, line_no, child, mis_start from ("
           "select submission_id, line_no, child, mis_start, "
           f"count(*) over (partition by submission_id, child, {START}) as copies "
           "from {batch} where mis_start is not null) periods "
           "where copies > 1 order by line_no"),
    _check("mfc.missing.open_at_year_end", "missing", "content", WARNING,
           "MIS_END is blank: the period was still open at the end of the collection year. "
           "If the child has come back, give the date; if not, check they are still missing.",
           ("MIS_START", "MIS_END"), _rows("mis_start, mis_end", "mis_end is null")),
)

CROSS_TABLE: tuple[Check, ...] = (
    _check("INT04", "missing", "cross-table", BLOCKING,
           "Child in Missing not in Header: CHILD is not in header.csv.", (),
           # An anti-join: NOT IN over (submission, child) pairs is not hashed once the pairs
           # outgrow work_mem, and a batch of large authorities then took minutes.
           _rows("child", "child is not null and in_header.child is null",
                 "left join (select distinct submission_id, child from landing.council_header "
                 "where child is not null) in_header using (submission_id, child)"),
           reads=("header",)),
    _check("INT13", "missing", "cross-table", WARNING,
           "DOB in missing.csv differs from the child's DOB in header.csv.", ("DOB",),
           _rows("dob", "dob_date <> header_dob",
                 "join (select submission_id, child, dob_date as header_dob "
                 "from landing.council_header) header using (submission_id, child)"),
           reads=("header",)),
    _check("575", "missing", "cross-table", BLOCKING,
           "If the placement from which the child went missing or away from placement without "
           "authorisation ended, the missing/away from placement without authorisation period "
           "must also have an end date.",
           ("MIS_START", "MIS_END"),
           _rows("mis_start, mis_end",
                 f"mis_end is null and {START} between placement_from and placement_to",
                 "join (select submission_id, child, decom_date as placement_from, "
                 "dec_date as placement_to "
                 "from landing.council_episodes where dec is not null) placements "
                 "using (submission_id, child)"),
           reads=("episodes",)),
    _check("577", "missing", "cross-table", BLOCKING,
           "Child ceased to be looked after but has an open missing/away from placement "
           "without authorisation period.",
           ("MIS_START", "MIS_END"),
           _rows("mis_start, mis_end", f"mis_end is null and {START} <= care_ended", CARE),
           reads=("episodes",)),
    _check("578", "missing", "cross-table", BLOCKING,
           "The date that the child started to be missing or away from placement without "
           "authorisation is after the child ceased to be looked after.",
           ("MIS_START",), _rows("mis_start", f"{START} > care_ended", CARE),
           reads=("episodes",)),
    _check("580", "missing", "cross-table", BLOCKING,
           "Child is missing or away from placement without authorisation on the date their "
           "care ended at 18, but the reason episode ceased (REC) is not E8.",
           ("DOB", "MIS_END"),
           _rows("dob, mis_end",
                 f"{END} = ceased and ceased = (dob_date + interval '18 years')"
                 "::date and upper(rec) <> 'E8'",
                 "join (select submission_id, child, dec_date as ceased, rec "
                 "from landing.council_episodes) endings using (submission_id, child)"),
           reads=("episodes",)),
    _check("581", "missing", "cross-table", BLOCKING,
           "Child is recorded as having a missing/away from placement without authorisation "
           "period but was not yet looked after.",
           ("MIS_START",),
           _rows("mis_start", f"child is not null and ({START} < care_from or episodes is null)",
                 CARE),
           reads=("episodes",)),
    _check("586", "missing", "content", BLOCKING,
           "Dates of missing periods are before the child's date of birth.",
           ("DOB", "MIS_START"),
           _rows("dob, mis_start", f"{START} <= dob_date")),
)

CONTENT: tuple[Check, ...] = HEADER_CHECKS + EPISODE_CHECKS + MISSING_CHECKS + CROSS_TABLE

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
    Check("mfc.file.recognised", None, "file", WARNING,
          "A delivered file is not one of the tables this collection reads (header, episodes, "
          "missing); it is kept but not loaded."),
    Check("mfc.file.format", None, "file", BLOCKING,
          "Each table must be a CSV text file (in Excel: Save As, CSV UTF-8), not a workbook."),
    Check("mfc.file.empty", None, "file", BLOCKING,
          "A file is empty: deliver every table with its column names on line 1, even when it "
          "has no rows."),
    Check("mfc.file.encoding", None, "file", WARNING,
          "A file is not UTF-8: it was read as Windows-1252 (what Excel's plain CSV writes). "
          "Check accented letters came through; save as CSV UTF-8."),
    Check("mfc.file.bom", None, "file", WARNING,
          "A file starts with a byte order mark (Excel's CSV UTF-8 adds one); it is accepted."),
    Check("mfc.file.delimiter", None, "file", BLOCKING,
          "Fields must be separated by commas, not semicolons, tabs or bars."),
    Check("mfc.file.truncated", None, "file", BLOCKING,
          "A file ends part-way through a row, so it was cut short: deliver it again in full."),
    Check("mfc.file.readable", None, "file", BLOCKING,
          "Each file must be a comma-separated UTF-8 text file with the column names on line 1 "
          "and the same number of fields on every line."),
)

# Checks against the authority's other returns and the police, run after the content checks;
# they warn, never block: a data team must confirm, not fix.
# A file an authority adds to confirm that a much smaller return replaces its loaded one.
CONFIRM_REPLACE = "CONFIRM_REPLACE.txt"

CROSS_SUBMISSION: tuple[Check, ...] = (
    Check("mfc.submission.volume_change", "missing", "cross-submission", WARNING,
          "The number of missing/away periods changed sharply from the authority's return for "
          "the year before: a possible change in recording practice or an incomplete extract."),
    Check("mfc.submission.police_reconciliation", "missing", "cross-submission", WARNING,
          "Missing/away periods returned differ sharply from the incidents police forces "
          "recorded for looked-after children of this authority in the same year."),
    Check("mfc.submission.replaces_most", "missing", "cross-submission", BLOCKING,
          "This return would replace the authority's loaded return for the same year with "
          "fewer than half its missing/away periods: it is held back until confirmed. If the "
          f"smaller return is right, deliver it again with a file named {CONFIRM_REPLACE} in "
          "the folder."),
    Check("mfc.submission.late", None, "cross-submission", WARNING,
          "The return was delivered after the deadline of 30 June after the collection year."),
    Check("mfc.submission.superseded", None, "cross-submission", WARNING,
          "A later submission for the same authority and year replaces this one."),
)

ALL: tuple[Check, ...] = (SUBMISSION + STRUCTURE + UNKNOWN_COLUMNS + CONTENT
                          + CROSS_SUBMISSION)
