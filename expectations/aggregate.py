"""Gate checks for aggregate returns (docs/returns/aggregate.md lists them).

Each GX query reads the landing rows of a batch of files as `{batch}`: the columns as delivered
(lower-case, trimmed, blank = null) plus area_type and area_gss, the AREA as the register
resolved it on PERIOD_END. A query returns each offending row with submission_id and line_no.
"""

from __future__ import annotations

from expectations.checks import BLOCKING, WARNING, Check
from mfc.returns.aggregate import (
    AGE_BANDS,
    COUNTING,
    DIFFERENCE_TOLERANCE,
    MEASURES,
    SEXES,
    SOURCE_KINDS,
    VALUES,
)

TABLE = VALUES.name
_NUMBER = "replace(value, ',', '') ~ '^\\d+$'"


def _failing(columns: str, where: str) -> str:
    return f"select submission_id, line_no, {columns} from {{batch}} where {where}"


def _codes(codes) -> str:
    """A SQL list of codes, lower case, for `lower(column) not in (...)`."""
    return "(" + ", ".join(f"'{c.lower()}'" for c in codes) + ")"


SUBMISSION: tuple[Check, ...] = (
    Check("aggregate.file.type", None, "file", BLOCKING,
          "The file must be a .csv or .xlsx file (the first sheet of a workbook is read)."),
    Check("aggregate.file.readable", None, "file", BLOCKING,
          "The file must be readable: comma-separated UTF-8 text, or a workbook, with the "
          "column names in the first row and the same number of fields on every line."),
    Check("aggregate.columns", TABLE, "structure", BLOCKING,
          "Every column must be present: " + ", ".join(VALUES.columns)
          + " (ROUNDED_TO and NOTE may be added)."),
)

CONTENT: tuple[Check, ...] = (
    Check("aggregate.area", TABLE, "content", BLOCKING,
          "AREA must name a children's services authority in being on PERIOD_END (GSS code, "
          "DfE code or name), a police force (code or name), England, Wales or England and "
          "Wales, or one of England's nine regions (E12 code or name).",
          ("AREA", "PERIOD_END", "SUGGESTION"),
          query=_failing("area, period_end, area_suggestion as suggestion",
                   "area is null or (area_gss is null "
                   "and landing.latest_day(period_end) is not null)")),
    Check("aggregate.period", TABLE, "content", BLOCKING,
          "PERIOD_START and PERIOD_END must be valid dates (dd/mm/yyyy), or a year (yyyy) when "
          "the day is not known, the start not after the end.", ("PERIOD_START", "PERIOD_END"),
          query=_failing("period_start, period_end",
                   "landing.earliest_day(period_start) is null "
                   "or landing.latest_day(period_end) is null "
                   "or landing.latest_day(period_end) < landing.earliest_day(period_start)")),
    Check("aggregate.covered", TABLE, "content", BLOCKING,
          "COVERED_FROM and COVERED_TO, when given, must be valid dates (dd/mm/yyyy) inside the "
          "period, the first not after the last: the part of the period the figure covers.",
          ("COVERED_FROM", "COVERED_TO", "PERIOD_START", "PERIOD_END"),
          query=_failing("covered_from, covered_to, period_start, period_end",
                   "(covered_from is not null and landing.to_date_uk(covered_from) is null) "
                   "or (covered_to is not null and landing.to_date_uk(covered_to) is null) "
                   "or landing.to_date_uk(covered_from) < landing.earliest_day(period_start) "
                   "or landing.to_date_uk(covered_to) > landing.latest_day(period_end) "
                   "or landing.to_date_uk(covered_to) < landing.to_date_uk(covered_from)")),
    Check("aggregate.measure", TABLE, "content", BLOCKING,
          "MEASURE must be one of: " + ", ".join(MEASURES) + ".", ("MEASURE",),
          query=_failing("measure", "measure is null or measure not in ("
                   + ", ".join(f"'{m}'" for m in MEASURES) + ")")),
    Check("aggregate.value", TABLE, "content", BLOCKING,
          "VALUE must be a whole number (commas allowed), a lower bound (at least N, more than "
          "N, N+) or a suppression mark: <5, fewer than five, c, *, x, or blank.", ("VALUE",),
          query=_failing("value", f"value is not null and not ({_NUMBER}) "
                   "and landing.suppression(value) is null")),
    Check("aggregate.rounded_to", TABLE, "content", BLOCKING,
          "ROUNDED_TO, when given, must be a whole number of 2 or more (5 for 'rounded to the "
          "nearest 5').", ("ROUNDED_TO",),
          query=_failing("rounded_to", "rounded_to is not null and (rounded_to !~ '^\\d{{1,6}}$' "
                   "or rounded_to::int < 2)")),
    Check("aggregate.source_kind", TABLE, "content", BLOCKING,
          "SOURCE_KIND, when given, must be one of: " + ", ".join(SOURCE_KINDS) + ".",
          ("SOURCE_KIND",),
          query=_failing("source_kind", f"lower(source_kind) not in {_codes(SOURCE_KINDS)}")),
    Check("aggregate.counting", TABLE, "content", BLOCKING,
          "COUNTING, when given, must be each_child_once or yearly_sum, and only for a measure "
          "that counts children.", ("COUNTING", "MEASURE"),
          query=_failing("counting, measure",
                   f"counting is not null and (lower(counting) not in {_codes(COUNTING)} "
                   "or left(measure, 8) <> 'children')")),
    Check("aggregate.age_band", TABLE, "content", BLOCKING,
          "AGE_BAND, when given, must be one of: " + ", ".join(AGE_BANDS)
          + " (blank: all ages).", ("AGE_BAND",),
          query=_failing("age_band", f"lower(age_band) not in {_codes(AGE_BANDS)}")),
    Check("aggregate.sex", TABLE, "content", BLOCKING,
          "SEX, when given, must be Male or Female (blank: both).", ("SEX",),
          query=_failing("sex", f"lower(sex) not in {_codes(SEXES)}")),
    Check("aggregate.duplicate", TABLE, "content", BLOCKING,
          "The same AREA, period, MEASURE, group (AGE_BAND, SEX) and COUNTING must be given "
          "once in a file.",
          ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE"),
          query=(
              "select submission_id, line_no, area, period_start, period_end, measure from ("
              "select *, count(*) over (partition by submission_id, area_gss, period_start, "
              "period_end, measure, lower(age_band), lower(sex), "
              # A children's measure counts each child once unless COUNTING says otherwise.
              "case when left(measure, 8) = 'children' "
              "then coalesce(lower(counting), 'each_child_once') end) as copies "
              "from {batch} where area_gss is not null) as rows where copies > 1")),
)

# Against the figures already loaded, and within the file: reported, never blocking (a
# statistician decides which figure to use; fct_reported_values keeps them all).
CROSS_SUBMISSION: tuple[Check, ...] = (
    Check("aggregate.replaces", TABLE, "cross-submission", WARNING,
          "This value replaces the value the same source gave earlier for the same area, "
          "period, measure and group: the earlier one is kept but no longer used.",
          ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "EARLIER")),
    Check("aggregate.differs", TABLE, "cross-submission", WARNING,
          "Another source gives a different figure for the same area, period, measure and group "
          f"(their ranges are more than {DIFFERENCE_TOLERANCE:.0%} of the larger, and more "
          "than 2, apart).",
          ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "OTHER")),
    Check("aggregate.part_exceeds_whole", TABLE, "cross-submission", WARNING,
          "A figure for part of a period, part of an area or one group of children is larger "
          "than the figure for the whole of it.",
          ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "COMPARED_WITH")),
)

ALL: tuple[Check, ...] = SUBMISSION + CONTENT + CROSS_SUBMISSION
