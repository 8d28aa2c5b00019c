"""The police return (docs/returns/police.md): one file per force and calendar month,
<landing>/police/<force>/<YYYY-MM>.csv, one row per incident."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from expectations import police as police_checks
from expectations.checks import Check
from mfc import config
from mfc.gates import CheckResult
from mfc.geography import AuthorityRegister, UnknownAuthority
from mfc.kinds.one_file import OneFileKind
from mfc.landing import Delivery
from mfc.pipeline import Waiting, settle
from mfc.pseudonymise import hmac_pads
from mfc.returns import police
from mfc.returns.police import INCIDENTS, ReturnMonth

PROMOTE = """
    insert into raw.police_incidents
        (submission_id, line_no, force, incident_ref, person_key, dob, dob_key, age_at_report,
         sex, reported_missing, found, risk, looked_after, responsible_la_as_delivered,
         responsible_gss, placement_district, found_district)
    select submission_id, line_no, force, incident_ref,
           landing.keyed_hash(force || ':' || person_ref, %(ik)s, %(ok)s),
           dob_date,
           landing.keyed_hash('dob:' || to_char(dob_date, 'YYYY-MM-DD'), %(ik)s, %(ok)s),
           coalesce(landing.age_on(dob_date, reported_at::date), age::int),
           sex, reported_at, found_at, risk,
           case when looked_after in ('Y', 'N') then looked_after end,
           responsible_la, responsible_gss, placement_district, found_district
    from landing.police_incidents where submission_id = %(sid)s"""


def _check(check_id: str) -> Check:
    return next(c for c in police_checks.ALL if c.check_id == check_id)


def _submission_checks(force: str, month_label: str, force_gss: str | None) -> list[CheckResult]:
    results = []
    force_check, month_check = _check("police.submission.force"), _check("police.submission.month")
    if force_gss:
        results.append(CheckResult(force_check, "PASS", 0, 1))
    else:
        results.append(CheckResult(force_check, "FAIL", 1, 1, [{"file": f"folder {force}"}],
                                   f"{force!r} is not a police force area code. "
                                   f"{force_check.message}"))
    try:
        ReturnMonth.parse(month_label)
        results.append(CheckResult(month_check, "PASS", 0, 1))
    except ValueError as err:
        results.append(CheckResult(month_check, "FAIL", 1, 1, [{"file": f"{month_label}"}],
                                   f"{err}. {month_check.message}"))
    return results


def _resolve_authorities(conn: psycopg.Connection, submission_ids: Iterable[int]) -> None:
    """Fill responsible_gss: each distinct RESPONSIBLE_LA and day goes through the register
    once (the same resolver as council folders), not each row."""
    pairs = conn.execute(
        "select distinct responsible_la, reported_at::date "
        "from landing.police_incidents where submission_id = any(%s) "
        "and responsible_la is not null "
        "and reported_at is not null",
        (list(submission_ids),),
    ).fetchall()
    register = AuthorityRegister.from_seed()
    resolved = []
    for value, day in pairs:
        try:
            resolved.append((value, day, register.resolve(value, on=day).gss_code))
        except UnknownAuthority:
            continue
    conn.execute("create temp table resolved_la (value text, day date, gss text) "
                 "on commit drop")
    with conn.cursor().copy("copy resolved_la from stdin") as copy:
        for row in resolved:
            copy.write_row(row)
    conn.execute(
        "update landing.police_incidents l set responsible_gss = r.gss from resolved_la r "
        "where l.submission_id = any(%s) and r.value = l.responsible_la "
        "and r.day = l.reported_at::date",
        (list(submission_ids),),
    )


class PoliceMonths(OneFileKind):
    source = "police"
    label = "police month file"
    table = INCIDENTS
    content = police_checks.CONTENT
    readable = _check("police.file.readable")
    columns_check = _check("police.columns")
    layout = "police/<force>/<YYYY-MM>.csv"
    batch_size = 120  # ten years of a force's months
    raw_tables = ("raw.police_incidents",)

    def resolve(self, delivery: Delivery, register: AuthorityRegister):
        try:
            month = ReturnMonth.parse(delivery.collection_year)
        except ValueError:
            month = None
        force = delivery.authority_as_delivered.strip().upper()
        return (force if force in police.force_codes() else None), month

    def delivery_checks(self, waiting: Waiting) -> list[CheckResult]:
        return _submission_checks(waiting.delivered_as, waiting.period, waiting.gss)

    def after_landing(self, conn: psycopg.Connection, waiting: Waiting) -> None:
        # What the folder and file name say, for the checks that compare rows with them.
        conn.execute(
            "update landing.police_incidents set folder_force = %s, file_month = %s "
            "where submission_id = %s", (waiting.gss, waiting.period_start, waiting.submission_id),
        )

    def before_content(self, conn: psycopg.Connection, submission_ids: list[int]) -> None:
        _resolve_authorities(conn, submission_ids)

    def promote(self, conn: psycopg.Connection, waiting: Waiting) -> str:
        inner, outer = hmac_pads(config.pseudonymisation_key())
        conn.execute(PROMOTE, {"sid": waiting.submission_id, "ik": inner, "ok": outer})
        return settle(conn, self.source, waiting.submission_id, waiting.gss, waiting.period)


POLICE = PoliceMonths()
