"""Council checks against other returns: the loaded return this one would replace, the
authority's year before, the police, the deadline, and a later submission that replaces this
one. They warn, for a data team to confirm; except that a return removing most of a loaded
year is held back until the authority confirms it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import psycopg

from expectations import council as council_checks
from mfc import config
from mfc.gates import CheckResult
from mfc.returns.council import CollectionYear, deadline

# A change is sharp when one figure is more than twice the other and they differ by 20 or more
# (small authorities move by a few periods a year without meaning anything). Council and police
# count different things (police see every report, flag looked-after children unevenly), so
# their figures must differ by more than three times to be flagged.
SHARP_RATIO, SHARP_DIFFERENCE = 2.0, 20
POLICE_RATIO = 3.0
LONDON = ZoneInfo("Europe/London")


def _check(check_id: str):
    return next(c for c in council_checks.CROSS_SUBMISSION if c.check_id == check_id)


def _sharp(a: int, b: int, ratio: float = SHARP_RATIO) -> bool:
    low, high = sorted((a, b))
    return high - low >= SHARP_DIFFERENCE and (low == 0 or high / low > ratio)


def _change(now: int, before: int) -> str:
    return f"{(now - before) / before:+.0%}" if before else "new"


def _compare(check, periods: int, other: int, values: dict, message: str,
             ratio: float = SHARP_RATIO) -> CheckResult:
    """PASS, or a WARNING showing both figures, when periods and the other figure differ
    sharply."""
    if not _sharp(periods, other, ratio):
        return CheckResult(check, "PASS", 0, 1)
    return CheckResult(check, "WARNING", 1, 1, [{"file": "missing.csv", "values": values}],
                       message)


def volume_change(conn: psycopg.Connection, gss: str, year: CollectionYear,
                  periods: int) -> CheckResult:
    """This return's missing/away periods against the authority's loaded return a year before."""
    check = _check("mfc.submission.volume_change")
    before_label = f"{year.start.year - 1}-{year.start.year % 100:02d}"
    row = conn.execute(
        "select count(*) from audit.submissions join raw.council_missing using (submission_id) "
        "where source = 'council' and authority_gss = %s and collection_year = %s "
        "and status = 'loaded'", (gss, before_label)).fetchone()
    before = row[0]
    if not before:
        return CheckResult(check, "NOT_RUN", message=f"Not run: no loaded return for "
                           f"{before_label} to compare with.")
    return _compare(
        check, periods, before, {before_label: before, year.label: periods},
        f"missing.csv has {periods:,} missing/away periods against {before:,} in "
        f"{before_label} ({_change(periods, before)}): a possible change in recording practice "
        "or an incomplete extract. Please confirm the figure, or deliver the return again.")


def replaces_most(conn: psycopg.Connection, gss: str, year: CollectionYear, periods: int,
                  confirmed: bool) -> CheckResult:
    """A return that would replace the loaded return of the same year with under half its
    periods (and 20 or more fewer) is held back: a header-only re-export must not silently
    empty a year. The authority confirms with council_checks.CONFIRM_REPLACE."""
    check = _check("mfc.submission.replaces_most")
    row = conn.execute(
        "select s.submission_id, count(m.line_no) from audit.submissions s "
        "left join raw.council_missing m using (submission_id) "
        "where s.source = 'council' and s.authority_gss = %s and s.collection_year = %s "
        "and s.status = 'loaded' group by 1", (gss, year.label)).fetchone()
    if row is None:
        return CheckResult(check, "PASS", 0, 1)
    loaded, before = row
    if periods * 2 >= before or before - periods < SHARP_DIFFERENCE:
        return CheckResult(check, "PASS", 0, 1)
    values = {f"submission {loaded} (loaded)": before, "this return": periods}
    said = (f"missing.csv has {periods:,} missing/away periods for {year.label}; the loaded "
            f"return it would replace (submission {loaded}) has {before:,} "
            f"({_change(periods, before)}).")
    if confirmed:
        return CheckResult(check, "WARNING", 1, 1, [{"file": "missing.csv", "values": values}],
                           f"{said} The authority confirmed the replacement "
                           f"({council_checks.CONFIRM_REPLACE}).")
    return CheckResult(check, "FAIL", 1, 1, [{"file": "missing.csv", "values": values}],
                       f"{said} {check.message}")


def police_reconciliation(conn: psycopg.Connection, gss: str, year: CollectionYear,
                          periods: int) -> CheckResult:
    """Periods returned against police incidents of the authority's looked-after children, once
    its own force's twelve months of the year are loaded (else the comparison means nothing)."""
    from mfc.geography import AuthorityRegister

    check = _check("mfc.submission.police_reconciliation")
    force = AuthorityRegister.from_seed().by_gss(gss).pfa_code
    months, incidents = conn.execute(
        """
        select (select count(distinct collection_year) from audit.submissions
                 where source = 'police' and authority_gss = %(force)s and status = 'loaded'
                   and period_start between %(start)s and %(end)s),
               (select count(*) from raw.police_incidents
                  join audit.submissions using (submission_id)
                 where status = 'loaded' and responsible_gss = %(gss)s and looked_after = 'Y'
                   and reported_missing >= %(start)s and reported_missing < %(end)s::date + 1)
        """, {"gss": gss, "force": force, "start": year.start, "end": year.end}).fetchone()
    if months < 12:
        return CheckResult(check, "NOT_RUN", message=(
            f"Not run: {months} of the 12 months of {year.label} from the police force area "
            f"{force} are loaded; the check runs when all are."))
    return _compare(
        check, periods, incidents, {"council periods": periods, "police incidents": incidents},
        f"missing.csv has {periods:,} missing/away periods in {year.label}; police forces "
        f"recorded {incidents:,} incidents of looked-after children of this authority "
        f"({_change(periods, incidents)} against police). Please check that every period was "
        "returned.", POLICE_RATIO)


def collection_started(first_received: datetime | None) -> date | None:
    """The day the warehouse began collecting: the setting collection_started, else the UK day
    of its first received submission (None: nothing received yet)."""
    configured = config.collection_started()
    if configured is not None:
        return configured
    return first_received.astimezone(LONDON).date() if first_received else None


def first_received(conn: psycopg.Connection) -> datetime | None:
    return conn.execute("select min(received_at) from audit.submissions").fetchone()[0]


def backfilled(year: CollectionYear, started: date | None) -> bool:
    """A year whose deadline fell before the warehouse began collecting: its returns came in
    as a backfill, never late, and a missing one is not overdue."""
    return started is not None and deadline(year) < started


def received_late(received_at: datetime, year: CollectionYear, started: date | None) -> bool:
    """Received by the warehouse after the deadline (a UK date), and not a backfill."""
    return (not backfilled(year, started)
            and received_at.astimezone(LONDON).date() > deadline(year))


def late(conn: psycopg.Connection, received_at: datetime, year: CollectionYear) -> CheckResult:
    """Judged on when the warehouse received the return (audit.submissions.received_at, set at
    registration), not on the files' modification times: a file copied or re-exported keeps or
    loses its date by accident, and a backfilled historic year is not late. conn: the
    warehouse, for when it began collecting (mfc check: the configured one; the return itself
    was received just now)."""
    check = _check("mfc.submission.late")
    due = deadline(year)
    started = collection_started(first_received(conn))
    if backfilled(year, started):
        return CheckResult(check, "PASS", 0, 1, message=(
            f"Not late: the deadline of {due:%d/%m/%Y} fell before the warehouse began "
            f"collecting returns on {started:%d/%m/%Y}; {year.label} was backfilled."))
    received = received_at.astimezone(LONDON)  # the deadline is a UK date
    if not received_late(received_at, year, started):
        return CheckResult(check, "PASS", 0, 1)
    return CheckResult(check, "WARNING", 1, 1,
                       [{"file": "", "values": {"received": f"{received:%d/%m/%Y}"}}],
                       f"Received on {received:%d/%m/%Y}, after the deadline of "
                       f"{due:%d/%m/%Y}.")


def not_superseded() -> CheckResult:
    return CheckResult(_check("mfc.submission.superseded"), "PASS", 0, 1)


def mark_superseded(conn: psycopg.Connection, submission_id: int, run_id: str,
                    loaded: bool) -> list[int]:
    """Warn on every earlier submission a later one replaces; return their ids. Any later
    delivery replaces a quarantined one (it is the authority's newer attempt; the earlier
    results stay in dq); only a loaded one replaces loaded data (mfc.pipeline.settle did that)."""
    from mfc import gates

    earlier = conn.execute(
        """
        update audit.submissions earlier
           set status = 'superseded', superseded_by = %(sid)s, status_changed_at = now()
          from audit.submissions later
         where later.submission_id = %(sid)s and earlier.source = later.source
           and earlier.authority_gss = later.authority_gss
           and earlier.collection_year = later.collection_year
           and earlier.submission_id < later.submission_id
           and (earlier.status = 'quarantined'
                or %(loaded)s and earlier.status = 'superseded'
                   and earlier.superseded_by = %(sid)s)
        returning earlier.submission_id, later.delivered_at
        """, {"sid": submission_id, "loaded": loaded}).fetchall()
    check = _check("mfc.submission.superseded")
    for sid, delivered_at in earlier:
        when = f", delivered {delivered_at:%d/%m/%Y}" if delivered_at else ""
        result = CheckResult(check, "WARNING", 1, 1, [{"file": "", "values": {
            "superseded by": submission_id}}],
            f"Replaced by submission {submission_id}{when}"
            + ("; that one is the authority's return for the year now." if loaded else
               ", which was not loaded either: see its report."))
        conn.execute("delete from dq.check_results where submission_id = %s and run_id = %s "
                     "and check_id = %s", (sid, run_id, check.check_id))
        gates.store(conn, sid, run_id, [result])
    return [sid for sid, _ in earlier]
