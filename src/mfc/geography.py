"""Which children's services authority a return names: by GSS code, DfE code or name, at a date.

Returns name their authority in three ways, and each can mean different things at different
dates: a DfE code can outlive a GSS code (Buckinghamshire 825 before and after 2020), a split
makes new codes (Northamptonshire 928 into 940 and 941), and a name can belong to successive
authorities (Northumberland E06000048 then E06000057). So everything that turns a return's
authority into a row of the authority dimension goes through this one resolver, backed by
dbt/seeds/authorities.csv, and refuses, naming what to use instead, rather than guess.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mfc import config

_GSS_CODE = re.compile(r"(E06|E08|E09|E10|W06)\d{6}")
_ANY_GSS_CODE = re.compile(r"[EWSNLM]\d{8}")
_DFE_CODE = re.compile(r"\d{3}")
# DfE writes some names inverted: "Bristol, City of", "Herefordshire, County of".
_INVERTED_NAME = re.compile(r"(?P<place>.+),\s*(?P<title>City of|County of)", re.IGNORECASE)
# Other names DfE itself publishes for an authority: its 2015-2017 statistics call County
# Durham "Durham", the name of the county council it replaced in 2009 (the date tells them apart).
_ALSO_KNOWN_AS = {"E06000047": ("Durham",)}
WHAT_TO_GIVE = (
    "give a GSS code (E06, E08, E09, E10 or W06), a 3-digit DfE code or the name as DfE "
    "publishes it, as listed in dbt/seeds/authorities.csv"
)


@dataclass(frozen=True)
class Authority:
    gss_code: str
    dfe_code: str | None
    name: str
    region_code: str
    country: str
    pfa_code: str
    valid_from: date
    valid_to: date | None
    successor_gss_codes: tuple[str, ...]

    def in_force_on(self, day: date) -> bool:
        """In being on that day; valid_from and valid_to are both inclusive."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def label(self) -> str:
        """How error messages name it: all three identifiers, so any can be used."""
        dfe = f", DfE {self.dfe_code}" if self.dfe_code else ""
        return f"{self.name} ({self.gss_code}{dfe})"


class UnknownAuthority(ValueError):
    """The identifier names no authority in force on the date; the message says what to use."""

    def __init__(self, identifier: str, on: date | None, reason: str) -> None:
        self.identifier = identifier
        self.on = on
        when = f" on {on.isoformat()}" if on else ""
        super().__init__(f"authority {identifier!r}{when}: {reason}")


def name_key(name: str) -> str:
    """Case, accents, punctuation and '&' versus 'and' do not distinguish authorities."""
    text = unicodedata.normalize("NFKD", name.casefold().replace("&", " and "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[^\W_]+", text))


def _name_keys(name: str) -> set[str]:
    """The published name, plus "Bristol" and "City of Bristol" for "Bristol, City of"."""
    keys = {name_key(name)}
    if m := _INVERTED_NAME.fullmatch(name.strip()):
        keys |= {name_key(m["place"]), name_key(f"{m['title']} {m['place']}")}
    return keys


def _optional_date(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


class AuthorityRegister:
    """Every children's services authority, live and terminated, indexed three ways."""

    def __init__(self, authorities: Iterable[Authority]) -> None:
        self._by_gss: dict[str, Authority] = {}
        self._by_dfe: dict[str, list[Authority]] = defaultdict(list)
        self._by_name: dict[str, list[Authority]] = defaultdict(list)
        self._predecessors: dict[str, list[Authority]] = defaultdict(list)
        for authority in authorities:
            if authority.gss_code in self._by_gss:
                raise ValueError(f"GSS code {authority.gss_code} appears twice")
            self._by_gss[authority.gss_code] = authority
            if authority.dfe_code:
                self._by_dfe[authority.dfe_code].append(authority)
            names = (authority.name, *_ALSO_KNOWN_AS.get(authority.gss_code, ()))
            for key in set().union(*map(_name_keys, names)):
                self._by_name[key].append(authority)
            for successor in authority.successor_gss_codes:
                self._predecessors[successor].append(authority)

    @classmethod
    def from_seed(cls, path: Path | None = None) -> AuthorityRegister:
        """Load dbt/seeds/authorities.csv, the same file the warehouse's dimension is built from."""
        with open(path or config.authorities_seed(), newline="", encoding="utf-8") as f:
            return cls(
                Authority(
                    gss_code=row["gss_code"],
                    dfe_code=row["dfe_code"] or None,
                    name=row["authority_name"],
                    region_code=row["region_code"],
                    country=row["country"],
                    pfa_code=row["pfa_code"],
                    valid_from=date.fromisoformat(row["valid_from"]),
                    valid_to=_optional_date(row["valid_to"]),
                    successor_gss_codes=tuple(row["successor_gss_codes"].split()),
                )
                for row in csv.DictReader(f)
            )

    def __iter__(self) -> Iterator[Authority]:
        return iter(self._by_gss.values())

    def __len__(self) -> int:
        return len(self._by_gss)

    def by_gss(self, gss_code: str) -> Authority:
        """The authority with that GSS code, whatever the date (for dimension lookups)."""
        code = gss_code.strip().upper()
        try:
            return self._by_gss[code]
        except KeyError:
            raise UnknownAuthority(
                gss_code, None, f"no authority has this GSS code; {WHAT_TO_GIVE}"
            ) from None

    def resolve(self, identifier: str, on: date) -> Authority:
        """The authority a return means by a GSS code, DfE code or name, on the given day."""
        text = identifier.strip()
        if _GSS_CODE.fullmatch(text.upper()):
            code = text.upper()
            if code not in self._by_gss:
                raise UnknownAuthority(
                    identifier, on, f"no authority has this GSS code; {WHAT_TO_GIVE}"
                )
            candidates = [self._by_gss[code]]
        elif _ANY_GSS_CODE.fullmatch(text.upper()):
            raise UnknownAuthority(
                identifier,
                on,
                f"{text[:3].upper()} is not a children's services authority code; {WHAT_TO_GIVE}",
            )
        elif _DFE_CODE.fullmatch(text):
            candidates = self._by_dfe.get(text, [])
            if not candidates:
                raise UnknownAuthority(
                    identifier, on, f"no authority has this DfE code; {WHAT_TO_GIVE}"
                )
        else:
            candidates = self._by_name.get(name_key(text), [])
            if not candidates:
                hint = " (a combined reporting row: give one authority)" if "/" in text else ""
                raise UnknownAuthority(
                    identifier, on, f"no authority has this name{hint}; {WHAT_TO_GIVE}"
                )
        in_force = [a for a in candidates if a.in_force_on(on)]
        if len(in_force) == 1:
            return in_force[0]
        if in_force:
            names = ", ".join(a.label for a in in_force)
            raise UnknownAuthority(identifier, on, f"matches {names}; give the GSS code")
        raise UnknownAuthority(identifier, on, self._not_in_force(candidates, on))

    def _not_in_force(self, candidates: list[Authority], on: date) -> str:
        """Why none of the candidates applies on the day, and who did then."""
        ended = [a for a in candidates if a.valid_to is not None and a.valid_to < on]
        if ended:
            last = max(ended, key=lambda a: a.valid_to or on)
            reason = f"{last.label} ended on {last.valid_to}"
            instead = self._in_force_after(last, on)
            nobody = "no successor is in force then"
        else:
            first = min(candidates, key=lambda a: a.valid_from)
            reason = f"{first.label} began on {first.valid_from}"
            instead = self._in_force_before(first, on)
            nobody = "no authority in the register covers that date"
        if not instead:
            return f"{reason}, and {nobody}"
        return f"{reason}; use {' or '.join(a.label for a in instead)}"

    def _in_force_after(self, authority: Authority, on: date) -> list[Authority]:
        """Successors, followed through later reorganisations, that are in force on the day."""
        found: dict[str, Authority] = {}
        for code in authority.successor_gss_codes:
            successor = self._by_gss[code]
            if successor.in_force_on(on):
                found[code] = successor
            elif successor.valid_to is not None and successor.valid_to < on:
                found |= {a.gss_code: a for a in self._in_force_after(successor, on)}
        return list(found.values())

    def _in_force_before(self, authority: Authority, on: date) -> list[Authority]:
        """Predecessors, followed back through earlier reorganisations, in force on the day."""
        found: dict[str, Authority] = {}
        for predecessor in self._predecessors[authority.gss_code]:
            if predecessor.in_force_on(on):
                found[predecessor.gss_code] = predecessor
            elif predecessor.valid_from > on:
                found |= {a.gss_code: a for a in self._in_force_before(predecessor, on)}
        return list(found.values())
