"""The police return: one file per force per calendar month, one row per incident.

docs/returns/police.md is the same specification written for force data teams.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from mfc import config
from mfc.returns.table import Table

INCIDENTS = Table(
    "incidents",
    "<YYYY-MM>.csv",
    ("FORCE", "INCIDENT_REF", "PERSON_REF", "DOB", "AGE", "SEX", "REPORTED_MISSING", "FOUND",
     "RISK", "LOOKED_AFTER", "RESPONSIBLE_LA", "PLACEMENT_DISTRICT", "FOUND_DISTRICT"),
    landing_schema_table="landing.police_incidents",
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class ReturnMonth:
    """A calendar month, written '2024-03' (the file name without .csv)."""

    label: str
    start: date
    end: date

    @classmethod
    def parse(cls, label: str) -> ReturnMonth:
        match = _MONTH.match(label.strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise ValueError(f"month {label!r} is not of the form 2024-03")
        start = date(int(match[1]), int(match[2]), 1)
        following = (start + timedelta(days=32)).replace(day=1)
        return cls(f"{match[1]}-{match[2]}", start, following - timedelta(days=1))


@cache
def force_codes() -> dict[str, str]:
    """The 43 territorial forces: police force area GSS code -> force name."""
    seed = config.dbt_project_dir() / "seeds" / "police_forces.csv"
    with seed.open(newline="", encoding="utf-8") as f:
        return {row["pfa_code"]: row["force_name"] for row in csv.DictReader(f)}
