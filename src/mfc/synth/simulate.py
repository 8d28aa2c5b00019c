"""One simulated population of looked-after children, year by year, and their missing incidents.

The simulation is national (children move between authorities, authorities reorganise), but it
is cheap; what is written is streamed out year by year and can be limited to a slice. Every
random draw comes from a generator seeded by (seed, year[, authority]), so the same seed and
options give the same output, and a slice is the same as that part of the nation.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from mfc.geography import Authority, AuthorityRegister
from mfc.synth import parameters

# Population dynamics (docs/synthetic-data.md gives the reasoning and sources).
LEAVE_PER_YEAR = 0.38        # share of children in care who leave care during a year
MOVE_PER_YEAR = 0.02         # continuing children who move to another authority
OUT_OF_AREA = 0.40           # placed outside their own authority (DfE: about 4 in 10)
SAME_REGION_WHEN_OUT = 0.70  # of those, placed in their own region
UPN_FROM_AGE = 5             # most school-age children have a UPN, younger ones often not
UPN_SCHOOL_AGE = 0.92
UPN_UNDER_SCHOOL_AGE = 0.15
# Recording by each source of a true incident of a looked-after child.
COUNCIL_RECORDS = 0.95
POLICE_RECORDS = 0.90
OPEN_AT_YEAR_END = 0.02      # children still missing at 31 March (DfE 2022: 220 of 12,150)
# Children missing from home: police see them, councils do not return them.
FROM_HOME_PER_CARE_CHILD = 1.0
FROM_HOME_INCIDENTS_PER_CHILD = 2.0
FROM_HOME_IDS = 10_000_000   # true child ids of children missing from home start here
# Practice changes the series must show (see docs/synthetic-data.md).
RECORDING_COLLAPSE = ("E06000002", 2023, 0.15)  # Middlesbrough records 15% in 2022-23
LATE_STARTER = ("E06000027", 2018)               # Torbay returns from 2017-18 only
# Incidents per child: a share go missing once (DfE 2017: 6,660 of 10,700 children missing
# went missing more than once); the others 2 + lognormal, a heavy tail (some 50+ a year).
ONCE_ONLY = 0.36
TAIL_SIGMA = 1.0
# A child in care for only part of the year cannot have more incidents than days: the draws
# lost that way (about 4%, measured on the nation) are made up here.
SHORT_SPELL_ALLOWANCE = 1.04
# Duration in whole days: about 90% of incidents last 2 days or less.
PLACES = np.array(["U4", "U5", "U6", "U1", "K2", "H5", "P1"])
PLACE_P = np.array([0.32, 0.15, 0.13, 0.14, 0.14, 0.06, 0.06])
HOURS = np.array([8, 12, 15, 17, 19, 20, 21, 22, 23])
RISKS = np.array(["NO_APPARENT", "LOW", "MEDIUM", "HIGH"])
DURATION_DAYS = np.array([0, 1, 2, 3, 5, 8, 14, 30])
DURATION_P = np.array([0.42, 0.38, 0.10, 0.04, 0.025, 0.017, 0.012, 0.006])
DURATION_CUM = np.cumsum(DURATION_P)
CARE_RISK_CUM = np.cumsum([0.15, 0.45, 0.34, 0.06])


def collection_year(year_ending: int) -> str:
    return f"{year_ending - 1}-{year_ending % 100:02d}"


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator that depends only on the seed and the parts named (year, authority...)."""
    keys = [seed] + [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(np.random.SeedSequence(keys))


@dataclass
class Child:
    true_id: int
    dob: date
    sex: str                       # '1' male, '2' female (SSDA903 to 2023-24)
    upn: str
    authority: str                 # responsible authority (GSS)
    placement: str                 # authority where placed (GSS)
    child_ids: dict[str, str] = field(default_factory=dict)  # CHILD per authority
    entered: date = date(2000, 1, 1)
    left: date | None = None
    place: str = "U4"

    def child_id(self) -> str:
        return self.child_ids[self.authority]


@dataclass
class Incident:
    true_id: int
    child: Child | None            # None: a child missing from home (police only)
    home_child: tuple | None       # (true_id, dob, sex, placement gss) for children from home
    responsible: str | None
    placement: str
    force: str
    reported: datetime
    found: datetime | None
    missing_type: str              # M or A
    risk: str
    council: bool
    police: bool


@dataclass
class AuthorityYear:
    authority: Authority
    year_ending: int
    children: list[Child]          # looked after at some time in the year
    incidents: list[Incident]      # of its looked-after children, true events
    returns: bool                  # the authority sent a council return this year


class Simulation:
    def __init__(self, seed: int, years: range, scale: float = 1.0) -> None:
        self.seed = seed
        self.years = years
        self.scale = scale
        self.register = AuthorityRegister.from_seed()
        self.rates = parameters.authority_rates()
        self.targets = parameters.year_targets()
        self.children: dict[str, list[Child]] = {}
        self.next_child = 1
        self.next_incident = 1
        england = [a for a in self.register if a.country == "England"]
        self._mean_england = float(np.mean([self.targets[y].looked_after_in_year
                                            for y in self.targets]))
        wales_total = self._mean_england * parameters.WALES_SHARE_OF_ENGLAND
        self._wales_size = wales_total / 22
        self._england = england

    # Sizes and rates -------------------------------------------------------------------

    def _rates(self, a: Authority) -> parameters.AuthorityRates:
        found = self.rates.get(a.gss_code)
        if found:
            return found
        size = self._wales_size if a.country == "Wales" else 400.0
        spread = 0.6 + (zlib.crc32(a.gss_code.encode()) % 80) / 100  # 0.6 to 1.4
        return parameters.AuthorityRates(a.gss_code, size * spread,
                                         parameters.DEFAULT_MISSING_RATE,
                                         parameters.DEFAULT_INCIDENTS_PER_CHILD,
                                         parameters.DEFAULT_MISSING_SHARE)

    def in_force(self, year_ending: int) -> list[Authority]:
        day = date(year_ending, 3, 31)
        return sorted((a for a in self.register if a.in_force_on(day)), key=lambda a: a.gss_code)

    def target(self, year_ending: int) -> parameters.YearTarget:
        known = sorted(self.targets)
        return self.targets[min(max(year_ending, known[0]), known[-1])]

    def _year_factors(self, year_ending: int,
                      rosters: list[tuple[Authority, list[Child]]]) -> tuple[float, float]:
        """Factors on every authority's rates that make England's totals meet the year's targets.

        Computed on the year's actual rosters, so that size drift cannot bias the totals.
        """
        target = self.target(year_ending)
        england = [(self._rates(a), len(children)) for a, children in rosters
                   if a.country == "England"]
        expected_children = sum(r.missing_rate * n for r, n in england)
        per_child = target.missing_incidents / target.children_missing
        mean_per_child = (sum(r.missing_rate * n * r.incidents_per_child for r, n in england)
                          / expected_children)
        return (target.children_missing * self.scale / expected_children,
                per_child / mean_per_child)

    # The population --------------------------------------------------------------------

    def _new_children(self, rng: np.random.Generator, a: Authority, count: int, start: date,
                      end: date) -> list[Child]:
        """Children coming into care during the year, drawn together (one call per attribute)."""
        young = rng.random(count) < 0.3
        age_days = np.where(young, rng.integers(0, 365 * 5, count),
                            rng.integers(365 * 5, 365 * 18, count))
        entry = rng.integers(0, max((end - start).days, 1), count)
        upn_p = np.where(age_days >= 365 * UPN_FROM_AGE, UPN_SCHOOL_AGE, UPN_UNDER_SCHOOL_AGE)
        has_upn = rng.random(count) < upn_p
        male = rng.random(count) < 0.56
        children = []
        for i in range(count):
            entered = start + timedelta(days=int(entry[i]))
            n = self.next_child
            self.next_child += 1
            children.append(Child(n, entered - timedelta(days=int(age_days[i])),
                                  "1" if male[i] else "2", f"S{n:012d}" if has_upn[i] else "",
                                  a.gss_code, a.gss_code, entered=entered))
        self._place_all(rng, children, a)
        return children

    def _place_all(self, rng: np.random.Generator, children: list[Child], a: Authority) -> None:
        count = len(children)
        places = rng.choice(PLACES, size=count, p=PLACE_P)
        away = rng.random(count) < OUT_OF_AREA
        near_region = rng.random(count) < SAME_REGION_WHEN_OUT
        pick = rng.random(count)
        near = [g for g in self._by_region[a.region_code] if g != a.gss_code]
        for i, child in enumerate(children):
            child.place = str(places[i])
            child.placement = a.gss_code
            if away[i]:
                pool = near if near and near_region[i] else self._live_codes
                child.placement = pool[int(pick[i] * len(pool))]

    def _assign_id(self, child: Child) -> None:
        if child.authority not in child.child_ids:
            a = self.register.by_gss(child.authority)
            prefix = a.dfe_code or a.gss_code[-3:]
            number = len(self._issued.setdefault(child.authority, set())) + 1
            self._issued[child.authority].add(number)
            child.child_ids[child.authority] = f"{prefix}{number:06d}"

    def _successor(self, rng: np.random.Generator, gss: str, day: date) -> str:
        a = self.register.by_gss(gss)
        while not a.in_force_on(day):
            options = a.successor_gss_codes
            a = self.register.by_gss(options[int(rng.integers(0, len(options)))])
        return a.gss_code

    def years_of_care(self) -> Iterator[list[AuthorityYear]]:
        """For each collection year, every authority in force with its children and incidents."""
        self._issued: dict[str, set[int]] = {}
        roster: list[Child] = []
        for year_ending in self.years:
            start, end = date(year_ending - 1, 4, 1), date(year_ending, 3, 31)
            rng = rng_for(self.seed, year_ending, "population")
            self._live = self.in_force(year_ending)
            self._live_codes = [a.gss_code for a in self._live]
            live_set = set(self._live_codes)
            self._by_region: dict[str, list[str]] = {}
            for a in self._live:
                self._by_region.setdefault(a.region_code, []).append(a.gss_code)
            trend = self.target(year_ending).looked_after_in_year / self._mean_england
            # Carry over: children still in care; reorganised authorities hand children on.
            continuing = []
            for child in roster:
                if child.left is not None or (end - child.dob).days >= 365 * 18:
                    continue
                if child.authority not in live_set:
                    child.authority = self._successor(rng, child.authority, end)
                if child.placement not in live_set:
                    child.placement = self._successor(rng, child.placement, end)
                if rng.random() < MOVE_PER_YEAR:  # moves authority: a new CHILD id there
                    here = self.register.by_gss(child.authority)
                    near = [g for g in self._by_region[here.region_code] if g != here.gss_code]
                    if near:
                        child.authority = near[int(rng.integers(0, len(near)))]
                        self._place_all(rng, [child], self.register.by_gss(child.authority))
                continuing.append(child)
            by_authority: dict[str, list[Child]] = {a.gss_code: [] for a in self._live}
            for child in continuing:
                by_authority[child.authority].append(child)
            rosters = []
            for a in self._live:
                arng = rng_for(self.seed, year_ending, a.gss_code)
                rates = self._rates(a)
                size = max(1, round(rates.looked_after_in_year * trend * self.scale))
                children = by_authority[a.gss_code]
                if len(children) < size:
                    children.extend(self._new_children(arng, a, size - len(children), start, end))
                leaving = arng.random(len(children)) < LEAVE_PER_YEAR
                when = arng.random(len(children))
                for child, leaves, at in zip(children, leaving, when, strict=True):
                    self._assign_id(child)
                    child.left = None
                    if leaves:
                        lo = max(child.entered, start)
                        child.left = lo + timedelta(days=int(at * ((end - lo).days + 1)))
                    eighteen = _birthday(child.dob, 18)
                    if eighteen <= end and (child.left is None or child.left > eighteen):
                        child.left = max(eighteen, max(child.entered, start))
                rosters.append((a, children))
            child_factor, incident_factor = self._year_factors(year_ending, rosters)
            result = []
            for a, children in rosters:
                arng = rng_for(self.seed, year_ending, a.gss_code, "incidents")
                incidents = self._incidents(arng, a, self._rates(a), children, start, end,
                                            child_factor, incident_factor)
                returns = not (a.gss_code == LATE_STARTER[0] and year_ending < LATE_STARTER[1])
                result.append(AuthorityYear(a, year_ending, children, incidents, returns))
            roster = [c for ay in result for c in ay.children]
            yield result

    # Incidents -------------------------------------------------------------------------

    def _incidents(self, rng, a: Authority, rates, children: list[Child], start: date,
                   end: date, child_factor: float, incident_factor: float) -> list[Incident]:
        count = min(len(children), round(rates.missing_rate * child_factor * len(children)))
        if not count:
            return []
        ages = np.array([(end - c.dob).days / 365.25 for c in children])
        weight = np.clip(ages - 9, 0.05, None) ** 2 * np.array(
            [3.0 if c.place in ("K2", "H5") else 1.0 for c in children])
        chosen = rng.choice(len(children), size=count, replace=False, p=weight / weight.sum())
        # Each chosen child's first incident is one the council records as missing (M), so the
        # child counts as DfE counts; the rest are M or A and recorded or not, at their rates,
        # so that the expected M incidents the council records per child is the DfE figure.
        recorded_m = rates.missing_share * COUNCIL_RECORDS
        mean = 1 + (max(rates.incidents_per_child * incident_factor - 1, 0.1) / recorded_m
                    * SHORT_SPELL_ALLOWANCE)
        collapse = (RECORDING_COLLAPSE[2] if (a.gss_code, end.year) == RECORDING_COLLAPSE[:2]
                    else 1.0)
        incidents = []
        for index in sorted(chosen):
            child = children[index]
            first = max(child.entered, start)
            # A child (under 18) goes missing: not on or after the 18th birthday.
            last = min(child.left or end, _birthday(child.dob, 18) - timedelta(days=1))
            span = (last - first).days + 1
            if span < 1:
                continue
            # Some children go missing once; the rest again and again, with a heavy tail. The
            # lognormal's mean is exp(mu + sigma^2 / 2), chosen so the mixture's mean is `mean`.
            if rng.random() < ONCE_ONLY:
                n = 1
            else:
                repeats = max((mean - ONCE_ONLY) / (1 - ONCE_ONLY) - 2, 0.2)
                extra = rng.lognormal(math.log(repeats) - TAIL_SIGMA**2 / 2, TAIL_SIGMA)
                n = min(span, 2 + int(round(extra)), 150)
            days = np.sort(rng.choice(span, size=n, replace=False))
            durations = _draw(rng, DURATION_DAYS, DURATION_CUM, n)
            hours = HOURS[rng.integers(0, len(HOURS), size=n)]
            minutes = rng.integers(0, 60, size=n)
            later = rng.random(size=(n, 3))
            risks = _draw(rng, RISKS, CARE_RISK_CUM, n)
            codes = np.where(rng.random(n) < rates.missing_share, "M", "A")
            council_flags = rng.random(n) < COUNCIL_RECORDS * collapse
            codes[0] = "M"
            council_flags[0] = collapse == 1.0 or council_flags[0]
            police_flags = rng.random(n) < POLICE_RECORDS
            # Open at the year end only for a child still in care then: a child whose care
            # ended on 31 March cannot still be missing from it (DfE 575, 577).
            open_at_end = (child.left is None and last == end
                           and rng.random() < OPEN_AT_YEAR_END)
            force = self.register.by_gss(child.placement).pfa_code
            for i, day in enumerate(days):
                begin = first + timedelta(days=int(day))
                limit = (first + timedelta(days=int(days[i + 1]) - 1) if i + 1 < n else last)
                finish = min(begin + timedelta(days=int(durations[i])), max(limit, begin))
                reported = datetime(begin.year, begin.month, begin.day, int(hours[i]),
                                    int(minutes[i]))
                found: datetime | None
                if finish == begin:  # back the same day: found before midnight
                    to_midnight = (24 - int(hours[i])) * 60 - int(minutes[i])
                    # By 23:59 at the latest: a period reported at 23:59 on 31 March must
                    # not end on 1 April, after the year (DfE 571).
                    back = min(max(1, int(later[i, 0] * to_midnight)), to_midnight - 1)
                    found = reported + timedelta(minutes=back)
                else:
                    found = datetime(finish.year, finish.month, finish.day,
                                     int(later[i, 1] * 24), int(later[i, 2] * 60))
                if i == n - 1 and open_at_end:
                    found = None  # still missing when the year's return is made
                council, police = bool(council_flags[i]), bool(police_flags[i])
                if not council and not police:
                    council = collapse == 1.0
                incidents.append(Incident(
                    self.next_incident, child, None, child.authority, child.placement, force,
                    reported, found, str(codes[i]), str(risks[i]), council, police))
                self.next_incident += 1
        return incidents

    def from_home(self, year_ending: int, ay: AuthorityYear) -> list[Incident]:
        """Children missing from home in this authority's area: police records only."""
        rng = rng_for(self.seed, year_ending, ay.authority.gss_code, "home")
        start = date(year_ending - 1, 4, 1)
        looked_after_missing = len({i.child.true_id for i in ay.incidents if i.child})
        children = int(rng.poisson(looked_after_missing * FROM_HOME_PER_CARE_CHILD))
        counts = 1 + rng.poisson(FROM_HOME_INCIDENTS_PER_CHILD - 1, children)
        ages = rng.integers(365 * 11, 365 * 17, children)
        male = rng.random(children) < 0.5
        total = int(counts.sum())
        days = rng.integers(0, 365, total)
        hours = rng.integers(14, 24, total)
        minutes = rng.integers(0, 60, total)
        lasting = rng.integers(2, 40, total)
        risks = rng.choice(RISKS, size=total, p=[0.25, 0.45, 0.26, 0.04])
        incidents = []
        k = 0
        for c in range(children):
            true_id = FROM_HOME_IDS + self.next_child
            self.next_child += 1
            child = (true_id, start - timedelta(days=int(ages[c])), "1" if male[c] else "2",
                     ay.authority.gss_code)
            for _ in range(int(counts[c])):
                begin = start + timedelta(days=int(days[k]))
                reported = datetime(begin.year, begin.month, begin.day, int(hours[k]),
                                    int(minutes[k]))
                incidents.append(Incident(
                    self.next_incident, None, child, None, ay.authority.gss_code,
                    ay.authority.pfa_code, reported, reported + timedelta(hours=int(lasting[k])),
                    "M", str(risks[k]), False, True))
                self.next_incident += 1
                k += 1
        return incidents


def _draw(rng: np.random.Generator, values: np.ndarray, cumulative: np.ndarray,
          n: int) -> np.ndarray:
    """n values drawn with the probabilities whose running total is `cumulative` (fast path
    for rng.choice(values, p=...), which re-checks p on every call)."""
    picks = np.searchsorted(cumulative, rng.random(n) * cumulative[-1], side="right")
    return values[np.minimum(picks, len(values) - 1)]


def _birthday(dob: date, years: int) -> date:
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:  # 29 February
        return dob.replace(year=dob.year + years, day=28)
