"""Aggregate figures (docs/returns/aggregate.md): FOI answers, legacy tables; one submission
per file, <landing>/aggregate/<source>/<name>.csv or .xlsx.

A value is stored as an interval: a number is itself (or, if rounded, the range that rounds
to it); a suppressed value (<5, c, *, x, blank) is the range it may hide.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import psycopg

from expectations import aggregate as aggregate_checks
from expectations.checks import Check
from mfc.files import FileProblem
from mfc.gates import CheckResult
from mfc.geography import AuthorityRegister, UnknownAuthority, name_key
from mfc.kinds.one_file import OneFileKind
from mfc.landing import Delivery
from mfc.pipeline import Waiting, settle
from mfc.returns.aggregate import NATIONAL_AREAS, SUFFIXES, VALUES
from mfc.returns.police import force_codes

PROMOTE = """
    insert into raw.aggregate_values
        (submission_id, line_no, area_as_delivered, area_type, area_gss, period_start,
         period_end, measure, value_as_delivered, rounded_to, value_lower, value_upper,
         suppression, note)
    select submission_id, line_no, area, area_type, area_gss, landing.to_date_uk(period_start),
           landing.to_date_uk(period_end), measure, value, rounded_to::int,
           landing.reported_lower(value, rounded_to), landing.reported_upper(value, rounded_to),
           landing.suppression(value), note
    from landing.aggregate_values where submission_id = %(sid)s"""


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


def _area(value: str, on: date, authorities: AuthorityRegister) -> tuple[str, str] | None:
    """(area_type, GSS code) of what AREA names on a date, or None. A bare name that is both
    an authority's and a force's (Kent, North Yorkshire) means the authority; the force is
    named by its code or as "Kent Police"."""
    key = name_key(value)
    for code, (area_type, name) in NATIONAL_AREAS.items():
        if value.upper() == code or key == name_key(name):
            return area_type, code
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
            "select distinct area, landing.to_date_uk(period_end) from landing.aggregate_values "
            "where submission_id = any(%s) and area is not null "
            "and landing.to_date_uk(period_end) is not null", (submission_ids,),
        ).fetchall()
        authorities = AuthorityRegister.from_seed()
        conn.execute("create temp table resolved_area (value text, day date, area_type text, "
                     "gss text) on commit drop")
        with conn.cursor().copy("copy resolved_area from stdin") as copy:
            for value, day in pairs:
                found = _area(value, day, authorities)
                if found:
                    copy.write_row((value, day, *found))
        conn.execute(
            "update landing.aggregate_values l set area_type = r.area_type, area_gss = r.gss "
            "from resolved_area r where l.submission_id = any(%s) and r.value = l.area "
            "and r.day = landing.to_date_uk(l.period_end)", (submission_ids,),
        )

    def promote(self, conn: psycopg.Connection, waiting: Waiting) -> str:
        conn.execute(PROMOTE, {"sid": waiting.submission_id})
        return settle(conn, self.source, waiting.submission_id, waiting.delivered_as,
                      waiting.period)




AGGREGATE = AggregateFiles()
