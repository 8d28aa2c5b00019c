"""Disclosure control of the published table (docs/publication.md).

A cell is one count of one row: a row is (area, breakdown topic, breakdown group), its counts
are `incidents` and `children`. The rules, as DfE applies them to children looked after:
- primary: a count of 1 to 5 is `c`; the row's other count goes with it;
- national and regional counts are rounded to the nearest 10 (after primary suppression);
- secondary: local-authority rows of one breakdown add up to the authority's total (incidents
  always; children in the breakdowns that count each child once), so a single suppressed row
  could be recovered by subtraction, or two whose sum is known could be narrowed to under 5.
  More rows (the smallest first) are suppressed until `audit` finds no `c` cell whose value an
  adversary could pin within a range narrower than 5, by linear programming over every
  published figure (the breakdown sums, and an authority's incidents being at most its
  region's).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

LOCAL, REGIONAL, NATIONAL = "Local authority", "Regional", "National"
COUNTS = ("incidents", "children")
TOTAL = "Total"
# Breakdowns that count each child once: their children add up to the total's.
CHILD_BREAKDOWNS = frozenset({"Sex", "Ethnicity group", "Repeat band", "Looked after"})
SMALLEST_SHOWN = 6
ROUNDING = 10
PROTECTION = 5  # a suppressed value must not be pinned to a range narrower than this


@dataclass
class Row:
    level: str
    area: str
    region: str | None  # the region (or country) an authority's row adds into
    topic: str
    group: str
    true: dict[str, int]
    suppressed: bool = False
    reasons: set[str] = field(default_factory=set)

    @property
    def rounded(self) -> bool:
        return self.level != LOCAL

    def shown(self, count: str) -> int | None:
        """The published value; None when suppressed."""
        if self.suppressed:
            return None
        value = self.true[count]
        if self.rounded:
            return int((value + ROUNDING // 2) // ROUNDING * ROUNDING)
        return value


def equations(rows: list[Row]) -> list[tuple[str, Row, list[Row]]]:
    """Each published sum: (count, total row, the rows adding up to it)."""
    by_key: dict[tuple, list[Row]] = defaultdict(list)
    totals: dict[tuple, Row] = {}
    for row in rows:
        if row.topic == TOTAL:
            totals[(row.level, row.area)] = row
        else:
            by_key[(row.level, row.area, row.topic)].append(row)
    found = []
    for (level, area, topic), parts in by_key.items():
        total = totals.get((level, area))
        if total is None:
            continue
        found.append(("incidents", total, parts))
        if topic in CHILD_BREAKDOWNS:
            found.append(("children", total, parts))
    return found


def primary(rows: list[Row]) -> None:
    for row in rows:
        if any(0 < row.true[c] < SMALLEST_SHOWN for c in COUNTS):
            row.suppressed = True
            row.reasons.add("primary")


def _suppress_smallest(parts: list[Row], count: str) -> bool:
    """Suppress the published part with the smallest positive value; False if there is none."""
    candidates = [r for r in parts if not r.suppressed and r.true[count] > 0]
    if not candidates:
        return False
    smallest = min(candidates, key=lambda r: (r.true[count], r.group))
    smallest.suppressed = True
    smallest.reasons.add("secondary")
    return True


def secondary(rows: list[Row]) -> None:
    """Suppress local-authority rows until no sum gives a suppressed row away (see module)."""
    local = [r for r in rows if r.level == LOCAL]
    changed = True
    while changed:
        changed = False
        for count, total, parts in equations(local):
            hidden = [r for r in parts if r.suppressed]
            members = hidden + ([total] if total.suppressed else [])
            if not members:
                continue
            if len(members) == 1:
                changed |= _suppress_smallest(parts, count) or _suppress_total(total)
            elif not total.suppressed and sum(r.true[count] for r in hidden) < PROTECTION:
                changed |= _suppress_smallest(parts, count) or _suppress_total(total)


def _suppress_total(total: Row) -> bool:
    if total.suppressed:
        return False
    total.suppressed = True
    total.reasons.add("secondary")
    return True


def audit(rows: list[Row]) -> list[tuple[Row, str, float, float]]:
    """Every suppressed count whose feasible range, given all that is published, is narrower
    than PROTECTION: (row, count, lowest, highest). Empty when the table is safe."""
    from scipy.optimize import linprog

    unsafe = []
    by_region: dict[str | None, list[Row]] = defaultdict(list)
    for row in rows:
        if row.level == LOCAL:
            by_region[row.region].append(row)
    regional = {(r.area, r.topic, r.group): r for r in rows if r.level != LOCAL}
    for region, local in by_region.items():
        variables = [(r, c) for r in local for c in COUNTS if r.suppressed]
        if not variables:
            continue
        index = {(id(r), c): i for i, (r, c) in enumerate(variables)}
        equalities, bounds_eq = [], []
        for count, total, parts in equations(local):
            coefficients = [0.0] * len(variables)
            known = 0.0
            for row, sign in [(total, -1.0)] + [(p, 1.0) for p in parts]:
                if row.suppressed:
                    coefficients[index[(id(row), count)]] += sign
                else:
                    known += sign * row.true[count]
            if any(coefficients):
                equalities.append(coefficients)
                bounds_eq.append(-known)
        upper, bounds_ub = [], []
        # An authority's incidents are at most its region's (rounded: up to 4 more).
        groups: dict[tuple, list[Row]] = defaultdict(list)
        for row in local:
            groups[(row.topic, row.group)].append(row)
        for (topic, group), members in groups.items():
            whole = regional.get((region, topic, group))
            if whole is None or whole.suppressed:
                continue
            coefficients = [0.0] * len(variables)
            known = 0.0
            for row in members:
                if row.suppressed:
                    coefficients[index[(id(row), "incidents")]] = 1.0
                else:
                    known += row.true["incidents"]
            if any(coefficients):
                upper.append(coefficients)
                bounds_ub.append(whole.shown("incidents") + ROUNDING // 2 - 1 - known)
        for i, (row, count) in enumerate(variables):
            span = []
            for direction in (1.0, -1.0):
                objective = [0.0] * len(variables)
                objective[i] = direction
                result = linprog(objective, A_ub=upper or None, b_ub=bounds_ub or None,
                                 A_eq=equalities or None, b_eq=bounds_eq or None,
                                 bounds=[(0, None)] * len(variables), method="highs")
                span.append(result.fun * direction if result.status == 0 else None)
            lowest, highest = span
            if lowest is not None and highest is not None and highest - lowest < PROTECTION:
                unsafe.append((row, count, lowest, highest))
    return unsafe


def _protect_cell(rows: list[Row], row: Row, count: str) -> bool:
    """Widen one narrow cell: hide another part of its breakdown's sum, else the same group of
    another authority of its region (an authority's incidents are bounded by its region's)."""
    local = [r for r in rows if r.level == LOCAL]
    for eq_count, total, parts in equations(local):
        if eq_count == count and (row is total or row in parts):
            hidden = [r for r in parts if r.suppressed]
            weak = len(hidden) + total.suppressed == 1 or (
                not total.suppressed and sum(r.true[count] for r in hidden) < PROTECTION)
            if weak and (_suppress_smallest(parts, count) or _suppress_total(total)):
                return True
    # The sum hides it well enough: its region's total, less the other authorities, is what
    # pins it.
    neighbours = [r for r in local if r.region == row.region and r.topic == row.topic
                  and r.group == row.group and r is not row]
    return _suppress_smallest(neighbours, "incidents")


def protect(rows: list[Row]) -> list[Row]:
    """Primary and secondary suppression, then the audit, suppressing more until it passes."""
    primary(rows)
    secondary(rows)
    for _ in range(20):
        unsafe = audit(rows)
        if not unsafe:
            return rows
        changed = False
        for row, count, _, _ in unsafe:
            changed |= _protect_cell(rows, row, count)
        if not changed:
            break
        secondary(rows)
    raise RuntimeError(f"disclosure control could not protect {len(unsafe)} cell(s), e.g. "
                       f"{unsafe[0][0].area} {unsafe[0][0].topic} {unsafe[0][0].group}: "
                       "nothing more to suppress")
