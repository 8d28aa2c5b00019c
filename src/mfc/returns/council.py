"""The council return (SSDA903 shape): its tables, columns and delivery layout.

docs/returns/council.md is the same specification written for council data teams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mfc.returns.table import Table

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

# Other SSDA903 tables a case-management export may include, known by a column only they have.
OTHER_SSDA903_TABLES = {
    "REVIEW": "Reviews", "DUC": "UASC", "SDQ_SCORE": "OC2", "IN_TOUCH": "OC3",
    "DATE_INT": "AD1", "DATE_PLACED": "PlacedAdoption", "PREV_PERM": "PrevPerm",
    "SW_ID": "SWEpisodes", "DOLO_START": "DoLo",
}


def recognise(file_name: str, columns: list[str] | None = None) -> Table | None:
    """The table a delivered file is: by its name (missing.csv, Missing.CSV, missing.xlsx), else,
    as DfE's validator does, by its column names (every DfE column of exactly one table)."""
    stem = file_name.rsplit(".", 1)[0].strip().lower()
    for table in TABLES:
        if stem == table.name:
            return table
    if columns:
        matches = [t for t in TABLES if set(t.columns) <= set(columns)]
        if len(matches) == 1:
            return matches[0]
    return None


def other_ssda903_table(columns: list[str]) -> str | None:
    return next((name for column, name in OTHER_SSDA903_TABLES.items() if column in columns),
                None)


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


# Code lists by collection year (first year of the collection: 2024 = 2024-25), from DfE's
# SSDA903 guidance as the domain brief (section 1.3) records it. field -> [(codes, from, to)],
# None = no limit. The gate reads them from landing.code_lists (mfc.warehouse writes it).
_ALWAYS = (None, None)
CODE_LISTS: dict[str, list[tuple[tuple[str, ...], int | None, int | None]]] = {
    "SEX": [(("1", "2"), None, 2023), (("M", "F", "U"), 2024, None)],
    "ETHNIC": [(("WBRI", "WIRI", "WOTH", "WIRT", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
                 "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT"),
                *_ALWAYS)],
    "LS": [(("C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"),
            *_ALWAYS)],
    "PLACE": [
        (("A3", "A4", "A5", "A6", "K1", "K2", "P1", "P3", "R1", "R2", "R3", "R5", "S1", "T0",
          "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6"), *_ALWAYS),
        (("H5", "P2", "Z1"), None, 2024),     # withdrawn from 2025-26
        (("K3",), 2024, None),                # registered supported accommodation
        (("Z11", "Z12", "Z13", "Z14"), 2025, None),
    ],
    "REC": [(("X1", "E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E41", "E45",
              "E46", "E47", "E48", "E4A", "E4B", "E5", "E6", "E7", "E8", "E9"), *_ALWAYS)],
}


def code_list_rows() -> list[tuple[str, str, int | None, int | None]]:
    """(field, code, first year, last year) for landing.code_lists."""
    return [(field, code, first, last) for field, lists in CODE_LISTS.items()
            for codes, first, last in lists for code in codes]


def deadline(year: CollectionYear) -> date:
    """Returns are due by 30 June after the collection year ends."""
    return date(year.end.year, 6, 30)
