"""Reported figures against each other (docs/returns/aggregate.md, "Checks across sources"):
the same source's earlier value replaced, another source's value far from this one, and a
part (of a period, an area or a group of children) larger than its whole. They warn; a
statistician decides, and marts.fct_reported_values keeps every value.
"""

from __future__ import annotations

from typing import Any

import psycopg

from expectations import aggregate as aggregate_checks
from mfc.gates import MAX_EXAMPLES, CheckResult
from mfc.geography import AuthorityRegister
from mfc.returns.aggregate import DIFFERENCE_TOLERANCE, NATIONAL_AREAS
from mfc.returns.police import force_codes

# The delivered rows of one landed file as they would be stored (the promotion's own select).
NORMALISED = """
    select l.submission_id, l.line_no, l.area as area_as_delivered, l.area_type, l.area_gss,
           landing.earliest_day(l.period_start) as period_start,
           landing.latest_day(l.period_start) as period_start_latest,
           landing.earliest_day(l.period_end) as period_end_earliest,
           landing.latest_day(l.period_end) as period_end,
           l.measure, l.value as value_as_delivered, rounded.to::int as rounded_to,
           landing.reported_lower(l.value, rounded.to) as value_lower,
           landing.reported_upper(l.value, rounded.to) as value_upper,
           landing.suppression(l.value) as suppression, l.note,
           coalesce(lower(l.source_kind), 'other') as source_kind,
           coalesce(l.source_name, s.authority_as_delivered) as source_name,
           case when left(l.measure, 8) = 'children'
                then coalesce(lower(l.counting), 'each_child_once') end as counting,
           (select b from unnest(%(age_bands)s::text[]) b where lower(b) = lower(l.age_band))
               as age_band,
           initcap(l.sex) as sex, landing.to_date_uk(l.covered_from) as covered_from,
           landing.to_date_uk(l.covered_to) as covered_to
    from landing.aggregate_values l
    join audit.submissions s using (submission_id)
    -- A ROUNDED_TO that is not a number fails its check; the checks across sources still run.
    cross join lateral (select case when l.rounded_to ~ '^[0-9]{1,6}$' then l.rounded_to end
                        as to) as rounded
    where l.submission_id = %(sid)s"""

# Every figure a check compares: this file's rows, and those of every loaded aggregate file.
_FIGURES = f"""
    with this_file as ({NORMALISED}),
    figures as (
        select true as mine, this_file.*, %(file)s as file_label from this_file
        union all
        select false, r.submission_id, r.line_no, r.area_as_delivered, r.area_type, r.area_gss,
               r.period_start, r.period_start_latest, r.period_end_earliest, r.period_end,
               r.measure, r.value_as_delivered, r.rounded_to, r.value_lower, r.value_upper,
               r.suppression, r.note, r.source_kind, r.source_name, r.counting, r.age_band,
               r.sex, r.covered_from, r.covered_to,
               s.authority_as_delivered || '/' || f.file_name
        from raw.aggregate_values r join audit.submissions s using (submission_id)
        join audit.submission_files f using (submission_id)
        where s.status = 'loaded' and s.submission_id <> %(sid)s
    )"""


def _same_cell(a: str = "a", b: str = "b") -> str:
    """SQL: figures a and b are for the same area, period, measure, group and counting."""
    return f"""
        {a}.area_gss = {b}.area_gss and {a}.period_start = {b}.period_start
        and {a}.period_end = {b}.period_end and {a}.measure = {b}.measure
        and {a}.age_band is not distinct from {b}.age_band
        and {a}.sex is not distinct from {b}.sex
        and {a}.counting is not distinct from {b}.counting"""


# How a compared figure is named in a warning: its value, who gave it, where.
_OTHER = """
    coalesce(b.value_as_delivered, '(blank)') || ' for ' || b.area_as_delivered || ' '
    || to_char(b.period_start, 'DD/MM/YYYY') || '-' || to_char(b.period_end, 'DD/MM/YYYY')
    || coalesce(' ' || b.age_band, '') || coalesce(' ' || b.sex, '')
    || ' from ' || b.source_name || ' (' || b.file_label || ' line ' || b.line_no || ')'"""


def _within(part: str, whole: str) -> str:
    """SQL: figure `part` counts a part of what figure `whole` counts (and is not the same)."""
    return f"""
        {part}.measure = {whole}.measure
        and {part}.period_start >= {whole}.period_start and {part}.period_end <= {whole}.period_end
        and exists (select from area_parents p
                    where p.area = {part}.area_gss and p.within = {whole}.area_gss)
        and ({whole}.age_band is null or {whole}.age_band = {part}.age_band)
        and ({whole}.sex is null or {whole}.sex = {part}.sex)
        and ({part}.counting is not distinct from {whole}.counting
             or {part}.counting = 'each_child_once')
        and not ({_same_cell(part, whole)})"""


_SHOWN = """a.line_no, a.area_as_delivered, to_char(a.period_start, 'DD/MM/YYYY'),
    to_char(a.period_end, 'DD/MM/YYYY'), a.measure, a.value_as_delivered"""

QUERIES = {
    "aggregate.replaces": f"""{_FIGURES}
        select {_SHOWN}, {_OTHER} from figures a join figures b on {_same_cell()}
        where a.mine and not b.mine and lower(a.source_name) = lower(b.source_name)
          and (a.value_lower, a.value_upper) is distinct from (b.value_lower, b.value_upper)
        order by a.line_no""",
    "aggregate.differs": f"""{_FIGURES}
        select {_SHOWN}, {_OTHER} from figures a join figures b on {_same_cell()}
        where a.mine and not b.mine and lower(a.source_name) <> lower(b.source_name)
          and greatest(a.value_lower - b.value_upper, b.value_lower - a.value_upper)
              > greatest(2, %(tolerance)s * greatest(a.value_lower, b.value_lower))
        order by a.line_no""",
    # A part (of the period, the area or the children) larger than its whole; shown on this
    # file's line, whether that is the part or the whole.
    "aggregate.part_exceeds_whole": f"""{_FIGURES}
        select {_SHOWN}, 'whole: ' || {_OTHER} from figures a join figures b
            on {_within('a', 'b')}
        where a.mine and a.value_lower > b.value_upper
        union all
        select {_SHOWN}, 'part: ' || {_OTHER} from figures a join figures b
            on {_within('b', 'a')}
        where a.mine and not b.mine and b.value_lower > a.value_upper
        order by 1""",
}


def _area_parents(conn: psycopg.Connection) -> None:
    """Each area with every area it lies within, itself included, for this session."""
    conn.execute("create temp table if not exists area_parents (area text, within text)")
    if conn.execute("select exists (select from area_parents)").fetchone()[0]:
        return
    pairs: set[tuple[str, str]] = set()
    country_code = {"England": "E92000001", "Wales": "W92000004"}
    force_country: dict[str, str] = {}
    for a in AuthorityRegister.from_seed():
        country = country_code[a.country]
        pairs |= {(a.gss_code, a.gss_code), (a.gss_code, country), (a.gss_code, "K04000001")}
        if a.region_code.startswith("E12"):
            pairs |= {(a.gss_code, a.region_code), (a.region_code, a.region_code),
                      (a.region_code, country), (a.region_code, "K04000001")}
        force_country[a.pfa_code] = country
    for force in force_codes():
        pairs |= {(force, force), (force, "K04000001")}
        if force in force_country:
            pairs.add((force, force_country[force]))
    for code in NATIONAL_AREAS:
        pairs |= {(code, code), (code, "K04000001")}
    with conn.cursor().copy("copy area_parents from stdin") as copy:
        for pair in sorted(pairs):
            copy.write_row(pair)


def compare(conn: psycopg.Connection, submission_id: int, file_label: str,
            age_bands: list[str], rows: int) -> list[CheckResult]:
    """The cross-source warnings of one landed file, against every loaded figure."""
    _area_parents(conn)
    params: dict[str, Any] = {"sid": submission_id, "file": file_label,
                              "age_bands": age_bands, "tolerance": DIFFERENCE_TOLERANCE}
    results = []
    for check in aggregate_checks.CROSS_SUBMISSION:
        found = conn.execute(QUERIES[check.check_id], params).fetchall()
        if not found:
            results.append(CheckResult(check, "PASS", 0, rows))
            continue
        examples = [{"file": file_label, "line": line,
                     "values": dict(zip(check.columns, values, strict=True))}
                    for line, *values in found]
        lines = len({e["line"] for e in examples})
        results.append(CheckResult(
            check, "WARNING", lines, rows, examples[:MAX_EXAMPLES * 50],
            f"{lines} value(s) of this file: {check.message}"))
    return results
