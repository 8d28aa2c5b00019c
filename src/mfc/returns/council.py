"""The council return (SSDA903 shape): its tables, columns and delivery layout.

docs/returns/council.md is the same specification written for council data teams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Table:
    name: str             # header / episodes / missing
    file_name: str        # as delivered
    columns: tuple[str, ...]  # column names as the spec writes them, all required
    landing_schema_table: str | None = None  # default landing.council_<name>
    optional: tuple[str, ...] = ()  # columns read when delivered, not required

    @property
    def landing_table(self) -> str:
        return self.landing_schema_table or f"landing.council_{self.name}"


HEADER = Table("header", "header.csv", ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"))
EPISODES = Table(
    "episodes",
    "episodes.csv",
    (
        "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
        "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
    ),
)
MISSING = Table("missing", "missing.csv", ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"))

TABLES: tuple[Table, ...] = (HEADER, EPISODES, MISSING)

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class CollectionYear:
    """1 April to 31 March, written '2023-24'."""

    label: str
    start: date
    end: date

    @classmethod
    def parse(cls, label: str) -> CollectionYear:
        match = _YEAR.match(label.strip())
        if not match or (int(match[1]) + 1) % 100 != int(match[2]):
            raise ValueError(f"collection year {label!r} is not of the form 2023-24")
        first = int(match[1])
        return cls(f"{first}-{match[2]}", date(first, 4, 1), date(first + 1, 3, 31))


def normalise_column(name: str) -> str:
    """Column names as delivered -> DfE names: BOM, spaces and case do not matter."""
    return name.replace("\ufeff", "").strip().upper()
