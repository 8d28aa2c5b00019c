"""Aggregate returns: FOI answers and legacy tables, one reported value per row.

docs/returns/aggregate.md is the same specification written for the people who send them.
"""

from __future__ import annotations

from mfc.returns.table import Table

VALUES = Table(
    "values",
    "<name>.csv or <name>.xlsx",
    ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE"),
    landing_schema_table="landing.aggregate_values",
    optional=("ROUNDED_TO", "NOTE", "SOURCE_KIND", "SOURCE_NAME", "COUNTING", "AGE_BAND", "SEX",
              "COVERED_FROM", "COVERED_TO"),
)

# What a value counts. Children are distinct children in the period; incidents are episodes.
MEASURES = {
    "children_missing": "children who went missing (from care) in the period",
    "missing_incidents": "missing incidents in the period",
    "children_missing_more_than_once": "children who went missing more than once",
    "children_missing_3_plus": "children who went missing 3 or more times",
    "children_away": "children away from placement without authorisation",
    "away_incidents": "away-from-placement incidents",
}

# Measures that count children, and so say how a child is counted over a period (COUNTING).
CHILD_MEASURES = tuple(m for m in MEASURES if m.startswith("children"))

# How children are counted over a period longer than a year: each child once over the whole
# period (the default), or each year's children added up (a child missing in two years twice).
COUNTING = {
    "each_child_once": "each child counted once over the whole period",
    "yearly_sum": "each year's children added up: a child missing in two years counts twice",
}

# Who produced a figure (SOURCE_KIND). When two sources give the same cell, totals use the
# one of the earliest kind here for that kind of area (the body that holds the records first).
SOURCE_KINDS = {
    "council": "a children's services authority",
    "police_force": "a police force",
    "government": "a government department or its statistics (DfE, Welsh Government, ONS)",
    "charity": "a charity or research body",
    "media": "a newspaper or broadcaster",
    "other": "anyone else, or not stated",
}

# A figure for one group of children, not the total: DfE's age bands and the sexes.
AGE_BANDS = ("Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over")
SEXES = ("Male", "Female")

# Two sources' values for the same cell differ when their intervals, each widened by this
# share of the larger value, do not meet (a warning, never a block).
DIFFERENCE_TOLERANCE = 0.10

# England and Wales, and each country, may be named as well as an authority or a force.
NATIONAL_AREAS = {
    "K04000001": ("national", "England and Wales"),
    "E92000001": ("country", "England"),
    "W92000004": ("country", "Wales"),
}

SUFFIXES = (".csv", ".xlsx")
