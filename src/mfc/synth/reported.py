"""Published figures (FOI answers, DfE regional tables) derived from the synthetic truth, so the
warehouse's "reported vs measured" mart can be tested against numbers whose truth is known.

OUT/landing/aggregate/foi-<authority gss>/answer.csv  a council's FOI answer
OUT/landing/aggregate/foi-<force code>/answer.csv     a force's FOI answer
OUT/landing/aggregate/dfe-regions/answer.csv          DfE: children missing per region
OUT/truth/reported.csv                                every written value -> its true value

(files as docs/returns/aggregate.md describes). A council answers for each year it made a
return, and for the span of those years; a force for each calendar year wholly inside the
years written; DfE for each year in which every authority of a region made a return.

The truth is read from OUT/truth/incidents.csv and mirrors exactly what the warehouse measures:

- an incident counts for an authority when looked_after == 'Y' and responsible_gss is the
  authority; for a force when looked_after == 'Y', police_recorded == 1, force is the force and
  the responsible authority's returns are in the slice (the warehouse cannot know a child
  looked after elsewhere is looked after: the police flag it unreliably);
  for a region when looked_after == 'Y' and the responsible authority's region_code is the region;
- missing measures (children_missing, missing_incidents, children_missing_more_than_once,
  children_missing_3_plus) count incidents with missing_type == 'M' or council_recorded == 0 (the
  police do not say missing or away, so the warehouse treats police-only incidents as missing);
  away measures (children_away) count council_recorded == 1 and missing_type == 'A';
- an incident is in a period when the date of reported_missing lies in it;
- children_* count distinct true_child_id; more_than_once: children with 2 or more counted
  incidents in the period; 3_plus: 3 or more; COUNTING yearly_sum: the sum over the financial
  years of the period of each year's distinct children (each_child_once: each child once).

Written as a source would: a true value from 1 to 4 as "<5" (FOI practice, FOIA s.40(2)); DfE's
regional figures rounded to the nearest 10.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from mfc.geography import AuthorityRegister

COLUMNS = ("AREA", "PERIOD_START", "PERIOD_END", "MEASURE", "VALUE", "ROUNDED_TO", "NOTE",
           "SOURCE_KIND", "SOURCE_NAME", "COUNTING", "AGE_BAND", "SEX", "COVERED_FROM",
           "COVERED_TO")
MEASURES = ("children_missing", "missing_incidents", "children_missing_more_than_once",
            "children_missing_3_plus", "children_away")
COUNCIL_YEARLY = ("children_missing", "missing_incidents", "children_missing_more_than_once",
                  "children_away")
KEYS = ["area_type", "area"]  # what a period's table is indexed by


@dataclass(frozen=True)
class Value:
    area: str
    start: date
    end: date
    measure: str
    counting: str  # each_child_once or yearly_sum for children, blank for incidents
    true_value: int


@dataclass
class Answer:
    """One file: who sent it, and its values."""
    folder: str
    source_kind: str
    source_name: str
    values: list[Value]
    rounded_to: int | None = None


def financial_year(year_ending: int) -> tuple[date, date]:
    return date(year_ending - 1, 4, 1), date(year_ending, 3, 31)


def uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# The truth ----------------------------------------------------------------------------------

def read_incidents(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def counted(incidents: pd.DataFrame, regions: dict[str, str],
            returning: set[str] | None = None) -> pd.DataFrame:
    """Each incident once for every area it counts for: area_type, area, day, child, and whether
    it is a missing or an away incident. returning: the authorities whose council returns were
    written (None: all); a force counts only their children, for a child looked after by an
    authority outside the slice is, to the warehouse, one the police say nothing certain of."""
    council = incidents["council_recorded"].astype(int) == 1
    police = incidents["police_recorded"].astype(int) == 1
    kind = incidents["missing_type"].astype(str)
    base = pd.DataFrame({
        "day": pd.to_datetime(incidents["reported_missing"], format="%d/%m/%Y %H:%M")
        .dt.normalize(),
        "child": incidents["true_child_id"].astype(str),
        "missing": (kind == "M") | ~council,
        "away": council & (kind == "A"),
    })
    looked_after = incidents["looked_after"] == "Y"
    responsible = incidents["responsible_gss"].astype(str)
    areas = {
        "authority": (looked_after, responsible),
        "force": (looked_after & police
                  & (responsible.isin(returning) if returning is not None else True),
                  incidents["force"].astype(str)),
        "region": (looked_after, responsible.map(regions)),
    }
    parts = [base[rows].assign(area_type=area_type, area=area[rows])
             for area_type, (rows, area) in areas.items()]
    return pd.concat(parts, ignore_index=True).dropna(subset=["area"])


def period_table(counted: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Every measure (each child once) for every area, over one period: indexed by
    (area_type, area), areas with nothing counted left out."""
    inside = counted[counted["day"].between(pd.Timestamp(start), pd.Timestamp(end))]
    missing = inside[inside["missing"]]
    per_child = missing.groupby([*KEYS, "child"]).size()
    by_area = per_child.groupby(level=KEYS)
    table = pd.DataFrame({
        "children_missing": by_area.size(),
        "missing_incidents": by_area.sum(),
        "children_missing_more_than_once": (per_child >= 2).groupby(level=KEYS).sum(),
        "children_missing_3_plus": (per_child >= 3).groupby(level=KEYS).sum(),
        "children_away": inside[inside["away"]].groupby(KEYS)["child"].nunique(),
    }, columns=list(MEASURES))
    return table.fillna(0).astype(int)


def look_up(table: pd.DataFrame, area_type: str, area: str, measure: str) -> int:
    key = (area_type, area)
    return int(table.at[key, measure]) if key in table.index else 0


def years_within(start: date, end: date) -> list[int]:
    """The financial years (as years ending) that lie wholly inside the period."""
    return [y for y in range(start.year, end.year + 2)
            if start <= financial_year(y)[0] and financial_year(y)[1] <= end]


def true_value(incidents: pd.DataFrame, area_type: str, area: str, start: date, end: date,
               measure: str, counting: str | None = None,
               regions: dict[str, str] | None = None,
               returning: set[str] | None = None) -> int:
    """The exact true value of one figure, from truth/incidents.csv as read by read_incidents
    (or pd.read_csv): area_type is authority, force or region; counting yearly_sum adds up
    the financial years wholly inside [start, end]. regions maps authority GSS codes to
    region codes (default: the register's); returning, as for counted()."""
    if regions is None:
        regions = {a.gss_code: a.region_code for a in AuthorityRegister.from_seed()}
    mine = counted(incidents, regions, returning)
    mine = mine[(mine["area_type"] == area_type) & (mine["area"] == area)]
    if counting == "yearly_sum":
        return sum(look_up(period_table(mine, *financial_year(y)), area_type, area, measure)
                   for y in years_within(start, end))
    return look_up(period_table(mine, start, end), area_type, area, measure)


# The figures each source reports --------------------------------------------------------------

class Tables:
    """Period tables computed once each: a national slice has thousands of values but only a
    few distinct periods."""

    def __init__(self, counted: pd.DataFrame) -> None:
        self.counted = counted
        self._tables: dict[tuple[date, date], pd.DataFrame] = {}

    def value(self, area_type: str, area: str, start: date, end: date, measure: str,
              counting: str = "") -> Value:
        if counting == "yearly_sum":
            number = sum(self.value(area_type, area, *financial_year(y), measure).true_value
                         for y in years_within(start, end))
        else:
            if (start, end) not in self._tables:
                self._tables[start, end] = period_table(self.counted, start, end)
            number = look_up(self._tables[start, end], area_type, area, measure)
        return Value(area, start, end, measure, counting, number)


def child_counting(measure: str) -> str:
    """Children are counted each once unless a figure says otherwise; incidents are not."""
    return "each_child_once" if measure.startswith("children") else ""


def council_answer(tables: Tables, register: AuthorityRegister, gss: str,
                   years: list[int]) -> Answer:
    """Each year it returned, then the span of those years three ways (when they are more
    than one year: a one-year span is the year again, which a file may not give twice)."""
    values = [tables.value("authority", gss, *financial_year(y), m, child_counting(m))
              for y in years for m in COUNCIL_YEARLY]
    if len(years) < 2:
        return Answer(f"foi-{gss.lower()}", "council", register.by_gss(gss).name, values)
    span = financial_year(years[0])[0], financial_year(years[-1])[1]
    values += [tables.value("authority", gss, *span, "children_missing", "each_child_once"),
               tables.value("authority", gss, *span, "children_missing", "yearly_sum"),
               tables.value("authority", gss, *span, "children_missing_3_plus",
                            "each_child_once")]
    return Answer(f"foi-{gss.lower()}", "council", register.by_gss(gss).name, values)


def force_answer(tables: Tables, code: str, name: str, years: range) -> Answer:
    """Forces count by calendar year: those wholly inside the financial years."""
    return Answer(f"foi-{code.lower()}", "police_force", f"{name} Police",
                  [tables.value("force", code, date(c, 1, 1), date(c, 12, 31),
                                "missing_incidents") for c in range(years[0], years[-1])])


def complete_regions(register: AuthorityRegister, returned: dict[int, set[str]],
                     year_ending: int) -> list[str]:
    """English regions every one of whose authorities in force that year made a return (in
    force on 31 March, as the simulation has them)."""
    last_day = financial_year(year_ending)[1]
    live: dict[str, set[str]] = {}
    for a in register:
        if a.region_code.startswith("E12") and a.in_force_on(last_day):
            live.setdefault(a.region_code, set()).add(a.gss_code)
    return sorted(r for r, members in live.items()
                  if members <= returned.get(year_ending, set()))


def region_answer(tables: Tables, register: AuthorityRegister,
                  returned: dict[int, set[str]], years: range) -> Answer:
    values = [tables.value("region", region, *financial_year(y), "children_missing",
                           "each_child_once")
              for y in years for region in complete_regions(register, returned, y)]
    return Answer("dfe-regions", "government", "Department for Education", values,
                  rounded_to=10)


def answers(incidents: pd.DataFrame, register: AuthorityRegister,
            returned: dict[int, set[str]], forces: set[str], years: range) -> Iterator[Answer]:
    """Every file to write, from the truth, the council returns written (year ending -> GSS
    codes) and the forces whose month files were written."""
    from mfc.returns.police import force_codes

    regions = {a.gss_code: a.region_code for a in register}
    tables = Tables(counted(incidents, regions, set().union(*returned.values())))
    by_authority: dict[str, list[int]] = {}
    for year_ending in years:
        for gss in sorted(returned.get(year_ending, ())):
            by_authority.setdefault(gss, []).append(year_ending)
    for gss, its_years in sorted(by_authority.items()):
        yield council_answer(tables, register, gss, its_years)
    names = force_codes()
    for code in sorted(forces):
        yield force_answer(tables, code, names[code], years)
    yield region_answer(tables, register, returned, years)


# Writing --------------------------------------------------------------------------------------

def shown(number: int, rounded_to: int | None) -> str:
    """As the source writes it: rounded half up, or 1 to 4 withheld."""
    if rounded_to:
        return str((number + rounded_to // 2) // rounded_to * rounded_to)
    return "<5" if 1 <= number <= 4 else str(number)


def rows(answer: Answer) -> Iterable[list[str]]:
    rounded_to = str(answer.rounded_to or "")
    for v in answer.values:
        yield [v.area, uk(v.start), uk(v.end), v.measure, shown(v.true_value, answer.rounded_to),
               rounded_to, "", answer.source_kind, answer.source_name, v.counting, "", "", "",
               ""]


def write(out: Path, years: range, returned: dict[int, set[str]], forces: set[str],
          register: AuthorityRegister) -> int:
    """Write every answer under OUT/landing/aggregate/ and their truth; the number of values."""
    incidents = read_incidents(out / "truth" / "incidents.csv")
    # Published once the last year's statistics are out: mid-June.
    sent = datetime(years[-1], 6, 15).timestamp()
    written = 0
    with (out / "truth" / "reported.csv").open("w", newline="") as f:
        truth = csv.writer(f, lineterminator="\n")
        truth.writerow(["file", "line", "area", "period_start", "period_end", "measure",
                        "counting", "true_value"])
        for answer in answers(incidents, register, returned, forces, years):
            if not answer.values:
                continue
            path = out / "landing" / "aggregate" / answer.folder / "answer.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="") as g:
                w = csv.writer(g, lineterminator="\n")
                w.writerow(COLUMNS)
                w.writerows(rows(answer))
            os.utime(path, (sent, sent))
            where = path.relative_to(out).as_posix()
            truth.writerows([where, line, v.area, uk(v.start), uk(v.end), v.measure, v.counting,
                             v.true_value] for line, v in enumerate(answer.values, start=2))
            written += len(answer.values)
    return written
