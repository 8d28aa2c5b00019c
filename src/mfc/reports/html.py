"""The reports' HTML: Jinja2 templates (src/mfc/reports/templates, autoescaped; _macros.html
has the tables and the SVG bar chart), their shared CSS, and the facts they format.

The pages are read on machines with no internet, often opened straight from a shared drive:
one file each, inline CSS, nothing fetched from anywhere (no external script, style, font or
image).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

UK = ZoneInfo("Europe/London")

STYLE = """
body { font-family: Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 70em;
       padding: 0 1em; color: #0b0c0c; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 1.6em;
     border-bottom: 2px solid #b1b4b6; } h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #b1b4b6; padding: 0.25em 0.6em; text-align: left;
         vertical-align: top; }
th { background: #f3f2f1; }
td.number { text-align: right; }
.outcome { font-size: 1.2em; font-weight: bold; padding: 0.5em 0.8em; }
.loaded { background: #cce2d8; } .quarantined, .FAIL { background: #f6d7d2; }
.superseded, .received { background: #f3f2f1; } .WARNING, .overdue { background: #fff7bf; }
.check { border-left: 5px solid #b1b4b6; padding-left: 1em; margin-bottom: 1.5em; }
.check.FAIL { border-color: #d4351c; background: none; }
.check.WARNING { border-color: #ffdd00; background: none; }
ul.passed { columns: 3; }
svg text { font-size: 13px; }
"""


def when(moment: datetime | None) -> str:
    return moment.astimezone(UK).strftime("%d %B %Y, %H:%M") if moment else "not known"


@dataclass(frozen=True)
class Bar:
    label: str          # e.g. '2023-24'
    value: int | None   # None: not counted (the file could not be read)
    note: str = ""      # e.g. 'this return, not loaded'
    marked: bool = False


@cache
def templates() -> jinja2.Environment:
    """The reports' templates; every value is escaped unless a template marks it safe."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mfc.reports", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = when
    env.filters["text"] = lambda value: "(blank)" if value is None or value == "" else value
    env.globals["style"] = Markup(STYLE)  # our own CSS, no user text
    return env


def render(template: str, **context: object) -> str:
    """A page from its template (which extends base.html and sets title)."""
    return templates().get_template(template).render(**context)


# Added for the submission page and the check catalogue (issue 15): captions read as a title
# of their table; the catalogue's wide table fits the page, its SQL wrapped.
STYLE += """
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
table.checks { width: 100%; table-layout: fixed; }
table.checks th, table.checks td { overflow-wrap: anywhere; }
table.checks col.id { width: 18%; } table.checks col.stage { width: 8%; }
table.checks col.severity { width: 8%; } table.checks col.message { width: 23%; }
table.checks col.fix { width: 23%; } table.checks col.runs { width: 20%; }
table.checks pre { white-space: pre-wrap; font-size: 0.85em; }
table.checks ul.settings { padding-left: 1.2em; margin: 0.3em 0; }
"""
