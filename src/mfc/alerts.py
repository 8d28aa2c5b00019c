"""Telling the operator on call: a failed task of the nightly run, or a run stopped because it
missed its deadline, sends a short message to a webhook (a chat channel's incoming webhook, a
paging service; MFC_ALERT_WEBHOOK) and, when [smtp] is set, by email. An Airflow notifier, so the
DAG attaches it as any other; it never fails the task it reports on.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from mfc import config

log = logging.getLogger(__name__)

WEBHOOK_ENV = "MFC_ALERT_WEBHOOK"


def message(context: dict[str, Any]) -> dict[str, Any]:
    """What the operator needs at 2 a.m.: which run, which task, what went wrong."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    error = context.get("exception")
    run_id = context.get("run_id") or getattr(ti, "run_id", None) or getattr(dag_run, "run_id",
                                                                             None)
    task_id = getattr(ti, "task_id", None)
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None) or "mfc_nightly"
    if context.get("reason") == "timed_out":  # the run's deadline (dagrun_timeout)
        during = f" during {task_id}" if task_id else ""
        what = f"the run missed its deadline and was stopped{during}; analysts still read the " \
               "last good marts"
    elif ti is None:
        what = f"the run failed ({context.get('reason') or 'see its tasks'})"
    else:
        what = f"task {task_id} failed: " \
               f"{str(error).splitlines()[0] if error else 'see its log'}"
    return {
        "text": f"{dag_id} {run_id}: {what}",
        "dag_id": dag_id, "run_id": run_id, "task_id": task_id,
        "try_number": getattr(ti, "try_number", None),
        "reason": context.get("reason"),
        "error": str(error) if error else None,
    }


class AlertNotifier(BaseNotifier):
    """Send the failure wherever the settings say (read when it fires, so a change needs no
    redeploy): the webhook as JSON, the mail server as an email; with neither, only the log."""

    def notify(self, context: dict[str, Any]) -> None:
        body = message(context)
        webhook, mail = config.alert_webhook(), config.smtp()
        if not webhook and not mail:
            log.info("no alert webhook or mail server set: not sent: %s", body["text"])
        if webhook:
            _post(webhook, body)
        if mail:
            _email(mail, body)


class DeadlineNotifier(AlertNotifier):
    """For the run as a whole: only a run stopped at its deadline. A run that failed because a
    task did has already been reported by that task."""

    def notify(self, context: dict[str, Any]) -> None:
        if context.get("reason") == "timed_out":
            super().notify(context)


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as err:  # an alert that cannot be sent must not hide the failure
        log.error("the alert could not be sent to %s (%s): %s", WEBHOOK_ENV, err, body["text"])


def _email(mail: config.Smtp, body: dict[str, Any]) -> None:
    email = EmailMessage()
    email["Subject"] = body["text"][:200]
    email["From"] = mail.sender
    email["To"] = ", ".join(mail.recipients)
    email.set_content(json.dumps(body, indent=2))
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=10) as server:
            server.send_message(email)
    except (OSError, smtplib.SMTPException) as err:
        log.error("the alert could not be emailed through %s:%s (%s): %s", mail.host, mail.port,
                  err, body["text"])
