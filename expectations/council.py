"""Gate checks for the council return (SSDA903 header, episodes and missing tables).

Ids are the DfE rule number where one exists (wording as in DfE's validation rules), else
mfc.<table>.<what>. Each query reads one table of a batch of submissions as `{batch}` (landing
columns are lower-case text as delivered, trimmed, blank = null, with <column>_date parsed once
for the dates checks compare; GX aliases {batch} itself unless the query joins) and returns
every offending row with its submission_id and line_no; windows and joins are per submission.
Queries join audit.submissions for the collection year and the other landing tables of the
same submission. Examples keep the line and the values that are wrong, never a CHILD or UPN
(the line is enough to find the row). A row that conflicts with another (an overlapping
period, the episode a missing period is compared with) also returns conflicts_with, naming that
row's file, line and values; the check lists it as the pseudo-column CONFLICTS_WITH.

Rules that place missing periods in care read the child's periods of care (PERIODS): DfE's
577, 578 and 581, and mfc.missing.no_episode for a child with no episode at all. DfE's rules
on the order of episodes (142, 388, 431-433, 501) read each episode beside the one before and
after it (SEQUENCE).
docs/returns/council.md lists these checks (generated: python -m expectations.catalogue_docs).
"""

from __future__ import annotations

from expectations.checks import BLOCKING, WARNING, Check, columns_present
from mfc.returns.council import EPISODES, HEADER, MISSING, TABLES

# Dates as the queries read them (null when not a valid dd/mm/yyyy date): landing computes
# <column>_date once per row (src/mfc/migrations/versions/0001_baseline.sql) for the dates
# checks compare.
START, END = "mis_start_date", "mis_end_date"
PARSED = {"dob", "decom", "dec", "mis_start", "mis_end"}
YEAR = "join audit.submissions using (submission_id)"
# A failing row names the row it conflicts with in a pseudo-column, CONFLICTS_WITH: text such
# as "episodes.csv line 12 (DEC 03/05/2024)", the file as the return's tables name it.
CONFLICTS = "CONFLICTS_WITH"


def _ref(file_name: str, line: str, **values: str) -> str:
    """SQL for the text naming another row: its file, line and the values compared with (SQL
    expressions, by column name); a blank value reads 'blank'."""
    shown = " || ', ' || ".join(f"'{column} ' || coalesce({expr}, 'blank')"
                                for column, expr in values.items())
    return f"'{file_name} line ' || {line} || ' (' || {shown} || ')'"


# Each child's periods of care in the same submission, as DfE's rules build them: episodes in
# order of DECOM (then line); a new period starts when an episode's DECOM is after the DEC of
# the episodes before it. Contiguous episodes (DEC = the next DECOM, REC X1) and an episode
# following one still open are the same period. A period starts at its first DECOM (from_line)
# and ends at its latest DEC (to_line); care_to is null while any of its episodes is open.
# (DfE's validator compares each DECOM with the previous episode's DEC alone and ends a period
# at its last episode's DEC: the same periods unless episodes overlap, which 501 reports.)
PERIODS = (
    "(select submission_id, child, period, min(decom_date) as care_from, "
    "(array_agg(line_no order by decom_date, line_no))[1] as from_line, "
    "(array_agg(decom order by decom_date, line_no))[1] as from_decom, "
    "case when bool_and(dec_date is not null) then max(dec_date) end as care_to, "
    "(array_agg(line_no order by dec_date desc nulls first, line_no desc))[1] as to_line, "
    "(array_agg(dec order by dec_date desc nulls first, line_no desc))[1] as to_dec "
    "from (select *, count(*) filter (where starts) over (partition by submission_id, child "
    "order by decom_date, line_no) as period "
    "from (select submission_id, child, line_no, decom, dec, decom_date, dec_date, "
    "count(*) over before = 0 or (bool_and(dec_date is not null) over before "
    "and decom_date > max(dec_date) over before) as starts "
    "from landing.council_episodes where child is not null and decom_date is not null "
    "window before as (partition by submission_id, child order by decom_date, line_no "
    "rows between unbounded preceding and 1 preceding)) episodes"
    ") numbered group by submission_id, child, period) periods"
)


def _placed(columns: str, where: str) -> str:
    """Missing periods of children with episodes, each with the period of care it is placed
    in: the latest that started on or before MIS_START, else the child's first (a period that
    starts before care). `where` reads starts/ends (MIS_START/MIS_END as dates), care_from,
    care_to and the lines and dates of the period's first and last episode."""
    return (
        f"select submission_id, line_no, {columns} from ("
        "select distinct on (submission_id, line_no) submission_id, line_no, mis_start, "
        f"mis_end, {START} as starts, {END} as ends, care_from, from_line, from_decom, "
        "care_to, to_line, to_dec "
        f"from {{batch}} as batch join {PERIODS} using (submission_id, child) "
        f"where care_from <= {START} or period = 1 "
        f"order by submission_id, line_no, care_from <= {START} desc nulls last, "
        f"care_from desc) placed where {where} order by line_no")


# The episode that starts the child's period of care, and the one that ends it.
PERIOD_START = _ref(EPISODES.file_name, "from_line", DECOM="from_decom")
PERIOD_END = _ref(EPISODES.file_name, "to_line", DEC="to_dec")

# Each episode beside the child's episode before and after it (in order of DECOM, then line),
# for DfE's rules on the sequence of episodes.
SEQUENCE = (
    "(select submission_id, line_no, child, decom, dec, rec, rne, decom_date, dec_date, "
    "lag(line_no) over w as prev_line, lag(dec) over w as prev_dec, "
    "lag(dec_date) over w as prev_dec_date, lag(rec) over w as prev_rec, "
    "lead(line_no) over w as next_line, lead(decom) over w as next_decom, "
    "lead(decom_date) over w as next_decom_date "
    "from {batch} where child is not null and decom_date is not null "
    "window w as (partition by submission_id, child order by decom_date, line_no)) episodes"
)
PREVIOUS_DEC = _ref(EPISODES.file_name, "prev_line", DEC="prev_dec")
NEXT_DECOM = _ref(EPISODES.file_name, "next_line", DECOM="next_decom")
# Reasons an episode ceased that end the period of care (all but X1).
LEAVING = ("E2", "E3", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9", "E11", "E12", "E13", "E14",
           "E15", "E16", "E17", "E41", "E45", "E46", "E47", "E48")


def _sequence(columns: str, where: str) -> str:
    return (f"select submission_id, line_no, {columns} from {SEQUENCE} where {where} "
            "order by line_no")


def _each_once(columns: str, where: str, joins: str, prefer: str) -> str:
    """Failing rows of a query that joins, each once however many rows it conflicts with: the
    first by `prefer` is named."""
    return (f"select * from (select distinct on (submission_id, line_no) submission_id, "
            f"line_no, {columns} from {{batch}} as batch {joins} where {where} "
            f"order by submission_id, line_no, {prefer}) failing order by line_no")


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
    # DfE's 148 both ways; a DEC given without a REC is mfc.episodes.rec's (it says so).
    _check("148", "episodes", "content", BLOCKING,
           "Date episode ceased and reason episode ceased must both be coded, or both left "
           "blank.", ("DEC", "REC"), _rows("dec, rec", "rec is not null and dec is null")),
    _check("353", "episodes", "content", BLOCKING,
           "No episode submitted can start before 14 October 1991.", ("DECOM",),
           _rows("decom", "decom_date < date '1991-10-14'")),
    _check("385", "episodes", "content", BLOCKING,
           "Date episode ceased must be on or before the end of the current collection year.",
           ("DEC",), _rows("dec", "dec_date > period_end", YEAR)),
    # The episode left open: the one after it is named. (DfE's validator also flags an
    # ended episode without REC here; that is mfc.episodes.rec's.)
    _check("142", "episodes", "content", BLOCKING,
           "A new episode has started, but the previous episode has not ended.",
           ("DECOM", "DEC", CONFLICTS),
           _sequence(f"decom, dec, {NEXT_DECOM} as conflicts_with",
                     "dec is null and next_line is not null")),
    _check("501", "episodes", "content", BLOCKING,
           "A new episode has started before the end date of the previous episode.",
           ("DECOM", CONFLICTS),
           _sequence(f"decom, {PREVIOUS_DEC} as conflicts_with", "decom_date < prev_dec_date")),
    # X1 (a new episode begins the same day) must be followed by an episode starting on its
    # DEC; an episode followed by one starting on its DEC must end X1; the last may not.
    _check("388", "episodes", "content", BLOCKING,
           "Reason episode ceased is coded new episode begins, but there is no continuation "
           "episode.",
           ("DEC", "REC", CONFLICTS),
           _sequence(f"dec, rec, case when next_line is not null then {NEXT_DECOM} end "
                     "as conflicts_with",
                     "dec_date is not null and ((upper(rec) = 'X1' and next_line is not null "
                     "and dec_date <> next_decom_date) or (upper(rec) <> 'X1' "
                     "and dec_date = next_decom_date) "
                     "or (upper(rec) = 'X1' and next_line is null))")),
    _check("431", "episodes", "content", BLOCKING,
           "The reason for new episode is started to be looked after, but the previous "
           "episode ended on the same day.",
           ("RNE", "DECOM", CONFLICTS),
           _sequence(f"rne, decom, {PREVIOUS_DEC} as conflicts_with",
                     "upper(rne) = 'S' and decom_date <= prev_dec_date")),
    _check("432", "episodes", "content", BLOCKING,
           "The child ceased to be looked after at the end of the previous episode but the "
           "reason for the new episode is not started to be looked after.",
           ("RNE", CONFLICTS),
           _sequence(_ref(EPISODES.file_name, "prev_line", REC="prev_rec")
                     .join(("rne, ", " as conflicts_with")),
                     f"upper(prev_rec) in ({', '.join(repr(c) for c in LEAVING)}) "
                     "and coalesce(upper(rne), '') <> 'S'")),
    _check("433", "episodes", "content", BLOCKING,
           "The reason for new episode suggests that this is a continuation episode, but the "
           "episode does not start on the same day as the last episode finished.",
           ("RNE", "DECOM", CONFLICTS),
           _sequence(f"rne, decom, {PREVIOUS_DEC} as conflicts_with",
                     "upper(rne) in ('P', 'L', 'T', 'U', 'B') and prev_line is not null "
                     "and (prev_dec_date is null or decom_date <> prev_dec_date)")),
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
           ("MIS_START", "MIS_END", CONFLICTS),
           # The earlier period of each overlapping pair: the one whose end is wrong (or
           # missing); the later one is named. Equal starts are the duplicate check's; ending
           # and starting again on the same day is not an overlap (DfE holds dates, not times).
           "select submission_id, line_no, mis_start, mis_end, "
           f"{_ref(MISSING.file_name, 'next_line', MIS_START='next_mis_start')} "
           "as conflicts_with from (select submission_id, "
           f"line_no, mis_start, mis_end, {START} as starts, {END} as ends, "
           f"lead({START}) over w as next_start, lead(line_no) over w as next_line, "
           f"lead(mis_start) over w as next_mis_start from {{batch}} "
           f"where {START} is not null window w as (partition by submission_id, child "
           f"order by {START}, line_no)) periods "
           "where next_start > starts and (mis_end is null or next_start < ends) "
           "order by line_no"),
    _check("mfc.missing.duplicate_period", "missing", "content", BLOCKING,
           "The same missing/away period (CHILD and MIS_START) is returned more than once.",
           ("MIS_START", CONFLICTS),
           # Each copy names another: the first names the second, the others the first.
           "select submission_id, line_no, child, mis_start, "
           f"{_ref(MISSING.file_name, 'other_line', MIS_START='mis_start')} as conflicts_with "
           "from (select submission_id, line_no, child, mis_start, count(*) over w as copies, "
           "case when line_no = first_value(line_no) over w then lead(line_no) over w "
           "else first_value(line_no) over w end as other_line "
           "from {batch} where mis_start is not null window w as (partition by submission_id, "
           f"child, {START} order by line_no rows between unbounded preceding and unbounded "
           "following)) periods where copies > 1 order by line_no"),
    _check("mfc.missing.open_at_year_end", "missing", "content", WARNING,
           "MIS_END is blank: the period was still open at the end of the collection year. "
           "If the child has come back, give the date; if not, check they are still missing.",
           ("MIS_START", "MIS_END"), _rows("mis_start, mis_end", "mis_end is null")),
)

IN_HEADER = ("left join (select distinct submission_id, child from landing.council_header "
             "where child is not null) in_header using (submission_id, child)")

CROSS_TABLE: tuple[Check, ...] = (
    _check("INT03", "episodes", "cross-table", BLOCKING,
           "Internal Check: Child in Episodes does not exist in Header.", (),
           _rows("child", "child is not null and in_header.child is null", IN_HEADER),
           reads=("header",)),
    # The child's first episode (by DECOM), against the DOB in header.csv.
    _check("302", "episodes", "cross-table", BLOCKING,
           "First episode starts before child was born.", ("DECOM", CONFLICTS),
           "select submission_id, line_no, decom, conflicts_with from (select distinct on "
           "(submission_id, child) submission_id, line_no, decom, decom_date, header_dob, "
           f"{_ref(HEADER.file_name, 'header_line', DOB='header_dob_text')} as conflicts_with "
           "from {batch} as batch join (select submission_id, child, line_no as header_line, "
           "dob as header_dob_text, dob_date as header_dob from landing.council_header) header "
           "using (submission_id, child) where decom_date is not null "
           "order by submission_id, child, decom_date, line_no, header_line) firsts "
           "where decom_date < header_dob order by line_no",
           reads=("header",)),
    _check("INT04", "missing", "cross-table", BLOCKING,
           "Child in Missing not in Header: CHILD is not in header.csv.", (),
           # An anti-join: NOT IN over (submission, child) pairs is not hashed once the pairs
           # outgrow work_mem, and a batch of large authorities then took minutes.
           _rows("child", "child is not null and in_header.child is null", IN_HEADER),
           reads=("header",)),
    _check("INT13", "missing", "cross-table", WARNING,
           "DOB in missing.csv differs from the child's DOB in header.csv.", ("DOB", CONFLICTS),
           _each_once(f"dob, {_ref(HEADER.file_name, 'header_line', DOB='header_dob_text')} "
                      "as conflicts_with", "dob_date <> header_dob",
                      "join (select submission_id, child, line_no as header_line, "
                      "dob as header_dob_text, dob_date as header_dob "
                      "from landing.council_header) header using (submission_id, child)",
                      "header_line"),
           reads=("header",)),
    # Placement by placement (episode by episode), as DfE's rule reads it.
    _check("575", "missing", "cross-table", BLOCKING,
           "If the placement from which the child went missing or away from placement without "
           "authorisation ended, the missing/away from placement without authorisation period "
           "must also have an end date.",
           ("MIS_START", "MIS_END", CONFLICTS),
           _each_once("mis_start, mis_end, " + _ref(
                          EPISODES.file_name, "placement_line", DECOM="placement_decom",
                          DEC="placement_dec") + " as conflicts_with",
                      f"mis_end is null and {START} between decom_date and dec_date",
                      "join (select submission_id, child, line_no as placement_line, "
                      "decom as placement_decom, dec as placement_dec, decom_date, dec_date "
                      "from landing.council_episodes where dec is not null) placements "
                      "using (submission_id, child)", "placement_line"),
           reads=("episodes",)),
    # The rest place each missing period in the child's periods of care (PERIODS): one that
    # starts in a period must end by the period's end (577); one that starts after a period
    # ended and before the next began, or after the last ended, started after the child
    # ceased to be looked after (578); one that starts before the first began, before the
    # child was looked after (581). A child with no episode at all is mfc.missing.no_episode's.
    _check("577", "missing", "cross-table", BLOCKING,
           "Child ceased to be looked after but has a missing/away from placement without "
           "authorisation period without an end date, or one that ends after care ended.",
           ("MIS_START", "MIS_END", CONFLICTS),
           _placed(f"mis_start, mis_end, {PERIOD_END} as conflicts_with",
                   "starts between care_from and care_to and (ends is null or ends > care_to)"),
           reads=("episodes",)),
    _check("578", "missing", "cross-table", BLOCKING,
           "The date that the child started to be missing or away from placement without "
           "authorisation is after the child ceased to be looked after.",
           ("MIS_START", CONFLICTS),
           _placed(f"mis_start, {PERIOD_END} as conflicts_with", "starts > care_to"),
           reads=("episodes",)),
    _check("580", "missing", "cross-table", BLOCKING,
           "Child is missing or away from placement without authorisation on the date their "
           "care ended at 18, but the reason episode ceased (REC) is not E8.",
           ("DOB", "MIS_END", CONFLICTS),
           _each_once("dob, mis_end, "
                      f"{_ref(EPISODES.file_name, 'ending_line', DEC='ending_dec', REC='rec')} "
                      "as conflicts_with",
                      f"{END} = ceased and ceased = (dob_date + interval '18 years')"
                      "::date and upper(rec) <> 'E8'",
                      "join (select submission_id, child, line_no as ending_line, "
                      "dec as ending_dec, dec_date as ceased, rec "
                      "from landing.council_episodes) endings using (submission_id, child)",
                      "ending_line"),
           reads=("episodes",)),
    _check("581", "missing", "cross-table", BLOCKING,
           "Child is recorded as having a missing/away from placement without authorisation "
           "period but was not yet looked after.",
           ("MIS_START", CONFLICTS),
           _placed(f"mis_start, {PERIOD_START} as conflicts_with", "starts < care_from"),
           reads=("episodes",)),
    # A child in header.csv (INT04 names the others) with no episode: its missing periods
    # cannot be placed in care at all.
    _check("mfc.missing.no_episode", "missing", "cross-table", BLOCKING,
           "CHILD has missing/away periods but no episode in episodes.csv: a child can only be "
           "missing or away from a placement while looked after, so the child's episodes of "
           "care must be returned too.",
           ("MIS_START",),
           _rows("mis_start", "child is not null and in_episodes.child is null "
                 "and in_header.child is not null",
                 "left join (select distinct submission_id, child from "
                 "landing.council_episodes where child is not null) in_episodes "
                 f"using (submission_id, child) {IN_HEADER}"),
           reads=("episodes", "header")),
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
          "The warehouse received the return after the deadline of 30 June after the "
          "collection year."),
    Check("mfc.submission.superseded", None, "cross-submission", WARNING,
          "A later submission for the same authority and year replaces this one."),
)

ALL: tuple[Check, ...] = (SUBMISSION + STRUCTURE + UNKNOWN_COLUMNS + CONTENT
                          + CROSS_SUBMISSION)
