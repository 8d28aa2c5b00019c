"""Write what each source would have recorded, and the truth behind it, one year at a time.

OUT/landing/council/<authority>/<YYYY-YY>/{header,episodes,missing}.csv  (docs/returns/council.md)
OUT/landing/police/<force>/<YYYY-MM>.csv                                  (docs/returns/police.md)
OUT/truth/records.csv     every delivered missing/police line -> true incident and child
OUT/truth/incidents.csv   every true incident: child, authorities, force, times, who recorded it
OUT/truth/children.csv    every council CHILD and police PERSON_REF -> true child
OUT/truth/defects.csv     every injected defect (see defects.py)
OUT/truth/summary.csv     national totals per year next to their targets
OUT/landing/aggregate/ and OUT/truth/reported.csv: published figures from the truth (reported.py)
"""

from __future__ import annotations

import csv
import functools
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from mfc.returns.council import MISSING
from mfc.synth import defects as defect_kinds
from mfc.synth import reported as reported_figures
from mfc.synth.simulate import AuthorityYear, Incident, Simulation, collection_year

POLICE_COLUMNS = ("FORCE", "INCIDENT_REF", "PERSON_REF", "DOB", "AGE", "SEX", "REPORTED_MISSING",
                  "FOUND", "RISK", "LOOKED_AFTER", "RESPONSIBLE_LA", "PLACEMENT_DISTRICT",
                  "FOUND_DISTRICT")


@functools.lru_cache(maxsize=200_000)
def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def uk(day: date | None) -> str:
    return _uk(day) if day else ""


def uk_time(m: datetime | None) -> str:
    return f"{m.day:02d}/{m.month:02d}/{m.year} {m.hour:02d}:{m.minute:02d}" if m else ""


@functools.lru_cache(maxsize=1024)
def sex_code(sex: str, year_ending: int) -> str:
    """SSDA903 sex codes: 1 and 2 up to 2023-24, M and F from 2024-25."""
    return {"1": "M", "2": "F"}[sex] if year_ending >= 2025 else sex


def place_code(place: str, year_ending: int) -> str:
    """H5 (semi-independent living) is withdrawn from 2025-26: such placements are K3."""
    return "K3" if place == "H5" and year_ending >= 2026 else place


def district(gss: str, name: str) -> str:
    """A made-up postcode district per authority: letters from its name, a digit from its code."""
    letters = "".join(ch for ch in name.upper() if ch.isalpha())[:2]
    return f"{letters}{int(gss[-2:]) % 9 + 1}"


@dataclass
class Options:
    out: Path
    seed: int
    years: range
    authorities: set[str] | None = None  # GSS codes to write council returns for; None: all
    scale: float = 1.0
    defect_rate: float = 0.0
    progress: bool = True
    reported: bool = True  # also FOI answers and DfE regional figures (reported.py)


@dataclass
class Totals:
    children: set[int] = field(default_factory=set)
    incidents: int = 0


class Writer:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.sim = Simulation(options.seed, options.years, options.scale)
        self.truth = options.out / "truth"
        self.truth.mkdir(parents=True, exist_ok=True)
        self._files = {name: (self.truth / f"{name}.csv").open("w", newline="")
                       for name in ("records", "incidents", "children", "defects")}
        self.w = {name: csv.writer(f, lineterminator="\n") for name, f in self._files.items()}
        self.w["records"].writerow(["file", "line", "true_incident_id", "true_child_id"])
        self.w["incidents"].writerow([
            "true_incident_id", "true_child_id", "looked_after", "responsible_gss",
            "placement_gss", "force", "reported_missing", "found", "missing_type",
            "council_recorded", "police_recorded"])
        self.w["children"].writerow(["source", "authority_or_force", "local_id", "true_child_id"])
        self.w["defects"].writerow(["file", "line", "column", "kind", "check_id"])
        self.seen_children: set[tuple[str, str]] = set()
        self.seen_persons: set[tuple[str, str]] = set()
        self.summary: dict[int, Totals] = {}
        self.returned: dict[int, set[str]] = {}  # year ending -> authorities with a return
        self.forces_written: set[str] = set()  # forces with a month file
        self.defects = defect_kinds.Injector(options.seed, options.defect_rate)

    def close(self) -> None:
        for f in self._files.values():
            f.close()

    def rel(self, path: Path) -> str:
        return path.relative_to(self.o.out).as_posix()

    # Council ---------------------------------------------------------------------------

    def folder_name(self, ay: AuthorityYear) -> str:
        """Name authorities every way the spec allows: mostly GSS, some DfE code, some name."""
        a = ay.authority
        kind = int(a.gss_code[-3:]) % 10
        if kind in (7, 8) and a.dfe_code:
            return a.dfe_code
        return a.name if kind == 9 else a.gss_code

    def council(self, ay: AuthorityYear) -> None:
        a = ay.authority
        year = collection_year(ay.year_ending)
        folder = self.o.out / "landing" / "council" / self.folder_name(ay) / year
        folder.mkdir(parents=True, exist_ok=True)
        home = district(a.gss_code, a.name)
        header, episodes = [], []
        for child in sorted(ay.children, key=lambda c: c.child_id()):
            cid = child.child_id()
            header.append([cid, sex_code(child.sex, ay.year_ending), uk(child.dob),
                           "WBRI" if child.true_id % 5 else "MWBC",
                           child.upn, "", ""])
            placed = self.sim.register.by_gss(child.placement)
            placed_at = district(placed.gss_code, placed.name)
            ceased = child.left
            episodes.append([
                cid, uk(child.entered), "S", "C2" if child.true_id % 4 else "V2",
                "N1" if child.true_id % 3 else "N4", place_code(child.place, ay.year_ending),
                "PR1" if child.placement == a.gss_code else "PR4", uk(ceased),
                ("E17" if ceased and (ceased - child.dob).days >= 365 * 18 - 1 else "E8")
                if ceased else "", "", f"{home} 1AA", f"{placed_at} 2BB",
                ""])
            key = (a.gss_code, cid)
            if key not in self.seen_children:
                self.seen_children.add(key)
                self.w["children"].writerow(["council", a.gss_code, cid, child.true_id])
        recorded = sorted((i for i in ay.incidents if i.council),
                          key=lambda i: (i.child.child_id(), i.reported))
        missing = [[i.child.child_id(), uk(i.child.dob), i.missing_type, uk(i.reported.date()),
                    uk(i.found.date()) if i.found else ""] for i in recorded]
        truth = [(i.true_id, i.child.true_id) for i in recorded]
        context = {"dobs": {c.child_id(): c.dob for c in ay.children},
                   "starts": {c.child_id(): max(c.entered, date(ay.year_ending - 1, 4, 1))
                              for c in ay.children}}
        tables = {"header": header, "episodes": episodes, "missing": missing}
        files, manifest, truth, extras = self.defects.apply(
            f"{a.gss_code}:{year}", tables, truth, context)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        if "earlier" in extras:  # a first delivery with an error, corrected by the one above
            earlier = (self.o.out / "resubmissions" / "1" / "council" / self.folder_name(ay)
                       / year)
            earlier.mkdir(parents=True, exist_ok=True)
            first = datetime(ay.year_ending, 5, 1).timestamp()
            for name, data in extras["earlier"].items():
                (earlier / name).write_bytes(data)
                os.utime(earlier / name, (first, first))
        # Dated May after the year, before the deadline (30 June), as a council's export is.
        delivered_on = datetime(ay.year_ending, 5, 15)
        for name in files:
            os.utime(folder / name, (delivered_on.timestamp(),) * 2)
        delivered = "missing.xlsx" if "missing.xlsx" in files else MISSING.file_name
        if files.get(MISSING.file_name) != b"":
            where = self.rel(folder / delivered)
            self.w["records"].writerows([where, line, incident_id, child_id]
                                        for line, (incident_id, child_id)
                                        in enumerate(truth, start=2))
        for file_name, line, column, kind, check in manifest:
            where = folder if kind != "corrected_resubmission" else earlier
            self.w["defects"].writerow([self.rel(where / file_name), line, column, kind, check])

    # Police ----------------------------------------------------------------------------

    def police(self, incidents: list[Incident], forces: set[str]) -> None:
        by_force: dict[str, list[Incident]] = defaultdict(list)
        for incident in incidents:
            if incident.police and incident.force in forces:
                by_force[incident.force].append(incident)
        self.forces_written.update(by_force)
        for force, items in sorted(by_force.items()):
            items.sort(key=lambda i: (i.reported, i.true_id))
            months: dict[str, list[Incident]] = defaultdict(list)
            for i in items:
                months[i.reported.strftime("%Y-%m")].append(i)
            for month, rows in sorted(months.items()):
                path = self.o.out / "landing" / "police" / force / f"{month}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                where = self.rel(path)
                with path.open("w", newline="") as f:
                    w = csv.writer(f, lineterminator="\n")
                    w.writerow(POLICE_COLUMNS)
                    w.writerows(self._police_row(force, month, i) for i in rows)
                self.w["records"].writerows(
                    [where, line, i.true_id, self._true_child(i)]
                    for line, i in enumerate(rows, start=2))
                # Forces send a month's file early in the next month.
                year, number = int(month[:4]), int(month[5:])
                sent = datetime(year + number // 12, number % 12 + 1, 5, 9).timestamp()
                os.utime(path, (sent, sent))

    def _true_child(self, i: Incident) -> int:
        return i.child.true_id if i.child else i.home_child[0]

    def _police_row(self, force: str, month: str, i: Incident) -> list[str]:
        child_id = self._true_child(i)
        dob, sex = (i.child.dob, i.child.sex) if i.child else (i.home_child[1], i.home_child[2])
        person = f"P{(child_id * 2654435761 + int(force[-2:])) % 10**10:010d}"
        key = (force, person)
        if key not in self.seen_persons:
            self.seen_persons.add(key)
            self.w["children"].writerow(["police", force, person, child_id])
        n = i.true_id
        day = i.reported.date()
        age = day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
        looked_after = ("Y" if n % 10 < 7 else "" if n % 10 < 9 else "N") if i.child else \
            ("" if n % 10 < 1 else "N")
        responsible = ""
        if i.child and n % 4:  # police often lack the responsible authority
            a = self.sim.register.by_gss(i.responsible)
            responsible = (a.gss_code, a.dfe_code or a.gss_code, a.name)[n % 3]
        placed = self.sim.register.by_gss(i.placement)
        area = district(placed.gss_code, placed.name)
        return [force, f"{force[-3:]}-{month[:4]}-{n:07d}", person,
                uk(dob) if n % 5 else "", str(age) if not n % 5 or n % 7 == 0 else "",
                "M" if sex == "1" else "F", uk_time(i.reported), uk_time(i.found), i.risk,
                looked_after, responsible, area, area if i.found else ""]

    # Everything ------------------------------------------------------------------------

    def run(self) -> dict[int, Totals]:
        wanted = self.o.authorities
        for years_done, authority_years in enumerate(self.sim.years_of_care(), start=1):
            year_ending = authority_years[0].year_ending
            totals = self.summary.setdefault(year_ending, Totals())
            police: list[Incident] = []
            forces: set[str] = set()
            for ay in authority_years:
                selected = wanted is None or ay.authority.gss_code in wanted
                police.extend(ay.incidents)
                police.extend(self.sim.from_home(year_ending, ay))
                if selected:
                    forces.add(ay.authority.pfa_code)
                if ay.authority.country == "England" and ay.returns:
                    recorded = [i for i in ay.incidents if i.council and i.missing_type == "M"]
                    totals.incidents += len(recorded)
                    totals.children.update(i.child.true_id for i in recorded)
                if selected and ay.returns:
                    self.council(ay)
            written = {ay.authority.gss_code for ay in authority_years
                       if ay.returns and (wanted is None or ay.authority.gss_code in wanted)}
            self.returned[year_ending] = written
            for i in police:
                # The truth of a slice: incidents some written file records.
                if not ((i.council and i.responsible in written)
                        or (i.police and i.force in forces)):
                    continue
                self.w["incidents"].writerow([
                    i.true_id, self._true_child(i), "Y" if i.child else "N", i.responsible or "",
                    i.placement, i.force, uk_time(i.reported), uk_time(i.found), i.missing_type,
                    int(i.council), int(i.police)])
            self.police(police, forces)
            if self.o.progress and sys.stderr.isatty():
                print(f"\r  {collection_year(year_ending)} written "
                      f"({years_done}/{len(self.o.years)})", end="", file=sys.stderr)
        if self.o.progress and sys.stderr.isatty():
            print(file=sys.stderr)
        self._write_summary()
        self.close()
        if self.o.reported:  # from the truth, so only once it is complete
            reported_figures.write(self.o.out, self.o.years, self.returned,
                                   self.forces_written, self.sim.register)
        return self.summary

    def _write_summary(self) -> None:
        with (self.truth / "summary.csv").open("w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["collection_year", "children_missing", "target_children_missing",
                        "missing_incidents", "target_missing_incidents"])
            for year_ending, totals in sorted(self.summary.items()):
                target = self.sim.target(year_ending)
                w.writerow([collection_year(year_ending), len(totals.children),
                            round(target.children_missing * self.o.scale),
                            totals.incidents, round(target.missing_incidents * self.o.scale)])


def synthesise(options: Options) -> dict[int, Totals]:
    return Writer(options).run()

