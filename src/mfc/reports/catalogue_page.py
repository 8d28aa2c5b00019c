"""reports/checks/index.html: the check catalogue, every check the gate runs, per return kind.

For each check: its id, stage and severity, what is wrong (its message, DfE's wording for a DfE
rule), how to fix it (expectations.fixes), and what Great Expectations runs for it (the
expectation's type and settings; the SQL of a query check, folded in a <details>), or that the
gate checks it in Python. Rendered by Jinja2 from the catalogue itself (expectations/), offline
like every report page: one file, inline CSS, nothing fetched. It replaces GX's own Data Docs,
which load their scripts and styles from a CDN (blank on the warehouse's offline machines).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mfc.reports import html

if TYPE_CHECKING:
    from expectations.checks import Check

FOLDER = "checks"  # under reports/
STAGES = ("file", "structure", "content", "cross-table", "cross-submission")


def catalogues() -> dict[str, tuple[Check, ...]]:
    """Each return kind's checks (by audit.submissions.source), in the order the gate runs
    them."""
    from expectations import aggregate, council, police

    return {"council": council.ALL, "police": police.ALL, "aggregate": aggregate.ALL}


@dataclass(frozen=True)
class Entry:
    check: Check
    fix: str
    runs: str | None            # the GX expectation's type; None: the gate checks it in Python
    settings: list[tuple[str, str]]   # the expectation's settings, the query aside
    query: str | None           # the SQL a query check runs


@dataclass(frozen=True)
class Section:
    source: str
    heading: str
    entries: list[Entry]


def _entry(check: Check) -> Entry:
    if not (check.build or check.query):
        return Entry(check, check.fix, None, [], None)
    expectation = check.expectation()
    settings = [(k, _setting(v)) for k, v in expectation.configuration.kwargs.items()
                if k != "unexpected_rows_query"]
    query = textwrap.dedent(check.query).strip() if check.query else None
    return Entry(check, check.fix, expectation.expectation_type, settings, query)


def _setting(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return str(value)


def sections() -> list[Section]:
    from mfc.kinds import KINDS

    labels = {k.source: k.label for k in KINDS}
    return [Section(source, f"{labels.get(source, source).capitalize()}s",
                    [_entry(c) for c in sorted(
                        checks, key=lambda c: STAGES.index(c.stage) if c.stage in STAGES
                        else len(STAGES))])
            for source, checks in catalogues().items()]


def render() -> str:
    return html.render("checks.html", title="The checks behind the gate", sections=sections())


def build(out: Path) -> Path:
    """Write the catalogue page into out (out/index.html, replaced whole); return its path."""
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    partial = page.with_name(f".{page.name}.partial")
    partial.write_text(render(), encoding="utf-8")
    partial.replace(page)
    return page
