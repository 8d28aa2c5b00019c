"""Aggregate figures (docs/returns/aggregate.md): FOI answers, legacy tables; one submission
per file, <landing>/aggregate/<source>/<name>.csv or .xlsx.

A value is stored as an interval: a number is itself (or, if rounded, the range that rounds
to it); a suppressed value (<5, c, *, x, blank) is the range it may hide.
"""

from __future__ import annotations

import csv
import difflib
import functools
from datetime import date, datetime
from pathlib import Path

import psycopg

from expectations import aggregate as aggregate_checks
from expectations.checks import Check
from mfc import config, gates
from mfc.files import FileProblem
from mfc.gates import CheckResult
from mfc.geography import WHAT_TO_GIVE, AuthorityRegister, UnknownAuthority, name_key
from mfc.kinds.aggregate_sources import NORMALISED, compare
from mfc.kinds.one_file import OneFileKind
from mfc.landing import Delivery
from mfc.pipeline import Landed, Waiting, settle
from mfc.returns.aggregate import AGE_BANDS, NATIONAL_AREAS, SUFFIXES, VALUES
from mfc.returns.police import force_codes

# Who produced a figure defaults to the folder it was delivered in (<source>); a children's
# measure counts each child once over the period unless the file says otherwise.
PROMOTE = f"""
    insert into raw.aggregate_values
        (submission_id, line_no, area_as_delivered, area_type, area_gss, period_start,
         period_start_latest, period_end_earliest, period_end, measure, value_as_delivered,
         rounded_to, value_lower, value_upper, suppression, note, source_kind, source_name,
         counting, age_band, sex, covered_from, covered_to)
    {NORMALISED}"""


def _check(check_id: str) -> Check:
    return next(c for c in aggregate_checks.ALL if c.check_id == check_id)


def _cell(value: object) -> str:
    """A workbook cell as the CSV spec writes it: dates dd/mm/yyyy, whole numbers bare."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def workbook_as_csv(path: Path, out: Path) -> Path:
    """The first sheet of a workbook, as CSV (PostgreSQL COPY reads CSV only)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a file that is not a workbook
        raise FileProblem(f"{path.name} cannot be opened as a workbook ({err})") from err
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        for row in book.worksheets[0].iter_rows(values_only=True):
            writer.writerow([_cell(v) for v in row])
    book.close()
    return out


@functools.cache
def regions() -> dict[str, str]:
    """England's nine regions (the GSS codes DfE and ONS publish by): code -> name."""
    seed = config.dbt_project_dir() / "seeds" / "regions.csv"
    with seed.open(newline="", encoding="utf-8") as f:
        return {row["region_code"]: row["region_name"] for row in csv.DictReader(f)
                if row["region_code"].startswith("E12")}


def _area(value: str, on: date, authorities: AuthorityRegister) -> tuple[str, str] | None:
    """(area_type, GSS code) of what AREA names on a date, or None. A bare name that is both
    an authority's and a force's (Kent, North Yorkshire) means the authority; the force is
    named by its code or as "Kent Police"."""
    key = name_key(value)
    for code, (area_type, name) in NATIONAL_AREAS.items():
        if value.upper() == code or key == name_key(name):
            return area_type, code
    for code, name in regions().items():
        if value.upper() == code or key == name_key(name):
            return "region", code
    forces = force_codes()
    for code, name in forces.items():
        if value.upper() == code or key in (name_key(f"{name} Police"),
                                            name_key(f"{name} Constabulary")):
            return "force", code
    try:
        return "authority", authorities.resolve(value, on=on).gss_code
    except UnknownAuthority:
        pass
    for code, name in forces.items():
        if key == name_key(name):
            return "force", code
    return None


def suggestion(value: str, on: date, authorities: AuthorityRegister) -> str:
    """What to write instead of an AREA that names nothing on the date: the register's reason
    (an authority that had ended, with its successor) or the nearest name."""
    try:
        authorities.resolve(value, on=on)
    except UnknownAuthority as err:
        reason = str(err).split(": ", 1)[1]
        if WHAT_TO_GIVE not in reason:  # it names the authority meant, or its successor
            return reason
    names = ([a.name for a in authorities if a.in_force_on(on)]
             + [f"{n} Police" for n in force_codes().values()]
             + list(regions().values()) + [n for _, n in NATIONAL_AREAS.values()])
    by_key = {name_key(n): n for n in names}
    near = [by_key[k] for k in difflib.get_close_matches(name_key(value), list(by_key), n=3,
                                                         cutoff=0.75)]
    if not near:
        return ""
    return f"did you mean {', '.join(near[:-1]) + ' or ' if len(near) > 1 else ''}{near[-1]}?"


class AggregateFiles(OneFileKind):
    source = "aggregate"
    label = "aggregate file"
    table = VALUES
    content = aggregate_checks.CONTENT
    readable = _check("aggregate.file.readable")
    columns_check = _check("aggregate.columns")
    layout = "aggregate/<source>/<name>.csv"
    suffixes = SUFFIXES
    batch_size = 50
    raw_tables = ("raw.aggregate_values",)
    cross_submission = aggregate_checks.CROSS_SUBMISSION
    cross_checks_read_landing = True

    def period_of(self, path: Path) -> str:
        return path.stem

    def resolve(self, delivery: Delivery, register: AuthorityRegister):
        """A file may hold figures for many areas and periods: it has neither."""
        return None, None

    def delivery_checks(self, waiting: Waiting) -> list[CheckResult]:
        check = _check("aggregate.file.type")
        name = waiting.file.file_name
        if Path(name).suffix.lower() in SUFFIXES:
            return [CheckResult(check, "PASS", 0, 1)]
        return [CheckResult(check, "FAIL", 1, 1, [{"file": name}],
                            f"{name} is not .csv or .xlsx. {check.message}")]

    def read_file(self, waiting: Waiting) -> Path:
        path = waiting.file.path
        if path.suffix.lower() == ".xlsx":
            return workbook_as_csv(path, path.parent / "as-csv" / f"{path.stem}.csv")
        return path

    def before_content(self, conn: psycopg.Connection, submission_ids: list[int]) -> None:
        """Resolve each distinct AREA and PERIOD_END once, not each row."""
        pairs = conn.execute(
            "select distinct area, landing.latest_day(period_end) from landing.aggregate_values "
            "where submission_id = any(%s) and area is not null "
            "and landing.latest_day(period_end) is not null", (submission_ids,),
        ).fetchall()
        authorities = AuthorityRegister.from_seed()
        conn.execute("create temp table resolved_area (value text, day date, area_type text, "
                     "gss text, suggestion text) on commit drop")
        with conn.cursor().copy("copy resolved_area from stdin") as copy:
            for value, day in pairs:
                found = _area(value, day, authorities)
                copy.write_row((value, day, *found, None) if found
                               else (value, day, None, None, suggestion(value, day, authorities)))
        conn.execute(
            "update landing.aggregate_values l set area_type = r.area_type, area_gss = r.gss, "
            "area_suggestion = r.suggestion "
            "from resolved_area r where l.submission_id = any(%s) and r.value = l.area "
            "and r.day = landing.latest_day(l.period_end)", (submission_ids,),
        )

    def cross_checks(self, conn: psycopg.Connection, waiting: Waiting, landed: Landed,
                     rows: dict[str, int]) -> list[CheckResult]:
        if landed.halted or landed.unusable:
            return gates.not_run(aggregate_checks.CROSS_SUBMISSION,
                                 landed.halted or "the file could not be read.")
        return compare(conn, waiting.submission_id,
                       f"{waiting.delivered_as}/{waiting.file.file_name}", list(AGE_BANDS),
                       rows[self.table.name])

    def promote(self, conn: psycopg.Connection, waiting: Waiting) -> str:
        conn.execute(PROMOTE, {"sid": waiting.submission_id, "age_bands": list(AGE_BANDS)})
        return settle(conn, self.source, waiting.submission_id, waiting.delivered_as,
                      waiting.period)




AGGREGATE = AggregateFiles()
