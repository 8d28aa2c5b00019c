"""Calibration: per-authority rates and national yearly targets, derived from DfE's figures.

derive() reads DfE's per-authority looked-after and missing figures (../shared/reference/
la-looked-after.csv) and writes the project's own, smaller parameter files in data/: one row per
authority (size and rates averaged over the years) and one per year (national targets). The
generator reads only those files, so it runs where the reference is absent.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DATA = "data"
AUTHORITY_FILE = "authority_rates.csv"
YEAR_FILE = "national_targets.csv"

# Wales is not in DfE's collection: its looked-after population is taken as this share of
# England's (an assumption to check against StatsWales), spread over its 22 authorities.
WALES_SHARE_OF_ENGLAND = 0.085
# Defaults for an authority with no published figures (Wales; authorities gone before 2015).
DEFAULT_MISSING_RATE = 0.10
DEFAULT_INCIDENTS_PER_CHILD = 5.5
DEFAULT_MISSING_SHARE = 0.85


@dataclass(frozen=True)
class AuthorityRates:
    gss_code: str
    looked_after_in_year: float  # children looked after at any time in a year (mean over years)
    missing_rate: float          # children with a missing incident / children looked after
    incidents_per_child: float   # missing incidents per child missing
    missing_share: float         # M / (M + A) of incidents: 1.0 where everything is recorded M


@dataclass(frozen=True)
class YearTarget:
    year_ending: int             # 2015 = collection year 2014-15
    looked_after_in_year: int
    children_missing: int        # children with a missing (M) incident, England
    missing_incidents: int       # missing (M) incidents, England
    away_incidents: int


def _number(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None  # DfE symbols: c (suppressed), x, z, k, blank


def derive(reference: Path, out: Path) -> None:
    """Write data/authority_rates.csv and data/national_targets.csv from the DfE reference."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    years: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with (reference / "la-looked-after.csv").open() as source:
        for row in csv.DictReader(source):
            during = _number(row["children_looked_after_during_year"])
            missing = _number(row["children_missing"])
            incidents = _number(row["missing_incidents"])
            away = _number(row["away_incidents"])
            y = years[int(row["year"])]
            for i, value in enumerate((during, missing, incidents, away)):
                y[i] += value or 0
            if during is None:
                continue
            s = sums[row["new_la_code"]]
            s[0] += during
            s[1] += 1
            if missing is not None and incidents is not None:
                s[2] += during
                s[3] += missing
                s[4] += incidents
                s[5] += incidents + (away or 0)
    out.mkdir(parents=True, exist_ok=True)
    with (out / AUTHORITY_FILE).open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["gss_code", "looked_after_in_year", "missing_rate", "incidents_per_child",
                    "missing_share"])
        for gss, (during, n, base, missing, incidents, all_incidents) in sorted(sums.items()):
            w.writerow([
                gss, round(during / n, 1),
                round(missing / base, 4) if base and missing else DEFAULT_MISSING_RATE,
                round(incidents / missing, 3) if missing else DEFAULT_INCIDENTS_PER_CHILD,
                round(incidents / all_incidents, 3) if all_incidents else DEFAULT_MISSING_SHARE,
            ])
    with (out / YEAR_FILE).open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["year_ending", "looked_after_in_year", "children_missing",
                    "missing_incidents", "away_incidents"])
        for year, (during, missing, incidents, away) in sorted(years.items()):
            w.writerow([year, during, missing, incidents, away])


def authority_rates() -> dict[str, AuthorityRates]:
    text = resources.files("mfc.synth").joinpath(DATA, AUTHORITY_FILE).read_text()
    rows = csv.DictReader(text.splitlines())
    return {
        r["gss_code"]: AuthorityRates(r["gss_code"], float(r["looked_after_in_year"]),
                                      float(r["missing_rate"]), float(r["incidents_per_child"]),
                                      float(r["missing_share"]))
        for r in rows
    }


def year_targets() -> dict[int, YearTarget]:
    text = resources.files("mfc.synth").joinpath(DATA, YEAR_FILE).read_text()
    return {
        int(r["year_ending"]): YearTarget(int(r["year_ending"]), int(r["looked_after_in_year"]),
                                          int(r["children_missing"]),
                                          int(r["missing_incidents"]), int(r["away_incidents"]))
        for r in csv.DictReader(text.splitlines())
    }
