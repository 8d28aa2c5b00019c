"""Telling the operator on call: a failed task of the nightly run posts a short JSON message to
a webhook (a chat channel's incoming webhook, a paging service), MFC_ALERT_WEBHOOK. An Airflow
notifier, so the DAG attaches it as any other; it never fails the task it reports on.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger(__name__)

WEBHOOK_ENV = "MFC_ALERT_WEBHOOK"


def message(context: dict[str, Any]) -> dict[str, Any]:
    """What the operator needs at 2 a.m.: which run, which task, what went wrong."""
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    run_id = context.get("run_id") or getattr(ti, "run_id", None)
    task_id = getattr(ti, "task_id", None)
    return {
        "text": f"mfc_nightly {run_id}: task {task_id} failed: "
                f"{str(error).splitlines()[0] if error else 'see its log'}",
        "dag_id": getattr(ti, "dag_id", "mfc_nightly"), "run_id": run_id, "task_id": task_id,
        "try_number": getattr(ti, "try_number", None),
        "error": str(error) if error else None,
    }


class WebhookNotifier(BaseNotifier):
    """POST the failure as JSON to the webhook the environment names (read when it fires, so a
    change needs no redeploy); without one, only the log says it."""

    def notify(self, context: dict[str, Any]) -> None:
        url = os.environ.get(WEBHOOK_ENV)
        body = message(context)
        if not url:
            log.info("no %s set: not sent: %s", WEBHOOK_ENV, body["text"])
            return
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except OSError as err:  # an alert that cannot be sent must not hide the failure
            log.error("the alert could not be sent to %s (%s): %s", WEBHOOK_ENV, err,
                      body["text"])
