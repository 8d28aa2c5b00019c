"""Gate and load one council submission: landing (COPY) -> checks -> raw, or quarantine.

A submission is loaded whole or not at all: promotion to raw, the status change and the check
results are one transaction. Files are parsed by PostgreSQL COPY, never row by row in Python.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from expectations import council as council_checks
from expectations.checks import Check
from mfc import config, cross_submission, gates
from mfc import files as files_module
from mfc.gates import CheckResult
from mfc.geography import AuthorityRegister, UnknownAuthority
from mfc.pseudonymise import hmac_pads
from mfc.returns.council import (
    TABLES,
    CollectionYear,
    Table,
    normalise_column,
    other_ssda903_table,
)


class FileProblem(Exception):
    """A delivered file that cannot be read; the message names file and line."""


@dataclass
class Outcome:
    submission_id: int
    status: str
    failed_checks: list[str]

    def as_dict(self) -> dict:
        return {"submission_id": self.submission_id, "status": self.status,
                "failed_checks": self.failed_checks}


def _check(check_id: str) -> Check:
    return next(c for c in council_checks.ALL if c.check_id == check_id)


def _submission_checks(
    authority: str, year_label: str, authority_gss: str | None
) -> list[CheckResult]:
    year_check, authority_check = _check("mfc.submission.year"), _check("mfc.authority.known")
    try:
        year = CollectionYear.parse(year_label)
    except ValueError as err:
        return [
            CheckResult(year_check, "FAIL", 1, 1, [{"file": f"folder {year_label}"}],
                        f"{err}. {year_check.message}"),
            CheckResult(authority_check, "NOT_RUN",
                        message="Not run: the collection year is not known."),
        ]
    results = [CheckResult(year_check, "PASS", 0, 1)]
    if authority_gss:
        return [*results, CheckResult(authority_check, "PASS", 0, 1)]
    try:
        AuthorityRegister.from_seed().resolve(authority, on=year.end)
        reason = "resolved only now"  # the register changed since registration
    except UnknownAuthority as err:
        reason = str(err)
    return [*results, CheckResult(authority_check, "FAIL", 1, 1,
                                  [{"file": f"folder {authority}"}],
                                  f"{reason} {authority_check.message}")]


def read_columns(path: Path, encoding: str = "UTF8") -> list[str]:
    """The column names on line 1, normalised; FileProblem if there are none to read.
    encoding: as PostgreSQL names it (UTF8, or WIN1252: see mfc.files.encoding_of)."""
    with path.open("rb") as stream:
        first = stream.readline()
    if not first.strip():
        raise FileProblem(f"{path.name} is empty" if not first else f"{path.name} line 1 is blank")
    try:
        text = first.decode("cp1252" if encoding == "WIN1252" else "utf-8-sig")
    except UnicodeDecodeError as err:
        raise FileProblem(f"{path.name} line 1 is not UTF-8 text ({err.reason} at byte "
                          f"{err.start})") from err
    columns = [normalise_column(c) for c in next(csv.reader(io.StringIO(text)))]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise FileProblem(f"{path.name} line 1 names column(s) {', '.join(repeated)} twice")
    return columns


def copy_to_landing(conn: psycopg.Connection, submission_id: int, table: Table,
                    path: Path, encoding: str = "UTF8") -> list[str]:
    """COPY a delivered file into its landing table; return the DfE columns it delivered."""
    columns = read_columns(path, encoding)
    fields = [sql.Identifier(f"c{i}") for i in range(len(columns))]
    try:
        with conn.transaction():
            conn.execute(sql.SQL(
                "create temp table delivered (line_no integer generated always as identity, {})"
            ).format(sql.SQL(", ").join(sql.SQL("{} text").format(f) for f in fields)))
            copy = sql.SQL(
                "copy delivered ({}) from stdin (format csv, header true, encoding {})"
            ).format(sql.SQL(", ").join(fields), sql.Literal(encoding))
            with conn.cursor().copy(copy) as stream, path.open("rb") as source:
                for block in iter(lambda: source.read(1 << 20), b""):
                    stream.write(block)
            known = [(col, fields[i]) for i, col in enumerate(columns)
                     if col in table.columns or col in table.optional]
            conn.execute(sql.SQL(
                "insert into {} (submission_id, line_no, {}) "
                "select %s, line_no + 1, {} from delivered"  # line 1 holds the column names
            ).format(
                sql.SQL(table.landing_table),
                sql.SQL(", ").join(sql.Identifier(col.lower()) for col, _ in known),
                sql.SQL(", ").join(sql.SQL("nullif(btrim({}), '')").format(f) for _, f in known),
            ), (submission_id,))
            conn.execute("drop table delivered")
    except psycopg.errors.DataError as err:
        message = err.diag.message_primary or str(err)
        for i, column in enumerate(columns):  # say the delivered column, not our c0, c1 ...
            message = message.replace(f'"c{i}"', column)
        raise FileProblem(f"{path.name} {_copy_line(err)}{message}") from err
    return [col for col in columns if col in table.columns or col in table.optional]


def _copy_line(err: psycopg.Error) -> str:
    """'line N: ' from COPY's error context ('COPY delivered, line 5, column c2: ...')."""
    context = err.diag.context or ""
    if ", line " in context:
        number = context.split(", line ", 1)[1].split(",", 1)[0].split(":", 1)[0]
        return f"line {number}: "
    return ""


def _land_files(conn: psycopg.Connection, submission_id: int) -> tuple[list[CheckResult], dict]:
    """File checks, then COPY of each table that passed them. Returns the file and
    unknown-column results and, per table landed, (file name, DfE columns delivered)."""
    files = conn.execute(
        "select table_name, file_name, archived_path from audit.submission_files "
        "where submission_id = %s order by file_name ilike '%%.csv' desc, file_name desc",
        (submission_id,),
    ).fetchall()
    by_table = {t: (name, Path(path)) for t, name, path in reversed(files) if t}
    findings: list[files_module.Finding] = [
        files_module.Finding("mfc.file.recognised", name, None, _unrecognised(Path(path)))
        for t, name, path in files if not t
    ] + [
        files_module.Finding("mfc.file.recognised", name, None,
                             f"{name} is a second {t} table; {by_table[t][0]} was read")
        for t, name, _ in files if t and name != by_table[t][0]
    ]
    absent = [t.file_name for t in TABLES if t.name not in by_table]
    landed, unknown = {}, []
    for table in TABLES:
        if table.name not in by_table:
            continue
        name, archived = by_table[table.name]
        found, encoding = files_module.inspect(archived, table.file_name)
        findings += found
        if any(_check(f.check_id).severity == "blocking" for f in found):
            continue
        try:
            columns = copy_to_landing(conn, submission_id, table, archived, encoding)
        except FileProblem as problem:
            findings.append(files_module.Finding("mfc.file.readable", name, None, str(problem)))
            continue
        delivered = read_columns(archived, encoding)
        conn.execute(
            "update audit.submission_files set columns_delivered = %s "
            "where submission_id = %s and file_name = %s", (delivered, submission_id, name),
        )
        landed[table.name] = (name, columns)
        unknown.append((table, name, [c for c in delivered if c not in columns]))
    results = [gates.outcome(_check("mfc.file.present"), len(absent), len(TABLES),
                             [{"file": name, "values": {}} for name in absent])]
    for check in council_checks.SUBMISSION:
        if check.check_id in ("mfc.file.present", "mfc.submission.year", "mfc.authority.known"):
            continue
        mine = [f for f in findings if f.check_id == check.check_id]
        result = gates.outcome(check, len(mine), len(files), [
            {"file": f.file, "line": f.line, "values": {}, "problem": f.message} for f in mine])
        if mine:
            result.message = "; ".join(f.message for f in mine) + ". " + check.message
        results.append(result)
    for table, name, extra in unknown:
        check = _check(f"mfc.{table.name}.unknown_column")
        result = gates.outcome(check, len(extra), None, [
            {"file": name, "line": 1, "values": {column: None}} for column in extra])
        if extra:
            result.message = (f"{name} has column(s) {', '.join(extra)} that this collection "
                              f"does not read; they are ignored. {check.message}")
        results.append(result)
    return results, landed


def _unrecognised(path: Path) -> str:
    try:
        other = other_ssda903_table(read_columns(path))
    except (FileProblem, OSError):
        other = None
    if other:
        return (f"{path.name} is SSDA903's {other} table, which this collection does not read; "
                "it is kept, not loaded")
    return (f"{path.name} is not header.csv, episodes.csv or missing.csv, by name or by its "
            "column names; it is kept, not loaded")


PROMOTE = {
    "header": """
        insert into raw.council_header
            (submission_id, line_no, child_key, upn_key, sex, dob, ethnic, mother, mc_dob,
             dob_key)
        select submission_id, line_no,
               landing.keyed_hash(%(gss)s || ':' || child, %(ik)s, %(ok)s),
               landing.keyed_hash(upper(upn), %(ik)s, %(ok)s),
               sex, landing.to_date_uk(dob), ethnic, mother, landing.to_date_uk(mc_dob),
               landing.keyed_hash('dob:' || to_char(landing.to_date_uk(dob), 'YYYY-MM-DD'),
                                  %(ik)s, %(ok)s)
        from landing.council_header where submission_id = %(sid)s""",
    "episodes": """
        insert into raw.council_episodes
            (submission_id, line_no, child_key, decom, rne, ls, cin, place, place_provider, dec,
             rec, reason_place_change, home_postcode_district, placement_postcode_district, urn)
        select submission_id, line_no,
               landing.keyed_hash(%(gss)s || ':' || child, %(ik)s, %(ok)s),
               landing.to_date_uk(decom), rne, ls, cin, place, place_provider,
               landing.to_date_uk(dec), rec, reason_place_change,
               landing.postcode_district(home_post), landing.postcode_district(pl_post), urn
        from landing.council_episodes where submission_id = %(sid)s""",
    "missing": """
        insert into raw.council_missing
            (submission_id, line_no, child_key, dob, missing_type, mis_start, mis_end)
        select submission_id, line_no,
               landing.keyed_hash(%(gss)s || ':' || child, %(ik)s, %(ok)s),
               landing.to_date_uk(dob), missing, landing.to_date_uk(mis_start),
               landing.to_date_uk(mis_end)
        from landing.council_missing where submission_id = %(sid)s""",
}


def _promote(conn: psycopg.Connection, submission_id: int, gss: str, year: str) -> str:
    """Typed, pseudonymised rows into raw; the newest loaded submission per authority-year wins."""
    inner, outer = hmac_pads(config.pseudonymisation_key())
    params = {"sid": submission_id, "gss": gss, "ik": inner, "ok": outer}
    for statement in PROMOTE.values():
        conn.execute(statement, params)
    return settle(conn, "council", submission_id, gss, year)


def settle(conn: psycopg.Connection, source: str, submission_id: int, body: str,
           period: str) -> str:
    """Mark a promoted submission loaded and the one it replaces superseded; or, when a newer
    one for the same returning body and period is loaded already, this one superseded. The
    body is the resolved GSS code, or for aggregate files the folder as delivered."""
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{source}:{body}:{period}",))
    same = ("source = %s and coalesce(authority_gss, authority_as_delivered) = %s "
            "and collection_year = %s and status = 'loaded'")
    newer = conn.execute(
        f"select min(submission_id) from audit.submissions where {same} "
        "and submission_id > %s", (source, body, period, submission_id),
    ).fetchone()[0]
    if newer is not None:
        set_status(conn, submission_id, "superseded", superseded_by=newer)
        return "superseded"
    conn.execute(
        "update audit.submissions set status = 'superseded', superseded_by = %s, "
        f"status_changed_at = now() where {same} and submission_id < %s",
        (submission_id, source, body, period, submission_id),
    )
    set_status(conn, submission_id, "loaded")
    return "loaded"


def set_status(conn: psycopg.Connection, submission_id: int, status: str,
                superseded_by: int | None = None) -> None:
    conn.execute(
        "update audit.submissions set status = %s, superseded_by = %s, status_changed_at = now() "
        "where submission_id = %s", (status, superseded_by, submission_id),
    )


def _clear_landing(conn: psycopg.Connection, submission_id: int) -> None:
    # Landing holds identifiers as delivered: keep them no longer than the gate needs them.
    for table in TABLES:
        conn.execute(sql.SQL("delete from {} where submission_id = %s").format(
            sql.SQL(table.landing_table)), (submission_id,))


def _row_counts(conn: psycopg.Connection, submission_id: int) -> dict[str, int]:
    return {
        t.name: conn.execute(sql.SQL("select count(*) from {} where submission_id = %s").format(
            sql.SQL(t.landing_table)), (submission_id,)).fetchone()[0]
        for t in TABLES
    }


def gate_and_load(url: str, submission_id: int, run_id: str) -> Outcome:
    """Check one registered submission and load it whole, or quarantine it whole."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select status, authority_as_delivered, collection_year, authority_gss, "
            "delivered_at from audit.submissions where submission_id = %s", (submission_id,),
        ).fetchone()
        if row is None:
            raise LookupError(f"no submission {submission_id} in audit.submissions")
        status, authority, year, gss, delivered_at = row
        if status != "received":  # already decided by an earlier run: nothing to do
            return Outcome(submission_id, status, [])
        with conn.transaction():
            _clear_landing(conn, submission_id)  # rows left by an interrupted run
        results = _submission_checks(authority, year, gss)
        file_results, landed = _land_files(conn, submission_id)
        conn.commit()
        results += file_results
        if any(r.blocks for r in results if r.check.check_id in SUBMISSION_FOLDER_CHECKS):
            results += gates.not_run(
                council_checks.STRUCTURE
                + tuple(c for c in council_checks.UNKNOWN_COLUMNS if c.table not in landed)
                + council_checks.CONTENT + council_checks.CROSS_SUBMISSION,
                "the delivery folder names no known authority or collection year.")
        else:
            results += _table_checks(url, conn, submission_id, landed, gss, year, delivered_at)
        failed = [r.check.check_id for r in results if r.blocks]
        with conn.transaction():
            gates.store(conn, submission_id, run_id, results,
                        {t.name: t.landing_table for t in TABLES})
            if failed:
                set_status(conn, submission_id, "quarantined")
                status = "quarantined"
            else:
                status = _promote(conn, submission_id, gss, year)
            if gss and status != "superseded":
                cross_submission.mark_superseded(conn, submission_id, run_id,
                                                 loaded=status == "loaded")
            _clear_landing(conn, submission_id)
    return Outcome(submission_id, status, failed)


SUBMISSION_FOLDER_CHECKS = ("mfc.submission.year", "mfc.authority.known")


def _table_checks(url: str, conn: psycopg.Connection, submission_id: int, landed: dict,
                  gss: str, year: str, delivered_at) -> list[CheckResult]:
    """Structure, content and cross-submission checks of the tables that landed. A table that
    failed its file or structure checks stops the checks that read it (NOT_RUN, naming it);
    the others still run, so one report lists every problem that can be found."""
    names = {t: name for t, (name, _) in landed.items()}
    columns = {t: cols for t, (_, cols) in landed.items()}
    counts = _row_counts(conn, submission_id)
    unusable = {t.name: f"{t.file_name} was not delivered or failed the file checks"
                for t in TABLES if t.name not in landed}
    results = [gates.CheckResult(c, "NOT_RUN", message=f"Not run: {unusable[c.table]}.")
               for c in council_checks.STRUCTURE + council_checks.UNKNOWN_COLUMNS
               if c.table in unusable]
    structure = gates.validate_tables(url, submission_id, council_checks.STRUCTURE, columns,
                                      names, counts)
    results += structure
    for result in structure:
        if result.blocks:
            unusable[result.check.table] = (f"{names[result.check.table]} lacks DfE columns (see "
                                            "the structure checks)")
    runnable, stopped = [], []
    for check in council_checks.CONTENT:
        blocked = [unusable[t] for t in (check.table, *check.reads) if t in unusable]
        if blocked:
            stopped.append(gates.CheckResult(check, "NOT_RUN",
                                             message=f"Not run: {'; '.join(blocked)}."))
        else:
            runnable.append(check)
    results += stopped
    results += gates.validate_tables(url, submission_id, tuple(runnable),
                                     {t: c for t, c in columns.items() if t not in unusable},
                                     names, counts)
    collection_year = CollectionYear.parse(year)
    if "missing" in unusable:
        results += gates.not_run(tuple(c for c in council_checks.CROSS_SUBMISSION
                                       if c.table == "missing"), f"{unusable['missing']}.")
    else:
        results += [
            cross_submission.volume_change(conn, gss, collection_year, counts["missing"]),
            cross_submission.police_reconciliation(conn, gss, collection_year,
                                                   counts["missing"]),
        ]
    return [*results, cross_submission.late(delivered_at, collection_year),
            cross_submission.not_superseded()]
