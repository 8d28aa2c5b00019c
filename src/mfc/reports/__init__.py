"""Data-quality reports: a page and a CSV of failing rows for every submission, a national page,
and Data Docs of the checks.

    reports/index.html                                  every return and its status
    reports/<authority>/<submission_id>/index.html      one submission's report
    reports/<authority>/<submission_id>/failing_rows.csv
    reports/reported-vs-measured.html                   reported figures beside the warehouse's
    reports/data-docs/index.html                        the GX suites behind the gate

<authority> is the GSS code (a force's for police), else a safe form of the folder name as
delivered. Everything is rewritten on every run; each file is replaced whole (written beside it,
then renamed), so a reader never sees half a page.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import psycopg

from mfc import faults
from mfc.reports import (
    data_docs,
    failing_rows,
    national_page,
    reported_page,
    submission_page,
)
from mfc.reports.facts import Names, Warehouse

log = logging.getLogger(__name__)


def write_all(url: str, out: Path, today: date | None = None,
              with_data_docs: bool = True) -> dict[str, int]:
    """Write every report under out; return how many of each were written."""
    out.mkdir(parents=True, exist_ok=True)
    names = Names()
    docs = None
    if with_data_docs:
        data_docs.build(out / "data-docs")
        docs = "data-docs/index.html"
    with psycopg.connect(url) as conn:
        warehouse = Warehouse(conn)
        for s in warehouse.submissions:
            folder = out / s.folder / str(s.submission_id)
            folder.mkdir(parents=True, exist_ok=True)
            write_text(folder / "index.html", submission_page.render(s, warehouse, names))
            failing_rows.write(conn, s.submission_id, folder / "failing_rows.csv")
            faults.pause_here("reports")
        compared = reported_page.render(conn)
        if compared is not None:
            write_text(out / reported_page.FILE, compared)
        write_text(out / "index.html",
                   national_page.render(warehouse, names, today or date.today(), docs,
                                        reported_page.FILE if compared else None))
    counts = {"submission_reports": len(warehouse.submissions), "national_pages": 1,
              "reported_pages": int(compared is not None), "data_docs": int(with_data_docs)}
    log.info("wrote %d submission report(s) and the national page to %s",
             counts["submission_reports"], out)
    return counts


def write_text(path: Path, content: str) -> None:
    """Replace path whole: write beside it, then rename."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(content, encoding="utf-8")
    partial.replace(path)
