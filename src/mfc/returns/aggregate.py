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
    optional=("ROUNDED_TO", "NOTE"),
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

# England and Wales, and each country, may be named as well as an authority or a force.
NATIONAL_AREAS = {
    "K04000001": ("national", "England and Wales"),
    "E92000001": ("country", "England"),
    "W92000004": ("country", "Wales"),
}

SUFFIXES = (".csv", ".xlsx")
