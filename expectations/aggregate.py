"""Gate checks for aggregate returns (docs/returns/aggregate.md lists them).

Each GX query reads the landing rows of a batch of files as `{batch}`: the columns as delivered
(lower-case, trimmed, blank = null) plus area_type and area_gss, the AREA as the register
resolved it on PERIOD_END. A query returns each offending row with submission_id and line_no.
"""

from __future__ import annotations

from expectations.checks import BLOCKING, Check
from mfc.returns.aggregate import MEASURES, VALUES

TABLE = VALUES.name
_NUMBER = "replace(value, ',', '') ~ '^\\d+$'"


def _failing(columns: str, where: str) -> str:
    return f"select submission_id, line_no, {columns} from {{batch}} where {where}"


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
          "Wales.", ("AREA", "PERIOD_END"),
          query=_failing("area, period_end",
                   "area is null or (area_gss is null "
                   "and landing.to_date_uk(period_end) is not null)")),
    Check("aggregate.period", TABLE, "content", BLOCKING,
          "PERIOD_START and PERIOD_END must be valid dates (dd/mm/yyyy), the start not after "
          "the end.", ("PERIOD_START", "PERIOD_END"),
          query=_failing("period_start, period_end",
                   "landing.to_date_uk(period_start) is null "
                   "or landing.to_date_uk(period_end) is null "
                   "or landing.to_date_uk(period_end) < landing.to_date_uk(period_start)")),
    Check("aggregate.measure", TABLE, "content", BLOCKING,
          "MEASURE must be one of: " + ", ".join(MEASURES) + ".", ("MEASURE",),
          query=_failing("measure", "measure is null or measure not in ("
                   + ", ".join(f"'{m}'" for m in MEASURES) + ")")),
    Check("aggregate.value", TABLE, "content", BLOCKING,
          "VALUE must be a whole number (commas allowed) or a suppression mark: <5, fewer than "
          "five, c, *, x, or blank.", ("VALUE",),
          query=_failing("value", f"value is not null and not ({_NUMBER}) "
                   "and landing.suppression(value) is null")),
    Check("aggregate.rounded_to", TABLE, "content", BLOCKING,
          "ROUNDED_TO, when given, must be a whole number of 2 or more (5 for 'rounded to the "
          "nearest 5').", ("ROUNDED_TO",),
          query=_failing("rounded_to", "rounded_to is not null and (rounded_to !~ '^\\d{{1,6}}$' "
                   "or rounded_to::int < 2)")),
    Check("aggregate.duplicate", TABLE, "content", BLOCKING,
          "The same AREA, period and MEASURE must be given once in a file.",
          ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE"),
          query=(
              "select submission_id, line_no, area, period_start, period_end, measure from ("
              "select *, count(*) over (partition by submission_id, area_gss, period_start, "
              "period_end, measure) as copies from {batch} where area_gss is not null) as rows "
              "where copies > 1")),
)

ALL: tuple[Check, ...] = SUBMISSION + CONTENT
