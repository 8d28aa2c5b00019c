"""The demo's returns: a small slice of the synthetic nation (mfc synth), with one spoiled return.

Six authorities named every way a return may name them (GSS code, DfE code, name), two
collection years, at a reduced scale; Hartlepool's 2023-24 return gets two rows a council would
have to correct. The expected marts come from the synthetic truth, not from the warehouse.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from mfc.geography import AuthorityRegister
from mfc.returns.council import CollectionYear
from mfc.synth import write as synth

AUTHORITIES = {
    "E06000002",  # Middlesbrough: folder by GSS code
    "E06000001",  # Hartlepool
    "E06000058",  # Bournemouth, Christchurch and Poole: folder by DfE code 839
    "E09000007",  # Camden: by DfE code 202
    "E08000019",  # Sheffield: by name
    "W06000015",  # Cardiff
}
YEARS = range(2023, 2025)   # collection years 2022-23 and 2023-24
SCALE = 0.25
SEED = 2026
BAD_RETURN = ("E06000001", "2023-24")


@dataclass
class CouncilReturn:
    folder: str
    gss: str
    year: str
    counts: dict[str, int]
    defects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, check)

    @property
    def is_clean(self) -> bool:
        return not self.defects

    def truth(self) -> dict[str, int]:
        """What the warehouse must report for this authority and year."""
        return self.counts


def write(out: Path, seed: int = SEED) -> list[CouncilReturn]:
    """Synthesise the slice into out/ (landing/ and truth/) and spoil the bad return."""
    # The slice's published figures are the one FOI answer below, not the synth's own.
    synth.synthesise(synth.Options(out, seed, YEARS, AUTHORITIES, SCALE, progress=False,
                                   reported=False))
    register = AuthorityRegister.from_seed()
    per_file: dict[str, list[str]] = {}
    with (out / "truth" / "records.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["file"].startswith("landing/council/"):
                per_file.setdefault(row["file"], []).append(row["true_child_id"])
    returns = []
    for folder in sorted((out / "landing" / "council").glob("*/*")):
        year = CollectionYear.parse(folder.name)
        gss = register.resolve(folder.parent.name, on=year.end).gss_code
        children = Counter(per_file.get(f"landing/council/{folder.parent.name}/{folder.name}"
                                        "/missing.csv", []))
        returns.append(CouncilReturn(folder.parent.name, gss, folder.name, {
            "incidents": sum(children.values()),
            "children": len(children),
            "children_3_plus": sum(1 for n in children.values() if n >= 3),
        }))
    bad = next(r for r in returns if (r.gss, r.year) == BAD_RETURN)
    bad.defects = _spoil(out / "landing" / "council" / bad.folder / bad.year / "missing.csv")
    write_foi_answer(out, returns)
    return returns


FOI_FOLDER = "foi-2024-0412"
CLEVELAND = "E23000013"


def cleveland_incidents_2023(out: Path) -> int:
    """Incidents reported to Cleveland Police in calendar year 2023, from the truth."""
    with (out / "truth" / "incidents.csv").open(newline="") as f:
        return sum(1 for row in csv.DictReader(f)
                   if row["force"] == CLEVELAND and row["police_recorded"] == "1"
                   and row["reported_missing"][6:10] == "2023")


def write_foi_answer(out: Path, returns: list[CouncilReturn]) -> None:
    """An FOI answer (docs/returns/aggregate.md) as an aggregate return: a force's calendar
    year, an authority's financial year, a suppressed value and a rounded one."""
    middlesbrough = next(r for r in returns if (r.gss, r.year) == ("E06000002", "2022-23"))
    rows = [
        ["AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "ROUNDED_TO", "NOTE"],
        ["Cleveland Police", "01/01/2023", "31/12/2023", "missing_incidents",
         f"{cleveland_incidents_2023(out):,}", "", "FOI 2024/0412"],
        ["806", "01/04/2022", "31/03/2023", "children_missing",
         str(middlesbrough.truth()["children"]), "", ""],
        ["Hartlepool", "01/04/2023", "31/03/2024", "children_missing", "c", "",
         "suppressed (FOIA s.40(2))"],
        ["Hartlepool", "01/01/2023", "31/12/2023", "children_missing", "45", "5",
         "rounded to the nearest 5"],
    ]
    folder = out / "landing" / "aggregate" / FOI_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "answer.csv").open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    answered = datetime(2024, 5, 20, 12).timestamp()  # the FOI answer's date
    os.utime(folder / "answer.csv", (answered, answered))


def _spoil(path: Path) -> list[tuple[int, str, str]]:
    """End one period before it starts (567) and give another 31 February (1005)."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    closed = [i for i, row in enumerate(rows) if i and row[4]]
    first, second = closed[0], closed[1]
    start = rows[first][3]
    began = date(int(start[6:]), int(start[3:5]), int(start[:2]))
    rows[first][4] = (began - timedelta(days=3)).strftime("%d/%m/%Y")
    rows[second][4] = "31/02/2024"
    delivered = path.stat()
    with path.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    os.utime(path, (delivered.st_atime, delivered.st_mtime))  # as delivered, not as edited
    return [(first + 1, "MIS_END", "567"), (second + 1, "MIS_END", "1005")]
