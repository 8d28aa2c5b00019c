"""The council return (docs/returns/council.md): SSDA903 header, episodes and missing tables,
one folder per authority and collection year: <landing>/council/<authority>/<year>/<table>.csv.

A folder may hold other tables and files (kept, named in a warning); a file that fails its file
or structure checks stops only the checks that read it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from expectations import council as council_checks
from expectations.checks import Check
from mfc import config, cross_submission, gates
from mfc import files as files_module
from mfc.files import FileProblem, copy_to_landing, read_columns
from mfc.gates import CheckResult
from mfc.geography import AuthorityRegister, UnknownAuthority
from mfc.landing import DeliveredFile, Delivery, files_in, subfolders
from mfc.pipeline import Landed, ReturnKind, StoredFile, Waiting, settle
from mfc.pseudonymise import hmac_pads
from mfc.returns.council import TABLES, CollectionYear, other_ssda903_table, recognise

LAYOUT = "council/<authority>/<collection-year>/"
FOLDER_UNKNOWN = "the delivery folder names no known authority or collection year."

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


def _check(check_id: str) -> Check:
    return next(c for c in council_checks.ALL if c.check_id == check_id)


def _folder_checks(authority: str, year_label: str,
                   authority_gss: str | None) -> list[CheckResult]:
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


def _unrecognised(f: StoredFile) -> str:
    if f.problem:
        return f.problem
    try:
        other = other_ssda903_table(read_columns(f.path))
    except (FileProblem, OSError):
        other = None
    if other:
        return (f"{f.file_name} is SSDA903's {other} table, which this collection does not "
                "read; it is kept, not loaded")
    return (f"{f.file_name} is not header.csv, episodes.csv or missing.csv, by name or by its "
            "column names; it is kept, not loaded")


def _chosen(files: tuple[StoredFile, ...]) -> dict[str, StoredFile]:
    """The file read for each table: a .csv before other kinds, then the last by name (an
    export's own name, SSDA903_2023-24_Missing.csv, before a copy of it)."""
    by_name = sorted(files, key=lambda f: f.file_name, reverse=True)
    ranked = sorted(by_name, key=lambda f: not f.file_name.lower().endswith(".csv"))
    chosen: dict[str, StoredFile] = {}
    for f in ranked:
        if f.table_name:
            chosen.setdefault(f.table_name, f)
    return chosen


def _land_files(conn: psycopg.Connection, waiting: Waiting) -> tuple[list[CheckResult], dict]:
    """File checks, then COPY of each table that passed them. Returns the file and
    unknown-column results and, per table landed, (file name, columns delivered)."""
    sid, files = waiting.submission_id, waiting.files
    chosen = _chosen(files)
    findings: list[files_module.Finding] = [
        files_module.Finding("mfc.file.recognised", f.file_name, None, _unrecognised(f))
        for f in files if not f.table_name
        and f.file_name.lower() != council_checks.CONFIRM_REPLACE.lower()
    ] + [
        files_module.Finding("mfc.file.recognised", f.file_name, None,
                             f"{f.file_name} is a second {f.table_name} table; "
                             f"{chosen[f.table_name].file_name} was read")
        for f in files if f.table_name and f is not chosen[f.table_name]
    ]
    absent = [t.file_name for t in TABLES if t.name not in chosen]
    landed, unknown = {}, []
    for table in TABLES:
        if table.name not in chosen:
            continue
        f = chosen[table.name]
        if f.problem:
            findings.append(files_module.Finding("mfc.file.readable", f.file_name, None,
                                                 f.problem))
            continue
        found, encoding = files_module.inspect(f.path, table.file_name)
        findings += found
        if any(_check(x.check_id).severity == "blocking" for x in found):
            continue
        try:
            copy_to_landing(conn, sid, table.landing_table, table.reads, f.path, encoding)
        except FileProblem as problem:
            findings.append(files_module.Finding("mfc.file.readable", f.file_name, None,
                                                 str(problem)))
            continue
        delivered = read_columns(f.path, encoding)
        conn.execute(
            "update audit.submission_files set columns_delivered = %s "
            "where submission_id = %s and file_name = %s", (delivered, sid, f.file_name),
        )
        landed[table.name] = (f.file_name, delivered)
        unknown.append((table, f.file_name, [c for c in delivered if not table.reads(c)]))
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


class CouncilReturns(ReturnKind):
    source = "council"
    label = "council return"
    tables = TABLES
    content = council_checks.CONTENT
    readable = _check("mfc.file.readable")
    batch_size = 60  # a few authorities' ten years
    raw_tables = ("raw.council_header", "raw.council_episodes", "raw.council_missing")
    cross_submission = council_checks.CROSS_SUBMISSION
    gate_after = ("police",)  # reconciled with the police months loaded the same night

    def discover(self, landing_dir: Path) -> list[Delivery]:
        deliveries = []
        for authority in subfolders(landing_dir / "council", LAYOUT):
            for year in subfolders(authority, LAYOUT):
                files = files_in(year)
                if files:
                    deliveries.append(Delivery(self.source, year, authority.name, year.name,
                                               files))
        return deliveries

    def resolve(self, delivery: Delivery, register: AuthorityRegister):
        try:
            year = CollectionYear.parse(delivery.collection_year)
        except ValueError:
            return None, None
        try:
            authority = register.resolve(delivery.authority_as_delivered, on=year.end)
        except UnknownAuthority:
            return None, year
        return authority.gss_code, year

    def table_of(self, delivered: DeliveredFile) -> str | None:
        """By its name, or by its column names as DfE's validator does; None if neither."""
        columns = None if delivered.problem else files_module.column_names(delivered.path)
        table = recognise(delivered.path.name, columns)
        return table.name if table else None

    def land(self, conn: psycopg.Connection, waiting: Waiting) -> Landed:
        results = _folder_checks(waiting.delivered_as, waiting.period, waiting.gss)
        file_results, landed = _land_files(conn, waiting)
        results += file_results
        got = Landed(results, {t: name for t, (name, _) in landed.items()})
        got.unusable = {t.name: f"{t.file_name} was not delivered or failed the file checks"
                        for t in TABLES if t.name not in landed}
        if any(r.blocks for r in results if r.check.check_id in FOLDER_CHECKS):
            got.halted = FOLDER_UNKNOWN
            results += gates.not_run(
                council_checks.STRUCTURE + tuple(c for c in council_checks.UNKNOWN_COLUMNS
                                                 if c.table not in landed), FOLDER_UNKNOWN)
            return got
        for check in council_checks.STRUCTURE + council_checks.UNKNOWN_COLUMNS:
            if check.table in got.unusable:
                results.append(CheckResult(check, "NOT_RUN",
                                           message=f"Not run: {got.unusable[check.table]}."))
        for check in council_checks.STRUCTURE:
            if check.table not in landed:
                continue
            name, delivered = landed[check.table]
            table = next(t for t in TABLES if t.name == check.table)
            result = gates.columns_result(check, name, delivered, table.columns)
            results.append(result)
            if result.blocks:
                got.unusable[check.table] = (f"{name} lacks DfE columns (see the structure "
                                             "checks)")
        return got

    def cross_checks(self, conn: psycopg.Connection, waiting: Waiting, landed: Landed,
                     rows: dict[str, int]) -> list[CheckResult]:
        if landed.halted:
            return gates.not_run(council_checks.CROSS_SUBMISSION, landed.halted)
        year = CollectionYear.parse(waiting.period)
        results = []
        if "missing" in landed.unusable:
            results += gates.not_run(tuple(c for c in council_checks.CROSS_SUBMISSION
                                           if c.table == "missing"),
                                     f"{landed.unusable['missing']}.")
        else:
            confirmed = any(f.file_name.lower() == council_checks.CONFIRM_REPLACE.lower()
                            for f in waiting.files)
            results += [
                cross_submission.replaces_most(conn, waiting.gss, year, rows["missing"],
                                               confirmed),
                cross_submission.volume_change(conn, waiting.gss, year, rows["missing"]),
                cross_submission.police_reconciliation(conn, waiting.gss, year,
                                                       rows["missing"]),
            ]
        return [*results, cross_submission.late(conn, waiting.received_at, year),
                cross_submission.not_superseded()]

    def promote(self, conn: psycopg.Connection, waiting: Waiting) -> str:
        """Typed, pseudonymised rows into raw; the newest loaded submission per authority-year
        wins."""
        inner, outer = hmac_pads(config.pseudonymisation_key())
        params = {"sid": waiting.submission_id, "gss": waiting.gss, "ik": inner, "ok": outer}
        for statement in PROMOTE.values():
            conn.execute(statement, params)
        return settle(conn, self.source, waiting.submission_id, waiting.gss, waiting.period)

    def after_decision(self, conn: psycopg.Connection, waiting: Waiting, status: str,
                       run_id: str) -> None:
        if waiting.gss and status != "superseded":
            cross_submission.mark_superseded(conn, waiting.submission_id, run_id,
                                             loaded=status == "loaded")


FOLDER_CHECKS = ("mfc.submission.year", "mfc.authority.known")
COUNCIL = CouncilReturns()
