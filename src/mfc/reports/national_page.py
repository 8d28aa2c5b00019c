"""reports/index.html: every return, its latest submission and status, one table per source; and
the councils in England that have not returned a year others have."""

from __future__ import annotations

from datetime import date
from html import escape

from mfc.kinds import KINDS
from mfc.pipeline import ReturnKind
from mfc.reports import html
from mfc.reports.facts import Names, Submission, Warehouse
from mfc.reports.html import link, table
from mfc.returns.council import CollectionYear, deadline

HEADER = ("Latest submission", "Status", "Failed checks", "Warnings")


def render(warehouse: Warehouse, names: Names, today: date, data_docs: str | None,
           reported: str | None = None) -> str:
    latest = warehouse.latest()
    docs = (f"<p>The checks themselves, as Great Expectations suites: "
            f"{link(data_docs, 'Data Docs')}.</p>" if data_docs else "")
    body = [
        "<h1>Data-quality reports: every return</h1>",
        f"<p>As of {today:%d %B %Y}. Each submission links to its report: what was checked, "
        "what failed, and every failing row as CSV. Latest submission of each return shown.</p>",
        docs,
    ]
    # A section per return kind: the three known ones as their teams read them, any other in
    # a plain table of its submissions.
    sections = {"council": lambda: _council(latest, warehouse, names, today),
                "police": lambda: _police(latest, names),
                "aggregate": lambda: _aggregate(latest, reported)}
    for kind in KINDS:
        body.append(sections.get(kind.source, lambda kind=kind: _other(kind, latest))())
    return html.page("Data-quality reports", "\n".join(body))


def _other(kind: ReturnKind, latest: list[Submission]) -> str:
    files = sorted((s for s in latest if s.source == kind.source),
                   key=lambda s: (s.authority_as_delivered, s.collection_year))
    lines = [[escape(s.authority_as_delivered), escape(s.collection_year), *_cells(s)]
             for s in files]
    return (f'<section id="{escape(kind.source)}"><h2>{escape(kind.label.capitalize())}s</h2>'
            + (table(("Delivered as", "Period", *HEADER), lines, raw=True, css_class="returns")
               if lines else f"<p>No {escape(kind.label)}s yet.</p>")
            + "</section>")


def _cells(s: Submission) -> list[str]:
    return [link(s.link, f"submission {s.submission_id}"), escape(s.status),
            str(s.count("FAIL")), str(s.count("WARNING"))]


def _council(latest: list[Submission], warehouse: Warehouse, names: Names, today: date) -> str:
    returned = [s for s in latest if s.source == "council"]
    rows = [(s.collection_year, names.of(s), s.authority_gss or "not recognised", s)
            for s in returned]
    years = {s.collection_year: s.period_end for s in warehouse.submissions
             if s.source == "council" and s.period_end}
    have = {(s.collection_year, s.authority_gss) for s in returned}
    missing: list[tuple[str, str, str, str]] = []
    for year, year_end in years.items():
        due = deadline(CollectionYear.parse(year))
        status = (f"overdue (due {due:%d %B %Y})" if today > due
                  else f"not returned yet (due {due:%d %B %Y})")
        missing += [(year, a.name, a.gss_code, status) for a in names.register
                    if a.country == "England" and a.in_force_on(year_end)
                    and (year, a.gss_code) not in have]
    lines = []
    # Within a year, what came in first, then who has not returned.
    for year, name, code, what in sorted([*rows, *missing], key=lambda r: (
            r[0], not isinstance(r[3], Submission), r[1])):
        cells = _cells(what) if isinstance(what, Submission) else ["-", escape(what), "", ""]
        lines.append([escape(year), escape(name), escape(code), *cells])
    summary = "".join(
        f"<li>{escape(year)}: {sum(r[0] == year for r in rows)} returned, "
        f"{sum(m[0] == year for m in missing)} councils in England have not returned.</li>"
        for year in sorted(years))
    return ('<section id="council"><h2>Council returns</h2>'
            + (f"<ul>{summary}</ul>" if summary else "")
            + (table(("Collection year", "Authority", "Code", *HEADER), lines, raw=True,
                     css_class="returns") if lines else "<p>No council returns yet.</p>")
            + "</section>")


def _police(latest: list[Submission], names: Names) -> str:
    files = sorted((s for s in latest if s.source == "police"),
                   key=lambda s: (names.of(s), s.collection_year))
    lines = [[escape(names.of(s)), escape(s.authority_gss or "not recognised"),
              escape(s.collection_year), *_cells(s)] for s in files]
    return ('<section id="police"><h2>Police returns</h2>'
            + (table(("Force", "Code", "Month", *HEADER), lines, raw=True, css_class="returns")
               if lines else "<p>No police returns yet.</p>")
            + "</section>")


def _aggregate(latest: list[Submission], reported: str | None) -> str:
    files = sorted((s for s in latest if s.source == "aggregate"),
                   key=lambda s: (s.authority_as_delivered, s.collection_year))
    lines = [[escape(s.authority_as_delivered),
              escape(", ".join(f.file_name for f in s.files)), *_cells(s)] for s in files]
    compared = (f"<p>Each figure beside the warehouse's own count of the same thing: "
                f"{link(reported, 'reported figures beside the warehouse')}.</p>"
                if reported else "")
    return ('<section id="aggregate"><h2>Aggregate figures</h2>' + compared
            + (table(("Source", "File", *HEADER), lines, raw=True, css_class="returns")
               if lines else "<p>No aggregate figures yet.</p>")
            + "</section>")
