"""Gate and load police month files in batches: landing (COPY) -> checks -> raw, or quarantine.

A force sends a file a month, so a backlog is many small submissions. They are gated in
batches of up to ten, with one GX run per batch; each file is still decided on its own and
loaded whole or not at all, in its own transaction (as council returns are, in mfc.load).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import psycopg

from expectations import police as police_checks
from expectations.checks import Check
from mfc import config, gates
from mfc.gates import CheckResult
from mfc.geography import AuthorityRegister, UnknownAuthority
from mfc.load import FileProblem, Outcome, copy_to_landing, read_columns, set_status, settle
from mfc.pseudonymise import hmac_pads
from mfc.returns.police import INCIDENTS, ReturnMonth

BATCH_SIZE = 10  # GX returns at most 200 failing rows per check: 20 examples x 10 files

PROMOTE = """
    insert into raw.police_incidents
        (submission_id, line_no, force, incident_ref, person_key, dob, dob_key, age_at_report,
         sex, reported_missing, found, risk, looked_after, responsible_la_as_delivered,
         responsible_gss, placement_district, found_district)
    select submission_id, line_no, force, incident_ref,
           landing.keyed_hash(force || ':' || person_ref, %(ik)s, %(ok)s),
           landing.to_date_uk(dob),
           landing.keyed_hash('dob:' || to_char(landing.to_date_uk(dob), 'YYYY-MM-DD'),
                              %(ik)s, %(ok)s),
           coalesce(landing.age_on(landing.to_date_uk(dob),
                                   landing.to_timestamp_uk(reported_missing)::date), age::int),
           sex, landing.to_timestamp_uk(reported_missing), landing.to_timestamp_uk(found), risk,
           case when looked_after in ('Y', 'N') then looked_after end,
           responsible_la, responsible_gss, placement_district, found_district
    from landing.police_incidents where submission_id = %(sid)s"""


def _check(check_id: str) -> Check:
    return next(c for c in police_checks.ALL if c.check_id == check_id)


def batches(url: str, submission_ids: list[int]) -> list[list[int]]:
    """Waiting police submissions in batches of one force's months, at most BATCH_SIZE each."""
    if not submission_ids:
        return []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select submission_id, authority_as_delivered from audit.submissions "
            "where submission_id = any(%s) order by authority_as_delivered, submission_id",
            (submission_ids,),
        ).fetchall()
    by_force: dict[str, list[int]] = {}
    for sid, force in rows:
        by_force.setdefault(force, []).append(sid)
    return [ids[i:i + BATCH_SIZE] for ids in by_force.values()
            for i in range(0, len(ids), BATCH_SIZE)]


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


def _land(conn: psycopg.Connection, submission_id: int, file_name: str, path: Path,
          force: str, month: date | None) -> list[CheckResult]:
    """COPY the file to landing; the file and structure results."""
    readable, columns_check = _check("police.file.readable"), _check("police.columns")
    try:
        delivered = copy_to_landing(conn, submission_id, INCIDENTS, path)
    except FileProblem as problem:
        return [CheckResult(readable, "FAIL", 1, 1, [{"file": file_name, "values": {}}],
                            f"{problem}. {readable.message}"),
                *gates.not_run((columns_check,), "the file cannot be read.")]
    conn.execute(
        "update audit.submission_files set columns_delivered = %s "
        "where submission_id = %s and file_name = %s",
        (read_columns(path), submission_id, file_name),
    )
    conn.execute(
        "update landing.police_incidents set folder_force = %s, file_month = %s "
        "where submission_id = %s", (force, month, submission_id),
    )
    missing = [c for c in INCIDENTS.columns if c not in delivered]
    columns = gates.outcome(columns_check, len(missing), len(INCIDENTS.columns),
                            [{"file": file_name, "line": 1, "values": {c: None}}
                             for c in missing])
    if missing:
        columns.message = f"{file_name} lacks {', '.join(missing)}. {columns_check.message}"
    return [CheckResult(readable, "PASS", 0, 1), columns]


def _resolve_authorities(conn: psycopg.Connection, submission_ids: Iterable[int]) -> None:
    """Fill responsible_gss: each distinct RESPONSIBLE_LA and day goes through the register
    once (the same resolver as council folders), not each row."""
    pairs = conn.execute(
        "select distinct responsible_la, landing.to_timestamp_uk(reported_missing)::date "
        "from landing.police_incidents where submission_id = any(%s) "
        "and responsible_la is not null "
        "and landing.to_timestamp_uk(reported_missing) is not null",
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
        "and r.day = landing.to_timestamp_uk(l.reported_missing)::date",
        (list(submission_ids),),
    )


def _clear_landing(conn: psycopg.Connection, submission_id: int) -> None:
    # Landing holds PERSON_REF as delivered: keep it no longer than the gate needs it.
    conn.execute("delete from landing.police_incidents where submission_id = %s",
                 (submission_id,))


def gate_and_load_batch(url: str, submission_ids: list[int], run_id: str) -> list[Outcome]:
    """Check a batch of police month files and load each whole, or quarantine it whole."""
    outcomes: list[Outcome] = []
    results: dict[int, list[CheckResult]] = {}
    files: dict[int, str] = {}
    periods: dict[int, tuple[str, str]] = {}
    # Autocommit, so each `with conn.transaction()` commits: GX reads landing on its own
    # connection and must see what was landed.
    with psycopg.connect(url, autocommit=True) as conn:
        for sid in submission_ids:
            row = conn.execute(
                "select s.status, s.authority_as_delivered, s.collection_year, "
                "s.authority_gss, s.period_start, f.file_name, f.archived_path "
                "from audit.submissions s join audit.submission_files f using (submission_id) "
                "where s.submission_id = %s and s.source = 'police'", (sid,),
            ).fetchone()
            if row is None:
                raise LookupError(f"no police submission {sid} in audit.submissions")
            status, force, month, force_gss, month_start, file_name, archived = row
            if status != "received":  # decided by an earlier run: nothing to do
                outcomes.append(Outcome(sid, status, []))
                continue
            files[sid], periods[sid] = file_name, (force_gss, month)
            with conn.transaction():
                _clear_landing(conn, sid)  # rows left by an interrupted run
                results[sid] = _submission_checks(force, month, force_gss)
                if any(r.blocks for r in results[sid]):
                    results[sid] += gates.not_run(
                        (_check("police.file.readable"), _check("police.columns")),
                        "the folder or file name is not recognised.")
                else:
                    results[sid] += _land(conn, sid, file_name, Path(archived), force_gss,
                                          month_start)
        ready = [sid for sid in results if not any(r.blocks for r in results[sid])]
        for sid in results:
            if sid not in ready:
                results[sid] += gates.not_run(police_checks.CONTENT,
                                              "the file failed the file or structure checks.")
        if ready:
            with conn.transaction():
                _resolve_authorities(conn, ready)
            counts = dict(conn.execute(
                "select submission_id, count(*) from landing.police_incidents "
                "where submission_id = any(%s) group by 1", (ready,)).fetchall())
            content = gates.validate_batch(
                url, INCIDENTS.landing_table, ready, police_checks.CONTENT,
                {sid: files[sid] for sid in ready},
                {sid: counts.get(sid, 0) for sid in ready})
            for sid in ready:
                results[sid] += content[sid]
        inner, outer = hmac_pads(config.pseudonymisation_key())
        for sid, checked in results.items():
            failed = [r.check.check_id for r in checked if r.blocks]
            with conn.transaction():
                gates.store(conn, sid, run_id, checked)
                if failed:
                    set_status(conn, sid, "quarantined")
                    status = "quarantined"
                else:
                    conn.execute(PROMOTE, {"sid": sid, "ik": inner, "ok": outer})
                    status = settle(conn, "police", sid, *periods[sid])
                _clear_landing(conn, sid)
            outcomes.append(Outcome(sid, status, failed))
    return outcomes
