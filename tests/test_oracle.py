"""DfE's own SSDA903 validator as a test oracle for the council gate (issue 15, item 4).

The public validator of DfE's rules (csc-validator-be-903, pinned in tests/oracle/
requirements.txt) runs in its own virtual environment, built here with uv and kept in
.cache/oracle-903/<key> (never the project's .venv: it needs pandas 1.5). Returns with planted
defects go through our gate (real PostgreSQL, real GX) and through the validator
(tests/oracle/run_903_validator.py); for every DfE rule both implement, the same rows must be
flagged, or the difference must be one listed in KNOWN below with its reason
(docs/returns/council.md, "Agreement with DfE's validator", says the same to councils). Two
returns of the synthetic nation, with its own defects, are compared as well.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import create_database, deliver, drop_database, good_tables, query, register_and_gate

from expectations import council as council_checks

REPO = Path(__file__).resolve().parent.parent
ORACLE = Path(__file__).resolve().parent / "oracle"
REQUIREMENTS = ORACLE / "requirements.txt"
DRIVER = ORACLE / "run_903_validator.py"
VALIDATOR_VERSION = "0.1.17"
PANDAS_VERSION = "1.5.3"
YEAR = "2023-24"
AUTHORITY = "806"            # Middlesbrough
AUTHORITY_GSS = "E06000002"
CLEAN_AUTHORITY = "807"      # Redcar and Cleveland: the helpers' good return, unchanged
DOCS = REPO / "docs" / "returns" / "council.md"
SECTION = "## Agreement with DfE's validator"


# --- The oracle's environment -------------------------------------------------------------

def _uv() -> list[str]:
    """uv as the Makefile runs it (python3.11 -m uv), else a uv on PATH."""
    for command in ([shutil.which("python3.11") or "", "-m", "uv"],
                    [sys._base_executable, "-m", "uv"], [shutil.which("uv") or ""]):
        if command[0] and subprocess.run([*command, "--version"],
                                         capture_output=True).returncode == 0:
            return command
    pytest.fail("uv is needed to build the validator's environment: python3.11 -m pip "
                "install uv")


def oracle_venv() -> Path:
    """The oracle's virtual environment, built once per set of pinned versions.

    Built under a lock into a folder named for the pins (another run, or another checkout's
    test, waits rather than builds it twice); a folder without its `complete` mark is a build
    that was cut short, and is built again."""
    pins = REQUIREMENTS.read_bytes()
    key = (f"csc-validator-be-903-{VALIDATOR_VERSION}-pandas-{PANDAS_VERSION}-py"
           f"{sys.version_info.major}{sys.version_info.minor}-"
           f"{hashlib.sha256(pins).hexdigest()[:8]}")
    root = REPO / ".cache" / "oracle-903"
    venv, done = root / key, root / key / "complete"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(venv, ignore_errors=True)
            uv = _uv()
            subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
                           check=True)
            subprocess.run([*uv, "pip", "install", "--quiet", "--python",
                            str(venv / "bin" / "python"), "-r", str(REQUIREMENTS)], check=True)
            done.write_text(pins.decode())
    return venv / "bin" / "python"


def run_validator(python: Path, folders: list[Path]) -> dict:
    out = subprocess.run([str(python), str(DRIVER), "--year", YEAR, "--authority",
                          AUTHORITY_GSS, *map(str, folders)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


# --- Returns with planted defects ---------------------------------------------------------
# Each case is a child (or two) whose rows plant one defect, or a shape both sides must pass.
# Every row is named "<case>" or "<case>/<n>" (n from 1 when a case has several), so that a
# difference reads as the case it came from, not a line number.

@dataclass
class Case:
    """One child (CHILD C01, C02 ... by its place in the list) and its rows in each file."""
    name: str
    missing: list[dict]
    episodes: list[dict] | None = None   # None: one open episode since 01/06/2022
    header: list[dict] | None = None     # None: one header row, child()
    dob: str = "05/01/2010"              # in header.csv and missing.csv unless a row says


def period(start: str, end: str = "", kind: str = "M", child: str = "", dob: str = "") -> dict:
    return {"CHILD": child, "DOB": dob, "MISSING": kind, "MIS_START": start, "MIS_END": end}


def episode(decom: str, dec: str = "", rec: str = "", rne: str = "S", child: str = "",
            **values: str) -> dict:
    return {"CHILD": child, "DECOM": decom, "RNE": rne, "LS": "C2", "CIN": "N1",
            "PLACE": "U1", "PLACE_PROVIDER": "PR1", "DEC": dec, "REC": rec,
            "REASON_PLACE_CHANGE": "", "HOME_POST": "", "PL_POST": "", "URN": "", **values}


def child(**values: str) -> dict:
    """A header row: the case's CHILD and DOB unless given."""
    return {"SEX": "1", "ETHNIC": "WBRI", "UPN": "", "MOTHER": "", "MC_DOB": "", **values}


LOWER = "<the case's CHILD in lower case>"
BLANK = "<nothing at all>"
ENDED = [episode("01/06/2022", "01/02/2024", "E8")]                 # care ended 1 Feb 2024
CASES: list[Case] = [
    Case("clean", [period("03/05/2023", "04/05/2023"), period("12/08/2023", "12/08/2023", "A"),
                   period("01/03/2024")]),
    Case("back to back", [period("01/07/2023", "05/07/2023"), period("05/07/2023", "06/07/2023")]),
    Case("impossible start", [period("31/02/2024", "02/03/2024")]),
    Case("ISO start", [period("2023-05-03", "04/05/2023")]),
    Case("one-digit start", [period("3/5/2023", "04/05/2023")]),
    Case("padded start", [period(" 03/05/2023", "04/05/2023")]),
    Case("impossible end", [period("28/02/2024", "31/02/2024")]),
    Case("two-digit-year end", [period("03/05/2023", "04/05/23")]),
    Case("unknown type", [period("03/05/2023", "04/05/2023", "X")]),
    Case("lower-case type", [period("03/05/2023", "04/05/2023", "m")]),
    Case("padded type", [period("03/05/2023", "04/05/2023", " M")]),
    Case("type but no start", [period("", "12/08/2023", "A")]),
    Case("unknown type, no start", [period("", "12/08/2023", "X")]),
    Case("start but no type", [period("01/10/2023", "02/10/2023", "")]),
    Case("end but no type or start", [period("", "02/10/2023", "")]),
    Case("end before start", [period("03/05/2023", "01/05/2023")]),
    Case("starts after the year", [period("02/04/2024")]),
    Case("ends after the year", [period("31/03/2024", "01/04/2024")]),
    Case("ends before the year", [period("20/03/2023", "25/03/2023")]),
    Case("overlap", [period("03/05/2023", "15/08/2023"), period("12/08/2023", "12/08/2023")]),
    Case("partial overlap", [period("03/05/2023", "15/08/2023"),
                             period("12/08/2023", "20/08/2023")]),
    Case("open then again", [period("01/06/2023"), period("01/09/2023", "02/09/2023")]),
    Case("after an unreadable end", [period("03/05/2023", "32/05/2023"),
                                     period("10/06/2023", "11/06/2023")]),
    Case("nested", [period("01/05/2023", "30/05/2023"), period("10/05/2023", "12/05/2023")]),
    Case("same start", [period("03/05/2023", "04/05/2023"), period("03/05/2023", "05/05/2023")]),
    Case("open when care ended", [period("01/03/2024")],
         [episode("01/06/2022", "20/03/2024", "E8")]),
    Case("open at the year end, care ended that day", [period("31/03/2024")],
         [episode("01/06/2022", "31/03/2024", "E8")]),
    Case("open when the placement ended", [period("10/12/2023")],
         [episode("01/06/2022", "01/01/2024", "X1"), episode("01/01/2024", rne="P")]),
    Case("starts after care ended", [period("10/02/2024", "11/02/2024")], ENDED),
    Case("starts after care ended, open", [period("10/02/2024")], ENDED),
    Case("starts the day care ended", [period("01/02/2024", "01/02/2024")], ENDED),
    Case("runs past the end of care", [period("25/01/2024", "05/02/2024")], ENDED),
    Case("between two periods of care", [period("01/10/2023", "02/10/2023")],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/11/2023")]),
    Case("from one period of care into the next", [period("01/08/2023", "05/11/2023")],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/11/2023")]),
    Case("open in an ended period of care, child back in care",
         [period("01/08/2023")],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/11/2023")]),
    Case("episodes out of order", [period("01/10/2023", "02/10/2023")],
         [episode("01/11/2023"), episode("01/06/2022", "01/09/2023", "E8")]),
    Case("same DECOM twice", [period("01/10/2023", "02/10/2023")],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/06/2022")]),
    Case("open before care began", [period("03/05/2023")], [episode("01/06/2023")]),
    Case("starts on the day placement changed, open", [period("01/01/2024")],
         [episode("01/06/2022", "01/01/2024", "X1"), episode("01/01/2024", rne="P")]),
    Case("DOB one-digit in missing", [period("03/05/2023", "04/05/2023", dob="5/1/2010")]),
    Case("starts in care, ends the day care ended", [period("25/01/2024", "01/02/2024")],
         ENDED),
    Case("two periods of care, missing in first, open", [period("01/08/2023")],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/09/2023", rne="S")]),
    Case("in the second period of care", [period("10/11/2023", "12/11/2023")],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/11/2023")]),
    Case("care ended at 18, not E8", [period("15/03/2024", "20/03/2024")],
         [episode("01/06/2022", "20/03/2024", "E17")], dob="20/03/2006"),
    Case("care ended at 18, E8", [period("15/03/2024", "20/03/2024")],
         [episode("01/06/2022", "20/03/2024", "E8")], dob="20/03/2006"),
    Case("before care started", [period("03/05/2023", "04/05/2023")], [episode("01/06/2023")]),
    Case("no episode at all", [period("03/05/2023", "04/05/2023")], []),
    Case("on the day of birth", [period("12/08/2023", "13/08/2023")],
         [episode("12/08/2023")], dob="12/08/2023"),
    Case("not in header", [period("03/05/2023", "04/05/2023")], header=[]),
    Case("not in header, no episode", [period("03/05/2023", "04/05/2023")], [], []),
    Case("blank child", [period("03/05/2023", "04/05/2023", child=" ")], episodes=[], header=[]),
    Case("child in lower case", [period("03/05/2023", "04/05/2023", child=LOWER)]),
    Case("DOB differs from header", [period("03/05/2023", "04/05/2023", dob="06/01/2010")]),
    # Episodes (no missing periods): DfE's rules on episodes and their sequence.
    Case("reason but no end", [], [episode("01/06/2022", rec="E8")]),
    Case("end but no reason", [], [episode("01/06/2022", "01/02/2024")]),
    Case("starts before 14 October 1991", [], [episode("01/06/1990")], dob="05/01/1990"),
    Case("episode ends after the year", [], [episode("01/06/2022", "05/04/2024", "E8")]),
    Case("new episode while one is open", [],
         [episode("01/06/2022"), episode("01/09/2023", rne="P")]),
    Case("episodes overlap", [],
         [episode("01/06/2022", "01/09/2023", "X1"), episode("01/08/2023", rne="P")]),
    Case("X1 with no episode after", [], [episode("01/06/2022", "01/02/2024", "X1")]),
    Case("started again the day care ended", [],
         [episode("01/06/2022", "01/09/2023", "X1"), episode("01/09/2023")]),
    Case("continues after care ended", [],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/11/2023", rne="P")]),
    Case("continuation after a gap", [],
         [episode("01/06/2022", "01/09/2023", "X1"), episode("05/09/2023", rne="P")]),
    Case("ended without a reason, then another", [],
         [episode("01/06/2022", "01/09/2023"), episode("01/09/2023", rne="P")]),
    Case("ended E8, next starts that day", [],
         [episode("01/06/2022", "01/09/2023", "E8"), episode("01/09/2023")]),
    Case("lower-case codes", [],
         [episode("01/06/2022", "01/09/2023", "x1", LS="c2", PLACE="u1"),
          episode("01/09/2023", "01/10/2023", "e8", rne="s"), episode("01/11/2023", rne="p")]),
    Case("first episode before birth", [], [episode("01/01/2009")]),
    Case("episode with blank child", [], [episode("01/06/2022", child=BLANK)], header=[]),
    # Header and episode values, for the checks named mfc.* that a DfE rule matches.
    Case("sex code of 2024-25", [], header=[child(SEX="M")]),
    Case("ISO date of birth", [], dob="2008-09-17"),
    Case("unknown ethnicity", [], header=[child(ETHNIC="WHITE")]),
    Case("impossible MC_DOB", [], header=[child(SEX="2", MOTHER="1", MC_DOB="30/02/2024")],
         dob="17/09/2008"),
    Case("unreadable DEC", [], [episode("01/06/2022", "unknown", "E8")]),
    Case("unknown legal status", [], [episode("01/06/2022", LS="C9")]),
    Case("placement type of 2025-26", [], [episode("01/06/2022", PLACE="Z11")]),
    Case("unknown reason ceased", [], [episode("01/06/2022", "01/02/2024", "E99")]),
    Case("episode ends before it starts", [], [episode("10/10/2021", "09/10/2021", "E8")]),
    Case("episodes but not in header", [], header=[]),
]


def build(cases: list[Case]) -> tuple[dict[str, list[dict]], dict[tuple[str, int], str]]:
    """The three tables of one return, and which case each (file, line) came from."""
    tables: dict[str, list[dict]] = {"header": [], "episodes": [], "missing": []}
    names: dict[tuple[str, int], str] = {}

    def add(table: str, row: dict, label: str) -> None:
        tables[table].append(row)
        names[(f"{table}.csv", len(tables[table]) + 1)] = label  # line 1: column names

    for number, case in enumerate(cases, start=1):
        child_id = f"C{number:02d}"
        for table, rows in (("missing", case.missing), ("episodes", case.episodes),
                            ("header", case.header)):
            if rows is None:
                rows = [episode("01/06/2022")] if table == "episodes" else [child()]
            for n, row in enumerate(rows, start=1):
                # Blank values are left out (written blank); CHILD and DOB default to the case's.
                row = {"CHILD": child_id, "DOB": case.dob, **{k: v for k, v in row.items() if v}}
                row["CHILD"] = row["CHILD"].replace(LOWER, child_id.lower()).replace(BLANK, "")
                add(table, row, case.name if len(rows) == 1 else f"{case.name}/{n}")
    return tables, names


# Episodes whose DECOM cannot be read, in a return of their own: DfE's 302 raises on a child
# with no readable DECOM, and would then not run on the other cases.
UNREADABLE_DECOM: list[Case] = [
    Case("impossible DECOM", [], [episode("32/01/2020")]),
    Case("blank DECOM", [], [episode("")]),
]
RAISES = {("808", "302"): "DfE's 302 takes each child's earliest DECOM and raises when a child "
                         "has none that can be read (csc-validator-be-903 0.1.17)."}
# Two small authorities' 2023-24 returns from the synthetic nation (src/mfc/synth), with
# defects of every row kind in 5% of rows (docs/synthetic-data.md). The rules with no known
# difference must flag the same rows there too; the others differ only in the ways KNOWN
# lists, which the planted cases pin down row by row.
SYNTH = {"E06000001", "E06000005"}   # Hartlepool, Darlington
# Returns with planted defects, by the authority they are delivered for (DfE code).
RETURNS = {AUTHORITY: CASES, "808": UNREADABLE_DECOM}


# --- Known differences ---------------------------------------------------------------------
# (rule, row, who flags it) -> why the two differ. "gate": only our gate flags the row;
# "validator": only DfE's validator does. The test fails on any difference not listed here,
# and on a listed one that has gone (then take it out here and in docs/returns/council.md).
TRIMMED = ("The gate removes spaces around a value before it checks it (the return's file "
           "format); the validator reads them as part of the value, so ' 03/05/2023' is not a "
           "date and ' M' not a missing type.")
UPPER_CASED = ("The validator upper-cases every value before its rules read it; the gate "
               "takes the MISSING code and CHILD as delivered ('m' is not a code; 'c39' is not "
               "the child 'C39').")
ONE_DIGIT = ("The gate reads dates only as dd/mm/yyyy, two-digit day and month, as the return's "
             "spec says; the validator's parser also takes 3/5/2023.")
OVERLAP_ROW = ("Of two overlapping periods, or one still open when the next starts, the gate "
               "flags the earlier (whose end is wrong or missing) and names the later; the "
               "validator flags the later (it orders the periods by their end).")
UNREADABLE_END = ("An unreadable MIS_END is the gate's 1005; the validator reads it as blank, "
                  "so the period as still open when the next starts, and flags the next under "
                  "574.")
NOT_IN_HEADER = ("A child not in header.csv is INT04's; mfc.missing.no_episode looks only at "
                 "children in header.csv. The validator's 1012 flags every child without "
                 "episodes.")
ANY_TYPE_564 = ("The gate's 564 flags a blank MIS_START whatever MISSING holds; the validator's "
                "only when MISSING is M or A (the unknown code is 1006's on both sides).")
SAME_START = ("Two periods of a child with the same start are the gate's "
              "mfc.missing.duplicate_period (both lines); the validator's 574 flags the second.")
OUTSIDE_CARE_577 = ("The validator's 577 flags any period that lies outside every period of "
                    "care, ended or not; the gate places each period in the period of care it "
                    "starts in and reports it once: 581 before care began, 578 after it ended, "
                    "577 only one that starts in care and is open or ends after care ended.")
SPANS_PERIODS = ("A period that starts in one period of care and ends in the next ran past the "
                 "end of care: the gate's 577 flags it; the validator's does not, because the "
                 "end falls inside the later period of care.")
BEFORE_CARE_578 = ("The validator's 578 tests 'outside every period of care', so it flags a "
                   "period that starts before care began too; the gate reports that one as 581.")
ROW_302 = ("The gate flags the child's first episode and names the header.csv line with the "
           "date of birth; the validator flags both rows.")
ROW_580 = ("The gate flags the missing period and names the episode that ended at 18; the "
           "validator flags that episode.")
UNREADABLE_581 = ("The validator's 581 flags every period whose start is not inside an episode, "
                  "so also one with a blank or unreadable MIS_START; the gate reports that under "
                  "1004 (and 564) only.")
OUT_OF_CARE_581 = ("The validator's 581 flags every period that starts outside every episode, so "
                   "also one that starts after care ended or between two periods of care; the "
                   "gate reports those as 578.")
BLANK_CHILD = ("A row with a blank CHILD is the gate's mfc.<table>.child; its cross-table checks "
               "skip it. The validator matches the blank against header.csv / episodes.csv.")
SAME_DECOM = ("Two episodes of a child with the same DECOM: the gate takes them in the order of "
              "the file, so the open one delivered last is the child's last episode; the "
              "validator's sort leaves their order undefined, and its 142 took the open one as "
              "followed by another.")
NO_REC_142 = ("The validator's 142 also flags an ended episode without REC; the gate reports that "
              "as mfc.episodes.rec (REC blank although DEC is given).")
ONE_WAY_148 = ("The gate's 148 is REC given while DEC is blank; DEC given with REC blank (148's "
               "other half in the validator) is mfc.episodes.rec.")
REC_149 = ("mfc.episodes.rec is 149 (REC not a valid code) and also DEC given with REC blank, "
           "which the validator reports under 148.")
BLANK_DECOM = ("141 checks a DECOM that is given; the gate's mfc.episodes.decom also fails a "
               "blank one (DECOM may not be blank).")
KNOWN: dict[tuple[str, str, str], str] = {
    ("1004", "one-digit start", "gate"): ONE_DIGIT,
    ("1004", "padded start", "validator"): TRIMMED,
    ("1006", "lower-case type", "gate"): UPPER_CASED,
    ("1006", "padded type", "validator"): TRIMMED,
    ("142", "ended without a reason, then another/1", "validator"): NO_REC_142,
    ("142", "same DECOM twice/2", "validator"): SAME_DECOM,
    ("148", "end but no reason", "validator"): ONE_WAY_148,
    ("148", "ended without a reason, then another/1", "validator"): ONE_WAY_148,
    ("574", "open then again/1", "gate"): OVERLAP_ROW,
    ("574", "open then again/2", "validator"): OVERLAP_ROW,
    ("564", "unknown type, no start", "gate"): ANY_TYPE_564,
    ("574", "same start/2", "validator"): SAME_START,
    ("574", "partial overlap/1", "gate"): OVERLAP_ROW,
    ("574", "partial overlap/2", "validator"): OVERLAP_ROW,
    ("574", "after an unreadable end/2", "validator"): UNREADABLE_END,
    ("577", "before care started", "validator"): OUTSIDE_CARE_577,
    ("577", "between two periods of care", "validator"): OUTSIDE_CARE_577,
    ("577", "starts after care ended", "validator"): OUTSIDE_CARE_577,
    ("577", "starts after care ended, open", "validator"): OUTSIDE_CARE_577,
    ("577", "open before care began", "validator"): OUTSIDE_CARE_577,
    ("577", "episodes out of order", "validator"): OUTSIDE_CARE_577,
    ("577", "from one period of care into the next", "gate"): SPANS_PERIODS,
    ("578", "before care started", "validator"): BEFORE_CARE_578,
    ("578", "open before care began", "validator"): BEFORE_CARE_578,
    ("302", "first episode before birth", "validator"): ROW_302,
    ("580", "care ended at 18, not E8", "gate"): ROW_580,
    ("580", "care ended at 18, not E8", "validator"): ROW_580,
    ("581", "ISO start", "validator"): UNREADABLE_581,
    ("581", "end but no type or start", "validator"): UNREADABLE_581,
    ("581", "impossible start", "validator"): UNREADABLE_581,
    ("581", "padded start", "validator"): TRIMMED + " " + UNREADABLE_581,
    ("581", "type but no start", "validator"): UNREADABLE_581,
    ("581", "unknown type, no start", "validator"): UNREADABLE_581,
    ("581", "between two periods of care", "validator"): OUT_OF_CARE_581,
    ("581", "starts after care ended", "validator"): OUT_OF_CARE_581,
    ("581", "starts after care ended, open", "validator"): OUT_OF_CARE_581,
    ("581", "episodes out of order", "validator"): OUT_OF_CARE_581,
    ("INT03", "episode with blank child", "validator"): BLANK_CHILD,
    ("INT04", "blank child", "validator"): BLANK_CHILD,
    ("INT04", "child in lower case", "gate"): UPPER_CASED,
    ("mfc.episodes.decom", "blank DECOM", "gate"): BLANK_DECOM,
    ("mfc.episodes.rec", "end but no reason", "gate"): REC_149,
    ("mfc.episodes.rec", "ended without a reason, then another/1", "gate"): REC_149,
    ("mfc.missing.no_episode", "blank child", "validator"): BLANK_CHILD,
    ("mfc.missing.no_episode", "not in header, no episode", "validator"): NOT_IN_HEADER,
}


# Checks the gate names mfc.* that a DfE rule of the validator matches: compared as well.
EQUIVALENT = {
    "mfc.header.sex": "101", "mfc.header.dob": "102", "mfc.header.ethnic": "103",
    "mfc.header.mc_dob": "171", "mfc.episodes.decom": "141", "mfc.episodes.ls": "144",
    "mfc.episodes.place": "146", "mfc.episodes.dec": "147", "mfc.episodes.rec": "149",
    "mfc.episodes.dec_before_decom": "356", "mfc.missing.no_episode": "1012",
}


# --- The comparison ------------------------------------------------------------------------

Row = tuple[str, str, int]  # authority as delivered, file, line as delivered (1: column names)


@dataclass
class Comparison:
    oracle: dict                                  # the driver's JSON
    shared: dict[str, str]                        # our check -> the validator's rule
    gate: dict[str, set[Row]]                     # our check -> rows our gate flagged
    validator: dict[str, set[Row]]                # DfE rule -> rows the validator flagged
    names: dict[Row, str]                         # row -> the case it came from
    raised: dict[str, list[str]]                  # authority -> rules that raised on its return
    theirs: set[str]                              # the validator's rules on these tables
    clean_gate: dict[str, set[Row]] = field(default_factory=dict)
    clean_validator: dict[str, set[Row]] = field(default_factory=dict)
    synthetic_gate: dict[str, set[Row]] = field(default_factory=dict)
    synthetic_validator: dict[str, set[Row]] = field(default_factory=dict)

    def differences(self) -> dict[tuple[str, str, str], Row]:
        found = {}
        for rule, theirs_as in self.shared.items():
            ours, theirs = self.gate.get(rule, set()), self.validator.get(theirs_as, set())
            for side, rows in (("gate", ours - theirs), ("validator", theirs - ours)):
                for row in rows:
                    name = self.names.get(row, f"{row[0]}: {row[1]} line {row[2]}")
                    found[(rule, name, side)] = row
        return found


def _flagged(authority: str, result: dict, into: dict[str, set[Row]]) -> None:
    """The driver's rows (0-based data rows) as the gate names them: file and line."""
    for rule, rows in result["rules"].items():
        into.setdefault(rule, set()).update((authority, f"{table}.csv", row + 2)
                                            for table, row in rows)


def gate_rows(server_url: str, landing: Path, root: Path,
              returns: int) -> list[tuple[str, str, str, int]]:
    """Gate every council return delivered under landing in a database of its own: the
    failing rows as (authority as delivered, check, file, line)."""
    url = create_database(server_url)
    try:
        with pytest.MonkeyPatch.context() as env:
            from mfc import warehouse

            env.setenv("MFC_WAREHOUSE_URL", url)
            env.setenv("MFC_ARCHIVE_DIR", str(root / "archive"))
            warehouse.ensure_schema(url)
            assert len(register_and_gate(url, landing)) == returns
            return query(url, "select s.authority_as_delivered, f.check_id, f.file_name, "
                              "f.line_no from dq.failing_rows f join audit.submissions s "
                              "using (submission_id)")
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="module")
def compared(server_url, tmp_path_factory) -> Comparison:
    """The planted returns, the clean one and the synthetic nation's, delivered together,
    gated in one run and read by the validator in one call."""
    from mfc.synth.write import Options, synthesise

    python = oracle_venv()
    root = tmp_path_factory.mktemp("oracle")
    landing = root / "landing"
    synthesise(Options(out=root, seed=7, years=range(2024, 2025), authorities=SYNTH,
                       defect_rate=0.05, progress=False, reported=False))
    shutil.rmtree(landing / "police")
    synthetic = {folder.parent.name for folder in (landing / "council").glob(f"*/{YEAR}")}
    names: dict[Row, str] = {}
    for authority, cases in RETURNS.items():
        tables, lines = build(cases)
        deliver(landing, tables, authority=authority, year=YEAR)
        names |= {(authority, *line): name for line, name in lines.items()}
    deliver(landing, good_tables(), authority=CLEAN_AUTHORITY, year=YEAR)
    folders = {folder.parent.name: folder
               for folder in sorted((landing / "council").glob(f"*/{YEAR}"))}
    assert set(folders) == {*RETURNS, CLEAN_AUTHORITY} | synthetic
    oracle = run_validator(python, list(folders.values()))
    results = {a: oracle["returns"][str(folder)] for a, folder in folders.items()}
    # A synthetic return with a file defect the validator cannot read is left out.
    unread = {a for a, result in results.items() if "error" in result}
    assert unread < synthetic, f"the validator could not read {unread}"

    def which(authority: str) -> str:
        return ("clean" if authority == CLEAN_AUTHORITY else
                "synthetic" if authority in synthetic else "planted")

    gate: dict[str, dict[str, set[Row]]] = {"planted": {}, "clean": {}, "synthetic": {}}
    for authority, check_id, file_name, line in gate_rows(server_url, landing, root,
                                                          len(folders)):
        if authority not in unread:
            gate[which(authority)].setdefault(check_id, set()).add((authority, file_name, line))
    validator: dict[str, dict[str, set[Row]]] = {"planted": {}, "clean": {}, "synthetic": {}}
    for authority, result in results.items():
        if authority not in unread:
            _flagged(authority, result, validator[which(authority)])

    # The validator's rules on these tables: those that ran, and those that raised (a rule
    # both implement that raises is a failure, not a rule to leave out). A rule of ours that
    # the validator has but skips (it needs another SSDA903 table) cannot be compared here.
    results = {a: r for a, r in results.items() if a not in unread}
    theirs = {rule for r in results.values() for rule in [*r["rules"], *r["raised"]]}
    ours = {c.check_id for c in council_checks.CONTENT}
    skipped = {rule for r in results.values() for rule in r["skipped"]} - theirs
    assert ours & skipped == set(), f"the validator needs another table for {ours & skipped}"
    shared = {rule: rule for rule in sorted(ours & theirs) if re.fullmatch(r"\d+|INT\d+", rule)}
    shared |= {rule: dfe for rule, dfe in EQUIVALENT.items() if rule in ours and dfe in theirs}
    return Comparison(oracle=oracle, shared=shared, gate=gate["planted"],
                      validator=validator["planted"], names=names,
                      raised={a: r["raised"] for a, r in results.items()}, theirs=theirs,
                      clean_gate=gate["clean"], clean_validator=validator["clean"],
                      synthetic_gate=gate["synthetic"],
                      synthetic_validator=validator["synthetic"])


def test_the_oracle_is_the_pinned_validator_on_pandas_1_5_in_its_own_environment(compared):
    assert (compared.oracle["validator"], compared.oracle["pandas"]) == (VALIDATOR_VERSION,
                                                                         PANDAS_VERSION)
    assert compared.oracle["ruleset"] == "lac2023_24"
    pins = dict(line.split("==") for line in REQUIREMENTS.read_text().split()
                if "==" in line)
    assert (pins["csc-validator-be-903"], pins["pandas"]) == (VALIDATOR_VERSION,
                                                             PANDAS_VERSION)
    # Every rule both implement ran on every return but where RAISES says why not (DfE's 336
    # raises too, on a child whose episodes cannot be ordered; it is not one of ours).
    assert {(a, rule) for a, r in compared.raised.items() for rule in r
            if rule in compared.shared.values()} == set(RAISES)
    # Never in the project's environment.
    with pytest.raises(ImportError):
        __import__("lac_validator")


def test_every_missing_rule_the_gate_claims_is_compared_and_fires_on_both_sides(compared):
    # The DfE Missing rules the gate implements (docs/returns/council.md lists them) are all in
    # the validator's 2023-24 rules, and each flags at least one row on both sides: a rule
    # that fires nowhere would agree vacuously.
    assert {"1004", "1005", "1006", "564", "565", "566", "567", "570", "571", "574", "575",
            "577", "578", "580", "581", "586", "INT04", "INT13"} <= set(compared.shared)
    assert set(EQUIVALENT) <= set(compared.shared)
    silent = [rule for rule, dfe in compared.shared.items()
              if not (compared.gate.get(rule) and compared.validator.get(dfe))]
    assert silent == [], f"no planted defect makes these fire on both sides: {silent}"


def test_both_flag_the_same_rows_or_the_difference_is_known(compared):
    found = compared.differences()
    unlisted = {k: v for k, v in found.items() if k not in KNOWN}
    gone = sorted(k for k in KNOWN if k not in found)
    assert unlisted == {}, "differences from DfE's validator not listed in KNOWN:\n" + \
        "\n".join(f"  {k!r}: {a}, {f} line {n}" for k, (a, f, n) in sorted(unlisted.items()))
    assert gone == [], f"listed in KNOWN but no longer differ (take them out): {gone}"


def test_neither_flags_the_good_return(compared):
    assert {rule: rows for rule, rows in compared.clean_gate.items()
            if rule in compared.shared and rows} == {}
    assert {rule: rows for rule, rows in compared.clean_validator.items()
            if rule in compared.shared.values() and rows} == {}


def test_the_docs_name_every_known_difference_and_the_version(compared):
    text = DOCS.read_text()
    assert SECTION in text, f"docs/returns/council.md has no section {SECTION!r}"
    section = text[text.index(SECTION):]
    assert f"csc-validator-be-903 {VALIDATOR_VERSION}" in section
    for rule in compared.shared:
        assert f"`{rule}`" in section, f"rule {rule} compared but not named in the docs"
    for rule, dfe in compared.shared.items():
        assert f"`{dfe}`" in section, f"DfE rule {dfe} ({rule}) compared but not named"
    for rule, _, _ in KNOWN:
        assert f"`{rule}`" in section, f"a difference on {rule} is not in the docs"
    # The two rows of "Rules compared" name exactly the rules that agree and those that differ.
    differing = {rule for rule, _, _ in compared.differences()}
    for title, rules in (("Same rows on every planted defect", set(compared.shared) - differing),
                         ("Same rows but for the differences below", differing)):
        [row] = [line for line in section.splitlines() if line.startswith(f"| {title} |")]
        named = set(re.findall(r"`([^`]+)`", row))
        assert named == rules | {compared.shared[rule] for rule in rules}, title
    # Every rule of the validator on these tables that the gate does not implement is listed,
    # with its status (added, or out of scope and why).
    unlisted = sorted(rule for rule in compared.theirs - set(compared.shared.values())
                      if f"`{rule}`" not in section)
    assert unlisted == [], f"DfE rules the gate does not enforce, not in the docs: {unlisted}"


def test_rules_without_known_differences_agree_on_a_synthetic_nations_returns(compared):
    known = {rule for rule, _, _ in KNOWN}
    agreeing = {rule: dfe for rule, dfe in compared.shared.items() if rule not in known}
    gate, validator = compared.synthetic_gate, compared.synthetic_validator
    differ = {rule: {"gate only": sorted(gate.get(rule, set()) - validator.get(dfe, set())),
                     "validator only": sorted(validator.get(dfe, set()) - gate.get(rule, set()))}
              for rule, dfe in agreeing.items()}
    assert {rule: rows for rule, rows in differ.items() if any(rows.values())} == {}
    # The synthetic defects make some of them fire (bad end dates, ends before starts, periods
    # before the date of birth, ...): agreement there is not vacuous.
    fired = {rule: len(gate[rule]) for rule in agreeing if gate.get(rule)}
    assert len(fired) >= 3 and sum(fired.values()) >= 10, fired
