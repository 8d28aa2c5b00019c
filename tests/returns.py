"""A small, valid council return to copy and spoil in tests, and helpers to deliver it."""

from __future__ import annotations

import copy
import csv
import io
import os
from datetime import datetime
from pathlib import Path

from mfc.returns.council import EPISODES, HEADER, MISSING, CollectionYear

GOOD = {
    "header": [
        {"CHILD": "T001", "SEX": "1", "DOB": "05/01/2010", "ETHNIC": "WBRI", "UPN": "A123456789012",
         "MOTHER": "0", "MC_DOB": ""},
        {"CHILD": "T002", "SEX": "2", "DOB": "17/09/2008", "ETHNIC": "BAFR", "UPN": "",
         "MOTHER": "1", "MC_DOB": "02/02/2024"},
        {"CHILD": "T003", "SEX": "1", "DOB": "29/02/2012", "ETHNIC": "MWBC", "UPN": "B987654321098",
         "MOTHER": "", "MC_DOB": ""},
    ],
    "episodes": [
        {"CHILD": "T001", "DECOM": "01/06/2022", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "K2",
         "PLACE_PROVIDER": "PR4", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "HOME_POST": "TS1 2AB", "PL_POST": "DL3 7QR", "URN": "SC123456"},
        {"CHILD": "T002", "DECOM": "15/04/2023", "RNE": "S", "LS": "V2", "CIN": "N4", "PLACE": "U4",
         "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "HOME_POST": "ts3 6ap", "PL_POST": "TS5", "URN": ""},
        {"CHILD": "T003", "DECOM": "10/10/2021", "RNE": "S", "LS": "C2", "CIN": "N2", "PLACE": "U1",
         "PLACE_PROVIDER": "PR1", "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "",
         "HOME_POST": "", "PL_POST": "", "URN": ""},
    ],
    "missing": [
        {"CHILD": "T001", "DOB": "05/01/2010", "MISSING": "M", "MIS_START": "03/05/2023",
         "MIS_END": "04/05/2023"},
        {"CHILD": "T001", "DOB": "05/01/2010", "MISSING": "A", "MIS_START": "12/08/2023",
         "MIS_END": "12/08/2023"},
        {"CHILD": "T002", "DOB": "17/09/2008", "MISSING": "M", "MIS_START": "01/03/2024",
         "MIS_END": ""},
    ],
}
TABLES = {"header": HEADER, "episodes": EPISODES, "missing": MISSING}


def good_tables() -> dict[str, list[dict[str, str]]]:
    return copy.deepcopy(GOOD)


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def deliver(landing: Path, tables: dict[str, list[dict[str, str]]] | None = None,
            authority: str = "806", year: str = "2023-24",
            files: dict[str, bytes | None] | None = None) -> Path:
    """Write a return as a council would, under landing/council/<authority>/<year>/.

    `files` replaces a file (bytes) or leaves it out (None). Returns the landing folder.
    """
    tables = tables if tables is not None else good_tables()
    folder = landing / "council" / authority / year
    folder.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes | None] = {
        TABLES[name].file_name: to_csv(rows, TABLES[name].columns) for name, rows in tables.items()
    }
    contents.update(files or {})
    for name, data in contents.items():
        if data is not None:
            (folder / name).write_bytes(data)
            on_time(folder / name, year)
    return landing


def on_time(path: Path, year: str) -> None:
    """Date a file 1 May after its collection year, as a council delivering on time would."""
    try:
        due = CollectionYear.parse(year).end
    except ValueError:
        return
    stamp = datetime(due.year, 5, 1).timestamp()
    os.utime(path, (stamp, stamp))
