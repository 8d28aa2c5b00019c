"""A small, deterministic set of synthetic council returns with known answers.

Enough to show the whole path working (a handful of authorities, two collection years, one
return with deliberate errors); the national generator with full ground truth is `mfc synth`.
Every child, id and postcode here is invented.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from mfc.returns.council import EPISODES, HEADER, MISSING, CollectionYear

# (folder name as delivered, GSS code, CHILD prefix, postcode area): authorities named each way.
AUTHORITIES = (
    ("806", "E06000002", "MB", "TS1"),              # Middlesbrough by DfE code
    ("Hartlepool", "E06000001", "HP", "TS24"),      # by name
    ("E06000058", "E06000058", "BCP", "BH1"),       # Bournemouth, Christchurch and Poole by GSS
    ("Camden", "E09000007", "CA", "NW1"),
    ("Cardiff", "W06000015", "CF", "CF10"),
)
YEARS = ("2022-23", "2023-24")
# The return that fails its gate: Hartlepool 2023-24 (lines are file lines, header = line 1).
BAD_RETURN = ("Hartlepool", "2023-24")


def uk(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


@dataclass
class CouncilReturn:
    folder: str
    gss: str
    year: str
    header: list[dict[str, str]] = field(default_factory=list)
    episodes: list[dict[str, str]] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    defects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, column, check id)

    @property
    def is_clean(self) -> bool:
        return not self.defects

    def truth(self) -> dict[str, int]:
        """What the warehouse must report for this authority and year."""
        per_child: dict[str, int] = {}
        for row in self.missing:
            per_child[row["CHILD"]] = per_child.get(row["CHILD"], 0) + 1
        return {
            "incidents": len(self.missing),
            "children": len(per_child),
            "children_3_plus": sum(1 for n in per_child.values() if n >= 3),
        }


def _missing_periods(rng: random.Random, start: date, end: date, count: int) -> list[tuple]:
    """Non-overlapping periods inside [start, end]; most last 0-2 days, a few longer."""
    days = (end - start).days
    starts = sorted(rng.sample(range(days - 1), count))
    periods = []
    for i, offset in enumerate(starts):
        begin = start + timedelta(days=offset)
        length = rng.choice((0, 0, 0, 1, 1, 2, 4, 9))
        limit = (start + timedelta(days=starts[i + 1] - 1)) if i + 1 < count else end
        finish = min(begin + timedelta(days=length), limit)
        periods.append((begin, max(finish, begin)))
    if periods and rng.random() < 0.3:  # still missing at 31 March: the last period is open
        periods[-1] = (periods[-1][0], None)
    return periods


def generate(seed: int = 2026) -> list[CouncilReturn]:
    rng = random.Random(seed)
    returns = []
    for folder, gss, prefix, area in AUTHORITIES:
        children = []
        for n in range(rng.randint(40, 70)):
            born = date(2006, 4, 1) + timedelta(days=rng.randint(0, 365 * 11))
            upn = f"X{rng.randint(10**11, 10**12 - 1)}" if rng.random() < 0.8 else ""
            children.append((f"{prefix}{1000 + n}", born, upn))
        for label in YEARS:
            year = CollectionYear.parse(label)
            ret = CouncilReturn(folder, gss, label)
            for child, born, upn in rng.sample(children, k=len(children) * 3 // 4):
                ret.header.append({"CHILD": child, "SEX": rng.choice("12"), "DOB": uk(born),
                                   "ETHNIC": rng.choice(("WBRI", "MWBC", "BAFR", "AOTH")),
                                   "UPN": upn, "MOTHER": "", "MC_DOB": ""})
                decom = year.start - timedelta(days=rng.randint(0, 700))
                ret.episodes.append({
                    "CHILD": child, "DECOM": uk(decom), "RNE": "S", "LS": "C2", "CIN": "N1",
                    "PLACE": rng.choice(("U1", "U4", "K2")), "PLACE_PROVIDER": "PR1", "DEC": "",
                    "REC": "", "REASON_PLACE_CHANGE": "",
                    "HOME_POST": f"{area} {rng.randint(1, 9)}AB",
                    "PL_POST": f"{area} {rng.randint(1, 9)}CD", "URN": "",
                })
                # Most children never go missing; a few go missing again and again.
                count = rng.choices((0, 1, 2, 3, 5, 9), weights=(60, 14, 9, 8, 6, 3))[0]
                for begin, end in _missing_periods(rng, year.start, year.end, count):
                    ret.missing.append({"CHILD": child, "DOB": uk(born),
                                        "MISSING": rng.choice("MMMA"),
                                        "MIS_START": uk(begin), "MIS_END": uk(end)})
            if (folder, label) == BAD_RETURN:
                _spoil(ret)
            returns.append(ret)
    return returns


def _spoil(ret: CouncilReturn) -> None:
    """Two rows a council would have to correct (line = data row index + 2)."""
    closed = [i for i, row in enumerate(ret.missing) if row["MIS_END"]]
    first, second = closed[0], closed[1]
    start = ret.missing[first]["MIS_START"]
    ret.missing[first]["MIS_END"] = uk(date(int(start[6:]), int(start[3:5]), int(start[:2]))
                                       - timedelta(days=3))
    ret.defects.append((first + 2, "MIS_END", "567"))
    ret.missing[second]["MIS_END"] = "31/02/2024"
    ret.defects.append((second + 2, "MIS_END", "1005"))


def write(landing: Path, returns: list[CouncilReturn]) -> None:
    """Write each return as the council would deliver it (see docs/returns/council.md)."""
    for ret in returns:
        folder = landing / "council" / ret.folder / ret.year
        folder.mkdir(parents=True, exist_ok=True)
        for table, rows in ((HEADER, ret.header), (EPISODES, ret.episodes),
                            (MISSING, ret.missing)):
            with (folder / table.file_name).open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=table.columns, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
