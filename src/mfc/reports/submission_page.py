"""One submission's report (reports/<authority>/<submission_id>/index.html), for the data team
that sent it: the outcome first, then what failed with the rows to fix, then context."""

from __future__ import annotations

from datetime import date

from expectations import aggregate as aggregate_checks
from expectations import council as council_checks
from expectations import police as police_checks
from mfc.kinds import kind
from mfc.reports import html
from mfc.reports.facts import Changes, CheckOutcome, Names, Submission, Warehouse
from mfc.reports.html import Bar, link, table
from mfc.returns.council import CollectionYear

RESULTS = ("FAIL", "WARNING", "NOT_RUN", "PASS")
MONTHS_CHARTED = 24  # a force's chart: the two years up to the month reported on


def render(s: Submission, warehouse: Warehouse, names: Names) -> str:
    name = names.of(s)
    code = s.authority_gss or "not a recognised code"
    title = f"Data-quality report: {name} ({code}), {_what(s)}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p>{link("../../index.html", "All returns")} · '
        f'{link("failing_rows.csv", "Every failing row as CSV (failing_rows.csv)")}</p>',
        _summary(s, name, code),
        _failures(s),
        _not_run(s),
        _changes(warehouse.changes(s)),
        _history(s, warehouse),
        _passed(s),
    ]
    return html.page(title, "\n".join(part for part in sections if part))


def _what(s: Submission) -> str:
    return f"{kind(s.source).label} {s.collection_year}"


def outcome(s: Submission, warehouse: Warehouse | None = None) -> str:
    """The submission's fate in words."""
    if s.status == "quarantined":
        failed = s.blocking_failures()
        ids = ", ".join(c.check_id for c in failed)
        return (f"Not loaded: {len(failed)} blocking check(s) failed ({ids})." if failed
                else "Not loaded: quarantined.")
    if s.status == "superseded":
        failed = s.blocking_failures()
        why = (f"Not loaded: {len(failed)} blocking check(s) failed "
               f"({', '.join(c.check_id for c in failed)}). " if failed else "")
        return f"{why}Superseded by submission {s.superseded_by}: that return is used instead."
    if s.status == "loaded" and s.release:
        who, when, why = s.release
        failed = ", ".join(c.check_id for c in s.blocking_failures())
        return (f"Loaded with its failures ({failed or 'none'}): released from quarantine by "
                f"{who} on {html.when(when)}, because: {why}")
    if s.status == "loaded":
        warnings = s.count("WARNING")
        return "Loaded." + (f" {warnings} check(s) gave a warning." if warnings else "")
    return "Received, not checked yet."


def _summary(s: Submission, name: str, code: str) -> str:
    files = ", ".join(f.file_name for f in s.files) or "none"
    period = (f"{s.period_start:%d %B %Y} to {s.period_end:%d %B %Y}"
              if s.period_start and s.period_end else "not recognised")
    superseded = ""
    if s.superseded_by:
        superseded = " " + link(f"../{s.superseded_by}/index.html",
                                f"See submission {s.superseded_by}.")
    facts = table(None, [
        ("Returned by", f"{name} ({code}); folder as delivered: {s.authority_as_delivered}"),
        ("Return", f"{s.source}, {s.collection_year} ({period})"),
        ("Files", files),
        ("Delivered", html.when(s.delivered_at)),
        ("Received", html.when(s.received_at)),
        ("Submission", str(s.submission_id)),
        ("Status", s.status),
    ], css_class="facts")
    counts = ", ".join(f"{s.count(r)} {r}" for r in ("PASS", "WARNING", "FAIL", "NOT_RUN"))
    return (f'<section id="summary"><h2>Summary</h2>'
            f'<p id="outcome" class="outcome {s.status}">{html.escape(outcome(s))}'
            f"{superseded}</p>{facts}<p id=\"check-counts\">Checks: {counts}.</p></section>")


def _ordered(s: Submission, result: str) -> list[CheckOutcome]:
    order = ("file", "structure", "content", "cross-table", "cross-submission")
    return sorted((c for c in s.checks.values() if c.result == result),
                  key=lambda c: (order.index(c.stage), c.check_id))


def _failures(s: Submission) -> str:
    checks = _ordered(s, "FAIL") + _ordered(s, "WARNING")
    if not checks:
        return '<section id="failures"><h2>Failed checks and warnings</h2><p>None.</p></section>'
    parts = ['<section id="failures"><h2>Failed checks and warnings</h2>']
    for check in checks:
        rows = (f"{check.unexpected_count} failing row(s)" if check.unexpected_count is not None
                else "failing rows not counted")
        if check.checked_count is not None:
            rows += f" of {check.checked_count} checked"
        shown = (f" The first {len(check.examples)} are below; failing_rows.csv has them all."
                 if check.unexpected_count and check.unexpected_count > len(check.examples)
                 else "")
        parts.append(
            f'<article class="check {check.result}" id="check-{html.escape(check.check_id)}">'
            f"<h3>{html.escape(check.check_id)}: {check.result}</h3>"
            f"<p>Stage {check.stage}, severity {check.severity}; {rows}.{shown}</p>"
            f'<p class="message">{html.escape(check.message)}</p>'
            f"{_examples(check)}</article>")
    parts.append("</section>")
    return "".join(parts)


_CATALOGUE_COLUMNS = {c.check_id: c.columns
                      for c in (*council_checks.ALL, *police_checks.ALL, *aggregate_checks.ALL)}


def _examples(check: CheckOutcome) -> str:
    if not check.examples:
        return ""
    columns: list[str] = []
    for example in check.examples:
        columns += [c for c in example.get("values", {}) if c not in columns]
    # Stored examples are JSON objects, which keep no order: show the check's own order.
    order = _CATALOGUE_COLUMNS.get(check.check_id, ())
    columns.sort(key=lambda c: order.index(c) if c in order else len(order))
    problem = any("problem" in e for e in check.examples)
    header = ["File", "Line", *columns, *(["Problem"] if problem else [])]
    rows = []
    for example in check.examples:
        values = example.get("values", {})
        line = example.get("line")
        rows.append([example.get("file"), line if line is not None else "whole file",
                     *(values.get(c) for c in columns),
                     *([example.get("problem")] if problem else [])])
    return table(header, rows, css_class="examples")


def _not_run(s: Submission) -> str:
    checks = _ordered(s, "NOT_RUN")
    if not checks:
        return ""
    items = "".join(f"<li><strong>{html.escape(c.check_id)}</strong>: "
                    f"{html.escape(c.message)}</li>" for c in checks)
    return f'<section id="not-run"><h2>Checks not run</h2><ul>{items}</ul></section>'


def _passed(s: Submission) -> str:
    checks = _ordered(s, "PASS")
    items = "".join(f"<li>{html.escape(c.check_id)}</li>" for c in checks) or "<li>None.</li>"
    return (f'<section id="passed"><h2>Checks passed ({len(checks)})</h2>'
            f'<ul class="passed">{items}</ul></section>')


def _changes(changes: Changes | None) -> str:
    if changes is None:
        return ""
    before = changes.before
    heading = f"What changed since submission {before.submission_id}"
    earlier = link(f"../{before.submission_id}/index.html", str(before.submission_id))
    files = ([(name, "changed") for name in changes.files_changed]
             + [(name, "added") for name in changes.files_added]
             + [(name, "removed") for name in changes.files_removed])
    parts = [f'<section id="changes"><h2>{heading}</h2>',
             f"<p>Submission {earlier} was {before.status}.</p>",
             "<h3>Files</h3>",
             table(("File", "Change"), files, css_class="files-changed") if files
             else "<p>The same files with the same contents.</p>",
             "<h3>Rows per table</h3>",
             table(("Table", "Before", "Now"),
                   [(t, b if b is not None else "not read", a if a is not None else "not read")
                    for t, (b, a) in changes.rows.items()]),
             "<h3>Checks whose result changed</h3>",
             table(("Check", "Before", "Now"),
                   [(c, b or "not run then", a or "not run now") for c, b, a in changes.results],
                   css_class="results-changed") if changes.results
             else "<p>Every check has the same result.</p>"]
    if changes.periods_added is not None:
        parts.append(f'<p id="periods-changed">Missing/away periods (compared on child, start and '
                     f"end date): {changes.periods_added} added, {changes.periods_removed} "
                     "removed.</p>")
    else:
        parts.append("<p>Periods added and removed are compared only when both returns were "
                     "loaded.</p>")
    parts.append("</section>")
    return "".join(parts)


def _history(s: Submission, warehouse: Warehouse) -> str:
    if s.source == "council":
        return _council_history(s, warehouse)
    if s.source == "police":
        return _force_history(s, warehouse)
    return ""


def _note(s: Submission) -> str:
    return "this return" if s.status == "loaded" else f"this return, {s.status}"


def _council_history(s: Submission, warehouse: Warehouse) -> str:
    """Missing/away periods per collection year: the returns in use, and this one."""
    shown = [x for x in warehouse.loaded("council", s.authority_gss) if x is not s]
    shown = sorted([*shown, s], key=lambda x: (x.collection_year, x is s))

    def periods(x: Submission) -> int | None:
        # Rows in raw when it was loaded; else the rows the gate counted in missing.csv.
        return warehouse.council_missing.get(x.submission_id, x.rows_by_table().get("missing"))

    bars = [Bar(x.collection_year, periods(x), _note(x) if x is s else "", x is s)
            for x in shown]
    chart = html.bar_chart(bars, "Missing/away periods returned, by collection year")
    rows = []
    for x, bar in zip(shown, bars, strict=True):
        try:
            year = CollectionYear.parse(x.collection_year)
        except ValueError:
            continue
        rows.append(_reconcile(year.label, year.start, year.end, bar, s.authority_gss,
                               warehouse))
    reconciliation = table(
        ("Collection year", "Council missing/away periods",
         "Police incidents: looked after, this authority responsible",
         "Police months returned", "Police incidents per council period"),
        rows, css_class="reconciliation") if rows else "<p>No collection year to compare.</p>"
    return (f'<section id="history"><h2>Missing/away periods by collection year</h2>'
            f"<p>Returns in use for this authority, and this return (marked in red).</p>"
            f"{chart}</section>"
            f'<section id="reconciliation"><h2>Compared with police returns</h2>'
            f"<p>Incidents that police forces reported with LOOKED_AFTER Y and this authority as "
            f"RESPONSIBLE_LA, in the same year (1 April to 31 March). Forces flag looked-after "
            f"children incompletely, so fewer police incidents than council periods is usual; "
            f"many more is worth a look.</p>{reconciliation}</section>")


def _reconcile(label: str, start: date, end: date, bar: Bar, gss: str | None,
               warehouse: Warehouse) -> tuple[object, ...]:
    months = warehouse.police_months_covered(start, end)
    council = bar.value
    name = f"{label} ({bar.note})" if bar.note else label
    if months == 0:
        return (name, council, "no police returns cover this period", "0 of 12", "-")
    police = warehouse.looked_after.get((gss, label), 0) if gss else 0
    ratio = f"{police / council:.2f}" if council else "-"
    return (name, council, police, f"{months} of 12", ratio)


def _force_history(s: Submission, warehouse: Warehouse) -> str:
    """The force's incidents per month: the months in use, and this one."""
    shown = [x for x in warehouse.loaded("police", s.authority_gss) if x is not s]
    shown = sorted([*shown, s], key=lambda x: (x.collection_year, x is s))
    at = shown.index(s)
    shown = shown[max(0, at - MONTHS_CHARTED + 1):at + 1]
    bars = [Bar(x.collection_year,
                warehouse.police_incidents.get(x.submission_id,
                                               x.rows_by_table().get("incidents")),
                _note(x) if x is s else "", x is s) for x in shown]
    return (f'<section id="history"><h2>Incidents by month</h2>'
            f"<p>This force's months in use up to this one, and this file (marked in red).</p>"
            f"{html.bar_chart(bars, 'Incidents returned, by month')}</section>")

