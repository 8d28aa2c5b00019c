"""The published table in Explore Education Statistics (EES) form, and the checks DfE's data
screener makes of such files (docs/publication.md).

One tidy CSV per table (time, geography, filters, indicators) and its metadata CSV; symbols:
`c` suppressed, `z` not applicable, `x` not available.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

TIME = ["time_period", "time_identifier"]
GEOGRAPHY = ["geographic_level", "country_code", "country_name", "region_code", "region_name",
             "new_la_code", "old_la_code", "la_name"]
FILTERS = ["breakdown_topic", "breakdown"]
SYMBOLS = {"c", "z", "x"}
LEVELS = ("National", "Regional", "Local authority")
COUNTRIES = {"K04000001": "England and Wales", "E92000001": "England", "W92000004": "Wales"}


@dataclass(frozen=True)
class Indicator:
    name: str
    label: str
    unit: str = ""
    dp: int = 0


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    indicators: tuple[Indicator, ...]

    @property
    def columns(self) -> list[str]:
        return TIME + GEOGRAPHY + FILTERS + [i.name for i in self.indicators]


MISSING_FROM_CARE = Table(
    "missing_from_care",
    "Children missing from care and missing incidents, by breakdown",
    (
        Indicator("incidents", "Missing incidents"),
        Indicator("children", "Children with a missing incident"),
        Indicator("looked_after_children", "Children looked after during the year"),
        Indicator("looked_after_missing_per_1000", "Looked-after children missing per 1,000 "
                  "looked after", dp=1),
    ),
)

FILTER_META = [
    ("breakdown_topic", "Breakdown topic", "What the rows are broken down by", ""),
    ("breakdown", "Breakdown", "Filter by the group within the topic", "breakdown_topic"),
]


def time_period(financial_year: str) -> str:
    """'2023-24' -> '202324', as EES writes a reporting year."""
    return financial_year[:4] + financial_year[5:7]


def write(table: Table, rows: list[dict[str, str]], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"{table.name}.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=table.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    meta = out / f"{table.name}.meta.csv"
    with meta.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["col_name", "col_type", "label", "indicator_grouping", "indicator_unit",
                         "indicator_dp", "filter_hint", "filter_grouping_column"])
        for name, label, hint, grouping in FILTER_META:
            writer.writerow([name, "Filter", label, "", "", "", hint, grouping])
        for indicator in table.indicators:
            writer.writerow([indicator.name, "Indicator", indicator.label, "", indicator.unit,
                             indicator.dp, "", ""])
    return [data, meta]


def check(folder: Path, register=None) -> list[str]:
    """What DfE's data screener would reject in the folder's data and metadata files: columns
    present and ordered, codes valid for the year, geography consistent, no blanks where a
    value is due, only the allowed symbols, totals rows, no duplicate rows. Empty when clean."""
    from datetime import date

    from mfc.geography import AuthorityRegister

    register = register or AuthorityRegister.from_seed()
    by_gss = {a.gss_code: a for a in register}
    problems: list[str] = []
    data_files = sorted(p for p in folder.glob("*.csv") if not p.name.endswith(".meta.csv"))
    if not data_files:
        return [f"{folder}: no data CSV"]
    for data in data_files:
        meta = data.with_name(data.stem + ".meta.csv")
        if not meta.exists():
            problems.append(f"{data.name}: no metadata file {meta.name}")
            continue
        with data.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            rows = list(reader)
        with meta.open(newline="", encoding="utf-8") as f:
            described = {r["col_name"]: r for r in csv.DictReader(f)}
        expected = TIME + GEOGRAPHY
        if columns[:len(expected)] != expected:
            problems.append(f"{data.name}: the first columns must be {', '.join(expected)}; "
                            f"found {', '.join(columns[:len(expected)])}")
            continue
        rest = columns[len(expected):]
        for name in rest:
            if name not in described:
                problems.append(f"{data.name}: column {name} is not in {meta.name}")
        for name in described:
            if name not in rest:
                problems.append(f"{meta.name}: {name} is not a column of {data.name}")
        filters = [c for c in rest if described.get(c, {}).get("col_type") == "Filter"]
        indicators = [c for c in rest if described.get(c, {}).get("col_type") == "Indicator"]
        if rest != filters + indicators:
            problems.append(f"{data.name}: filters must come before indicators")
        seen: set[tuple] = set()
        totals: set[tuple] = set()
        for line, row in enumerate(rows, start=2):
            where = f"{data.name} line {line}"
            problems += _check_geography(row, where, by_gss)
            period = row["time_period"]
            if not (len(period) == 6 and period.isdigit()
                    and int(period[4:]) == (int(period[:4]) + 1) % 100):
                problems.append(f"{where}: time_period {period!r} is not a reporting year "
                                "such as 202324")
            if row["time_identifier"] != "Reporting year":
                problems.append(f"{where}: time_identifier {row['time_identifier']!r}")
            year_end = date(int(period[:4]) + 1, 3, 31) if period.isdigit() else None
            code = row["new_la_code"]
            if code and year_end and code in by_gss and not by_gss[code].in_force_on(year_end):
                problems.append(f"{where}: {code} was not in being at the year's end")
            for name in filters:
                if not row[name]:
                    problems.append(f"{where}: {name} is blank")
            for name in indicators:
                value = row[name]
                if value in SYMBOLS:
                    continue
                try:
                    float(value)
                except ValueError:
                    problems.append(f"{where}: {name} {value!r} is neither a number nor one "
                                    f"of {', '.join(sorted(SYMBOLS))}")
            key = tuple(row[c] for c in TIME + GEOGRAPHY + filters)
            if key in seen:
                problems.append(f"{where}: duplicates an earlier row")
            seen.add(key)
            if all(row[f] == "Total" for f in filters):
                totals.add(tuple(row[c] for c in TIME + GEOGRAPHY))
        for line, row in enumerate(rows, start=2):
            if tuple(row[c] for c in TIME + GEOGRAPHY) not in totals:
                problems.append(f"{data.name} line {line}: its geography has no Total row")
                break
    return problems


def _check_geography(row: dict[str, str], where: str, by_gss: dict) -> list[str]:
    level, country = row["geographic_level"], row["country_code"]
    problems = []
    if level not in LEVELS:
        return [f"{where}: geographic_level {level!r} is not one of {', '.join(LEVELS)}"]
    if COUNTRIES.get(country) != row["country_name"]:
        problems.append(f"{where}: country {country!r} {row['country_name']!r}")
    needed = {"National": [], "Regional": ["region_code", "region_name"],
              "Local authority": ["new_la_code", "la_name"]}[level]
    for name in needed:
        if not row[name]:
            problems.append(f"{where}: {name} is blank at level {level}")
    if level == "National":
        for name in GEOGRAPHY[3:]:
            if row[name]:
                problems.append(f"{where}: {name} is given at national level")
    if level == "Regional" and not row["region_code"].startswith("E12"):
        problems.append(f"{where}: region {row['region_code']!r} is not an English region")
    if level == "Local authority":
        authority = by_gss.get(row["new_la_code"])
        if authority is None:
            problems.append(f"{where}: new_la_code {row['new_la_code']!r} is not an authority")
        else:
            if authority.name != row["la_name"]:
                problems.append(f"{where}: la_name {row['la_name']!r} is not "
                                f"{authority.name!r}")
            if (authority.dfe_code or "") != row["old_la_code"]:
                problems.append(f"{where}: old_la_code {row['old_la_code']!r} is not "
                                f"{authority.dfe_code!r}")
            if authority.country == "England" and (
                    row["region_code"] != authority.region_code or country != "E92000001"):
                problems.append(f"{where}: {authority.name} lies in {authority.region_code}, "
                                "England")
            if authority.country == "Wales" and (country != "W92000004" or row["region_code"]):
                problems.append(f"{where}: {authority.name} lies in Wales, which has no regions")
    return problems
