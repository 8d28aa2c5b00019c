"""Data-quality reports: a page and a CSV of failing rows for every submission, a national page,
and the check catalogue.

    reports/index.html                                  every return and its status
    reports/<authority>/<submission_id>/index.html      one submission's report
    reports/<authority>/<submission_id>/failing_rows.csv  (safe to open in a spreadsheet)
    reports/reported-vs-measured.html                   reported figures beside the warehouse's
    reports/checks/index.html                           the check catalogue: every check the gate
                                                        runs, how to fix it, what GX runs

Every page is one file, offline: Jinja2 templates (templates/), inline CSS, nothing fetched.

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
    catalogue_page,
    failing_rows,
    national_page,
    reported_page,
    submission_page,
)
from mfc.reports.facts import Names, Warehouse

log = logging.getLogger(__name__)


def write_all(url: str, out: Path, today: date | None = None,
              with_catalogue: bool = True) -> dict[str, int]:
    """Write every report under out; return how many of each were written. with_catalogue:
    the check catalogue too (it imports Great Expectations, seconds)."""
    out.mkdir(parents=True, exist_ok=True)
    names = Names()
    catalogue = None
    if with_catalogue:
        catalogue_page.build(out / catalogue_page.FOLDER)
        catalogue = f"{catalogue_page.FOLDER}/index.html"
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
                   national_page.render(warehouse, names, today or date.today(), catalogue,
                                        reported_page.FILE if compared else None))
    counts = {"submission_reports": len(warehouse.submissions), "national_pages": 1,
              "reported_pages": int(compared is not None), "check_catalogues": int(with_catalogue)}
    log.info("wrote %d submission report(s) and the national page to %s",
             counts["submission_reports"], out)
    return counts


def write_text(path: Path, content: str) -> None:
    """Replace path whole: write beside it, then rename."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(content, encoding="utf-8")
    partial.replace(path)
