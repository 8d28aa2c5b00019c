"""reports/index.html: every return and where each returning authority stands, worst first.

Council returns are counted per collection year as returned (loaded), quarantined, awaiting
checks, overdue, or not due (the deadline has not passed, or fell before the warehouse began
collecting: a backfilled year); each authority gets a traffic light, shown as a colour and a
word: red (quarantined or overdue), amber (loaded but late, with warnings, released from
quarantine, or with a newer return quarantined or awaiting checks), green (loaded, nothing to
say), grey (nothing due, or awaiting checks). Police months and aggregate figures follow,
through the same template (templates/national.html).

Lateness is judged on when the warehouse received the return (audit.submissions.received_at),
the same way the gate's mfc.submission.late judges it (mfc.cross_submission).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from mfc import config
from mfc.cross_submission import backfilled, collection_started, received_late
from mfc.kinds import KINDS
from mfc.reports import html
from mfc.reports.facts import Names, Submission, Warehouse
from mfc.reports.html import Bar
from mfc.returns.council import CollectionYear, deadline

# Worst first: the order rows take by default, and the sort key of the status column.
LIGHTS = ("red", "amber", "green", "grey")
# Checks the page judges for itself, so not counted as the return's warnings: lateness from
# received_at (a stored result may be from the files' dates, before issue 15), and the warning
# an older submission gets when a newer one replaces it.
OWN_JUDGEMENT = {"mfc.submission.late", "mfc.submission.superseded"}
PENDING = ("received", "gated")
# What a council's return for a year counts as, in the order the counts are shown.
COUNTED = ("returned", "quarantined", "awaiting checks", "overdue", "not due")
MONTHS_NAMED = 3  # a force's status names this many months, then "and N more"


@dataclass(frozen=True)
class State:
    """One return (an authority's year, a force's month, an aggregate file) as the page shows
    it: a light, a word, a detail, and what it counts as."""

    light: str
    word: str
    counted: str
    detail: str = ""
    submission: Submission | None = None
    late: bool = False

    @property
    def rank(self) -> int:
        return LIGHTS.index(self.light)


@dataclass
class Row:
    """One returning body: its worst state, and its states by period (or a single one)."""

    name: str
    code: str
    states: dict[str, State] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def light(self) -> str:
        return min((s for s in self.states.values()), key=lambda s: s.rank).light

    @property
    def rank(self) -> int:
        return LIGHTS.index(self.light)

    def status(self, limit: int | None = None) -> str:
        """The light and why, e.g. 'Red: overdue (2023-24); quarantined (2022-23)'."""
        worst = [(period, s) for period, s in self.states.items() if s.light == self.light]
        if self.light in ("green", "grey"):
            words = sorted({s.word for _, s in worst})
            return f"{self.light.capitalize()}: {', '.join(words)}"
        by_word: dict[str, list[str]] = defaultdict(list)
        for period, s in worst:
            by_word[s.word].append(period)
        parts = []
        for word, periods in by_word.items():
            shown = periods if limit is None or len(periods) <= limit else periods[:limit]
            more = f" and {len(periods) - len(shown)} more" if len(shown) < len(periods) else ""
            named = ", ".join(p for p in shown if p)
            parts.append(f"{word} ({named}{more})" if named else word)
        return f"{self.light.capitalize()}: {'; '.join(parts)}"


def state_of(versions: Sequence[Submission], late: str = "") -> State:
    """The state of one return from its submissions (oldest first); late: when it was received
    after its deadline, the dates that say so."""
    latest = versions[-1]
    loaded = [s for s in versions if s.status == "loaded"]
    if loaded:
        newer = [s for s in versions if s.submission_id > loaded[-1].submission_id]
        warnings = sum(c.result == "WARNING" for c in loaded[-1].checks.values()
                       if c.check_id not in OWN_JUDGEMENT)
        if any(s.status in PENDING for s in newer):
            return State("amber", "loaded, newer return awaiting checks", "returned", late,
                         submission=latest, late=bool(late))
        if any(s.status == "quarantined" for s in newer):
            return State("amber", "loaded, newer return quarantined", "returned", late,
                         submission=latest, late=bool(late))
        if loaded[-1].release:
            return State("amber", "loaded, released from quarantine", "returned", late,
                         submission=latest, late=bool(late))
        if late:
            return State("amber", "late", "returned", late, submission=latest, late=True)
        if warnings:
            return State("amber", "warnings", "returned", f"{warnings} warning(s)",
                         submission=latest)
        return State("green", "loaded", "returned", submission=latest)
    if latest.status in PENDING:
        return State("grey", "awaiting checks", "awaiting checks", submission=latest)
    failed = len(latest.blocking_failures())
    return State("red", "quarantined", "quarantined",
                 f"{failed} blocking check(s) failed" if failed else "", submission=latest)


def _missing(year: CollectionYear, today: date, started: date | None) -> State:
    """Nothing received for the year (its deadline is in the counts by year)."""
    due = deadline(year)
    if backfilled(year, started):
        return State("grey", "not due", "not due", "before collection began")
    if today > due:
        return State("red", "overdue", "overdue")
    return State("grey", "not due", "not due", "deadline not passed")


def _worst_first(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r.rank, r.name, r.code))


@dataclass
class Council:
    years: list[str]
    rows: list[Row]
    counts: dict[str, dict[str, int]]   # year -> counted -> authorities
    late: dict[str, int]                # year -> returns received after the deadline
    deadlines: dict[str, str]           # year -> the deadline, and whether it counts
    bars: list[Bar]

    @property
    def counts_rows(self) -> list[tuple[object, ...]]:
        return [(year, self.deadlines[year], self.counts[year]["returned"], self.late[year],
                 *(self.counts[year][c] for c in COUNTED[1:])) for year in self.years]


def _council(warehouse: Warehouse, names: Names, today: date,
             started: date | None) -> Council:
    returned: dict[tuple[str, str], list[Submission]] = defaultdict(list)
    for s in warehouse.submissions:
        if s.source == "council":
            returned[(s.body, s.collection_year)].append(s)
    year_ends = {s.collection_year: s.period_end for s in warehouse.submissions
                 if s.source == "council" and s.period_end}
    years = sorted(year_ends)
    rows: dict[str, Row] = {}
    for (body, year), versions in returned.items():
        if year not in year_ends:
            continue  # a year not recognised: in the section of other returns' files
        first = versions[0]
        row = rows.setdefault(body, Row(names.of(first), first.authority_gss or "not recognised"))
        parsed = CollectionYear.parse(year)
        late = (f"received {first.received_at.astimezone(html.UK):%d %B %Y}, "
                f"due {deadline(parsed):%d %B %Y}"
                if received_late(first.received_at, parsed, started) else "")
        row.states[year] = state_of(versions, late)
    for year in years:
        parsed = CollectionYear.parse(year)
        for a in names.register:
            # Councils in England return to this warehouse; Welsh ones return elsewhere.
            if a.country == "England" and a.in_force_on(year_ends[year]):
                row = rows.setdefault(a.gss_code, Row(a.name, a.gss_code))
                if year not in row.states:
                    row.states[year] = _missing(parsed, today, started)
    rows = {body: row for body, row in rows.items() if row.states}
    counts = {year: {c: sum(r.states[year].counted == c for r in rows.values()
                            if year in r.states) for c in COUNTED} for year in years}
    late = {year: sum(r.states[year].late for r in rows.values()
                      if year in r.states and r.states[year].counted == "returned")
            for year in years}
    deadlines = {}
    for year in years:
        parsed = CollectionYear.parse(year)
        due = deadline(parsed)
        deadlines[year] = (f"{due:%d %B %Y}: before collection began, not due"
                           if backfilled(parsed, started) else
                           f"{due:%d %B %Y}: passed" if today > due else
                           f"{due:%d %B %Y}: not passed yet")
    bars = [bar for year in years for bar in (
        Bar(year, counts[year]["returned"], "returned"),
        Bar(year, counts[year]["quarantined"], "quarantined", marked=True))]
    return Council(years, _worst_first(rows.values()), counts, late, deadlines, bars)


def _financial_year(s: Submission) -> str:
    month = s.period_start
    if month is None:
        return "month not recognised"
    first = month.year if month.month >= 4 else month.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


@dataclass
class Police:
    rows: list[Row]
    bars: list[Bar]


def _police(warehouse: Warehouse, names: Names) -> Police:
    months: dict[tuple[str, str], list[Submission]] = defaultdict(list)
    for s in warehouse.submissions:
        if s.source == "police":
            months[(s.body, s.collection_year)].append(s)
    rows: dict[str, Row] = {}
    per_year: dict[str, dict[str, int]] = defaultdict(lambda: {"returned": 0, "quarantined": 0})
    for (body, month), versions in sorted(months.items(), key=lambda kv: kv[0]):
        first = versions[0]
        row = rows.setdefault(body, Row(names.of(first), first.authority_gss or "not recognised"))
        state = state_of(versions)
        row.states[month] = state
        if state.counted in ("returned", "quarantined"):
            per_year[_financial_year(versions[-1])][state.counted] += 1
    for row in rows.values():
        latest = max(row.states)
        row.extra = {
            "loaded": sum(s.counted == "returned" for s in row.states.values()),
            "quarantined": sum(s.counted == "quarantined" for s in row.states.values()),
            "latest": latest, "latest_state": row.states[latest],
            "failing": [(m, s) for m, s in sorted(row.states.items()) if s.light == "red"],
        }
    bars = [bar for year in sorted(per_year) for bar in (
        Bar(year, per_year[year]["returned"], "months loaded"),
        Bar(year, per_year[year]["quarantined"], "months quarantined", marked=True))]
    return Police(_worst_first(rows.values()), bars)


def _files(warehouse: Warehouse, source: str) -> list[Row]:
    """One row per return of another kind (an aggregate file, ...): its latest submission."""
    rows = []
    for s in warehouse.latest():
        if s.source == source:
            row = Row(s.authority_as_delivered, s.collection_year)
            row.states[""] = state_of(warehouse.versions(s))
            row.extra = {"files": ", ".join(f.file_name for f in s.files)}
            rows.append(row)
    return _worst_first(rows)


def render(warehouse: Warehouse, names: Names, today: date, catalogue: str | None,
           reported: str | None = None) -> str:
    """The page as of today; catalogue and reported: links to the check catalogue and the
    reported-figures page, when written."""
    first = min((s.received_at for s in warehouse.submissions), default=None)
    started = collection_started(first)
    sections = []
    for kind in KINDS:
        if kind.source == "council":
            sections.append(("council", _council(warehouse, names, today, started)))
        elif kind.source == "police":
            sections.append(("police", _police(warehouse, names)))
        else:
            sections.append((kind.source, {"kind": kind, "rows": _files(warehouse, kind.source)}))
    return html.render("national.html", title="Data-quality reports", today=today,
                       started=started, started_set=config.collection_started() is not None,
                       catalogue=catalogue, reported=reported, sections=sections,
                       lights=LIGHTS, counted=COUNTED, months_named=MONTHS_NAMED)
