"""Releasing a quarantined submission (`mfc release`): an operator decides that a return which
can no longer be corrected at source (a historic year, a council that has merged) is better
loaded with its failures than lost. Who, when, why and what it had failed are kept in
audit.releases; the submission is gated again at once and loads with its failures still FAIL
in dq, in its report and in the marts (fct_missing_incidents.from_released_return).
"""

from __future__ import annotations

import getpass

import psycopg

from mfc import config
from mfc.kinds import kind
from mfc.pipeline import Outcome, gate_and_load_batch, set_status


def release(url: str, submission_id: int, reason: str) -> Outcome:
    """Record the release and gate the submission again; its outcome (loaded, or still
    quarantined when its rows cannot be stored, with the reason in audit.releases)."""
    if not reason.strip():
        raise config.ConfigurationError("give the reason for the release (--reason TEXT): it "
                                        "is kept with the submission for good")
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("select source, status from audit.submissions "
                             "where submission_id = %s", (submission_id,)).fetchone()
        if found is None:
            raise config.ConfigurationError(f"there is no submission {submission_id}")
        source, status = found
        if status != "quarantined":
            raise config.ConfigurationError(
                f"submission {submission_id} is {status}: only a quarantined submission can "
                "be released")
        with conn.transaction():
            failed = conn.execute(
                "select coalesce(array_agg(check_id order by check_id), '{}') "
                "from dq.check_results where submission_id = %s and result = 'FAIL'",
                (submission_id,)).fetchone()[0]
            conn.execute(
                "insert into audit.releases (submission_id, released_by, reason, failed_checks) "
                "values (%s, %s || ' (' || current_user || ')', %s, %s) "
                "on conflict (submission_id) do update set released_by = excluded.released_by, "
                "released_at = now(), reason = excluded.reason, outcome = null",
                (submission_id, getpass.getuser(), reason.strip(), failed))
            # The gate runs again and stores its results afresh: the same failures, flagged.
            conn.execute("delete from dq.failing_rows where submission_id = %s",
                         (submission_id,))
            conn.execute("delete from dq.check_results where submission_id = %s",
                         (submission_id,))
            set_status(conn, submission_id, "received")
    [outcome] = gate_and_load_batch(url, kind(source), [submission_id],
                                    f"release-{submission_id}")
    return outcome
