"""`mfc publish`: the official tables of a year, disclosure controlled, in EES form
(docs/publication.md), written to a folder and to the warehouse's `published` schema."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from mfc.publish import disclosure, ees
from mfc.publish.disclosure import LOCAL, NATIONAL, REGIONAL, Row

GUIDANCE = """# {title}, {year}

Source: the MFC warehouse's marts (agg_missing_breakdowns), built from councils' SSDA903
returns and police forces' monthly returns; incidents of one child recorded by both count once.

Symbols:
- `c`: suppressed to protect confidentiality: a count of 1 to 5, or a figure from which one
  could be worked out (secondary suppression), and any rate calculated from one.
- `z`: not applicable (for example, the looked-after population of a breakdown group).
- `x`: not available (no council return for the area and year).

National and regional counts are rounded to the nearest 10; local-authority counts are not
rounded. Rates are calculated from unrounded figures. Breakdowns of incidents (age band,
placement type, placed, duration, missing or away, recorded by) add up to the total incidents;
a child with incidents in several groups is counted in each, so their children do not add up
to the total. Breakdowns of children (sex, ethnicity group, repeat band, looked after) add up
in both.
"""


def _fetch(url: str, year: str) -> list[dict]:
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute("""
            select b.geographic_level, b.area_code, b.area_name, b.breakdown, b.group_name,
                   b.incidents, b.distinct_children, b.looked_after_children,
                   b.looked_after_children_missing, b.children_missing_per_1000_looked_after,
                   a.dfe_code, a.country, a.region_code, a.region_name
            from marts.agg_missing_breakdowns b
            left join marts.dim_authorities a
                on b.geographic_level = 'Local authority' and a.authority_gss = b.area_code
            where b.financial_year = %s
            order by 1, 2, 4, 5""", (year,)).fetchall()


def _geography(record: dict) -> dict[str, str]:
    level, code = record["geographic_level"], record["area_code"]
    blank = dict.fromkeys(ees.GEOGRAPHY, "")
    if level == NATIONAL:
        return blank | {"geographic_level": level, "country_code": code,
                        "country_name": ees.COUNTRIES[code]}
    if level == REGIONAL:
        return blank | {"geographic_level": level, "country_code": "E92000001",
                        "country_name": "England", "region_code": code,
                        "region_name": record["area_name"]}
    english = record["country"] == "England"
    country = "E92000001" if english else "W92000004"
    return blank | {
        "geographic_level": level, "country_code": country,
        "country_name": ees.COUNTRIES[country],
        "region_code": record["region_code"] if english else "",
        "region_name": record["region_name"] if english else "",
        "new_la_code": code, "old_la_code": record["dfe_code"] or "",
        "la_name": record["area_name"],
    }


def build(url: str, year: str) -> list[dict[str, str]]:
    """The year's rows of the published table, disclosure controlled."""
    records = _fetch(url, year)
    if not records:
        raise ValueError(f"the marts hold nothing for {year}: run the pipeline first, or "
                         "choose a year the returns cover (e.g. 2023-24)")
    rows = []
    for record in records:
        region = None
        if record["geographic_level"] == LOCAL:
            region = record["region_code"] if record["country"] == "England" else "W92000004"
        rows.append(Row(record["geographic_level"], record["area_code"], region,
                        record["breakdown"], record["group_name"],
                        {"incidents": record["incidents"],
                         "children": record["distinct_children"],
                         "looked_after_missing": record["looked_after_children_missing"]}))
    disclosure.protect(rows)
    published = []
    for record, row in zip(records, rows, strict=True):
        is_total = row.topic == disclosure.TOTAL
        rate = record["children_missing_per_1000_looked_after"]
        looked_after = record["looked_after_children"]
        if not is_total:
            looked_after_text, rate_text = "z", "z"
        elif looked_after is None:
            looked_after_text, rate_text = "x", "x"
        else:
            looked_after_text = str(_round(looked_after) if row.rounded else looked_after)
            hidden = row.suppressed or 0 < row.true["looked_after_missing"] < 6
            rate_text = "c" if hidden else f"{rate:.1f}"
        published.append({
            "time_period": ees.time_period(year), "time_identifier": "Reporting year",
            **_geography(record),
            "breakdown_topic": row.topic, "breakdown": row.group,
            "incidents": _shown(row, "incidents"), "children": _shown(row, "children"),
            "looked_after_children": looked_after_text,
            "looked_after_missing_per_1000": rate_text,
        })
    return published


def _round(value: int) -> int:
    return int((value + disclosure.ROUNDING // 2) // disclosure.ROUNDING * disclosure.ROUNDING)


def _shown(row: Row, count: str) -> str:
    value = row.shown(count)
    return "c" if value is None else str(value)


def publish(url: str, year: str, out: Path) -> list[Path]:
    """Write the year's table, its metadata and guidance to `out`, and to published.*."""
    table = ees.MISSING_FROM_CARE
    rows = build(url, year)
    written = ees.write(table, rows, out)
    guidance = out / "data-guidance.md"
    guidance.write_text(GUIDANCE.format(title=table.title, year=year), encoding="utf-8")
    _store(url, table, rows, ees.time_period(year))
    return [*written, guidance]


def _store(url: str, table: ees.Table, rows: list[dict[str, str]], period: str) -> None:
    """Replace the year's rows of published.<table> (text columns, as in the CSV)."""
    name = sql.Identifier("published", table.name)
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("create schema if not exists published")
        conn.execute(sql.SQL("create table if not exists {} ({})").format(
            name, sql.SQL(", ").join(sql.SQL("{} text not null").format(sql.Identifier(c))
                                     for c in table.columns)))
        conn.execute(sql.SQL("delete from {} where time_period = %s").format(name), (period,))
        with conn.cursor().copy(sql.SQL("copy {} ({}) from stdin").format(
                name, sql.SQL(", ").join(map(sql.Identifier, table.columns)))) as copy:
            for row in rows:
                copy.write_row([row[c] for c in table.columns])
        # Readers of published tables (docs/security.md).
        conn.execute(sql.SQL("grant select on {} to mfc_publisher, mfc_analyst").format(name))
