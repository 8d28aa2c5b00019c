"""reports/reported-vs-measured.html: each reported figure (FOI answers, published tables) beside
the warehouse's own count of the same thing (marts.agg_reported_vs_measured), the largest
differences first, so a statistician sees at once which published figures the returns bear
out and which they do not. The page is templates/reported.html.
"""

from __future__ import annotations

import psycopg

from mfc.reports import html

FILE = "reported-vs-measured.html"

# The page lists this many figures, the largest differences first; the mart holds them all.
MAX_ROWS = 1000

HEADER = ("Area", "Period", "Measure", "Who reported it", "Reported", "Warehouse count",
          "Returns held", "Difference")


def _period(start, end, approximate: bool) -> str:
    text = f"{start:%d/%m/%Y} to {end:%d/%m/%Y}"
    return f"{text} (year only)" if approximate else text


def _measure(measure: str, counting: str | None, age_band: str | None, sex: str | None) -> str:
    parts = [measure.replace("_", " ")]
    if counting == "yearly_sum":
        parts.append("(years added up)")
    parts += [p for p in (age_band, sex) if p]
    return ", ".join(parts)


def render(conn: psycopg.Connection) -> str | None:
    """The page, or None when the warehouse has no comparison mart yet (dbt has not run)."""
    exists = conn.execute("select to_regclass('marts.agg_reported_vs_measured')").fetchone()[0]
    if exists is None:
        return None
    rows = conn.execute(f"""
        select area_name, period_start, period_end, is_period_approximate, measure, counting,
               age_band, sex, source_name, source_kind, value_as_delivered, measured,
               measured_narrowest, returns_held, returns_expected, difference,
               measured_within_reported
        from marts.agg_reported_vs_measured
        order by abs(difference) desc, area_name, period_start, measure
        limit {MAX_ROWS + 1}""").fetchall()
    [(total, within)] = conn.execute(
        "select count(*), count(*) filter (where measured_within_reported) "
        "from marts.agg_reported_vs_measured").fetchall()
    lines = [
        [r[0], _period(r[1], r[2], r[3]), _measure(r[4], r[5], r[6], r[7]),
         f"{r[8]} ({r[9].replace('_', ' ')})", r[10],
         r[11] if r[12] is None else f"{r[12]} to {r[11]}",
         f"{r[13]} of {r[14]}", r[15] if not r[16] else "within"]
        for r in rows[:MAX_ROWS]]
    return html.render("reported.html", title="Reported figures beside the warehouse's counts",
                       total=total, within=within, shown=MAX_ROWS, header=HEADER, rows=lines)
