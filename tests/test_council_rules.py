"""The council gate's rules on periods of care and on the sequence of episodes (DfE's 142, 148,
302, 353, 385, 388, 431-433, 501, 577, 578, 581; INT03; mfc.missing.no_episode), on crafted
returns: each case fails exactly the checks it should, on the line it should, naming the row it
conflicts with (CONFLICTS_WITH).

One database for the module: every case is a return of its own authority, all gated in one
batch as a nightly run would, and each assertion reads that case's submission. Real PostgreSQL,
real Great Expectations.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import psycopg
import pytest
from helpers import (
    create_database,
    deliver,
    drop_database,
    gate_waiting,
    good_tables,
    query,
    results_of,
)

from mfc import landing

C = "CONFLICTS_WITH"


def _episode(child: str, decom: str, dec: str = "", rec: str = "", rne: str = "S") -> dict:
    return {"CHILD": child, "DECOM": decom, "RNE": rne, "LS": "C2", "CIN": "N1", "PLACE": "U4",
            "PLACE_PROVIDER": "PR1", "DEC": dec, "REC": rec, "REASON_PLACE_CHANGE": "",
            "HOME_POST": "", "PL_POST": "", "URN": ""}


def _edit(**changes):
    """A spoiler: {table: {row index: {column: value}}} edits, then rows appended
    (`add_<table>`: rows) and removed (`drop_<table>`: indexes)."""
    def spoil(tables):
        for table in ("header", "episodes", "missing"):
            for index, values in changes.get(table, {}).items():
                tables[table][index].update(values)
            for index in sorted(changes.get(f"drop_{table}", ()), reverse=True):
                del tables[table][index]
            tables[table].extend(changes.get(f"add_{table}", ()))
    return spoil


# The good return (tests/helpers.py GOOD), 2023-24: episodes.csv line 2 T001 from 01/06/2022,
# line 3 T002 from 15/04/2023, line 4 T003 from 10/10/2021, all open; missing.csv line 2 T001
# 03/05-04/05/2023, line 3 T001 12/08/2023, line 4 T002 from 01/03/2024, open.
# case -> (spoil, checks that fail (exactly), check, file, line, values of its first failing row)
CASES: dict[str, tuple] = {
    "a missing period in the gap between two periods of care": (
        # T001 left care on 01/07/2023 and came back on 01/09/2023 (line 5): the period from
        # 12/08/2023 (line 3) started while the child was not looked after.
        _edit(episodes={0: {"DEC": "01/07/2023", "REC": "E8"}},
              add_episodes=[_episode("T001", "01/09/2023")]),
        {"578"}, "578", "missing.csv", 3,
        {"MIS_START": "12/08/2023", C: "episodes.csv line 2 (DEC 01/07/2023)"}),
    "a missing period that runs past the end of care": (
        _edit(episodes={1: {"DEC": "05/03/2024", "REC": "E8"}},
              missing={2: {"MIS_END": "10/03/2024"}}),
        {"577"}, "577", "missing.csv", 4,
        {"MIS_START": "01/03/2024", "MIS_END": "10/03/2024",
         C: "episodes.csv line 3 (DEC 05/03/2024)"}),
    "a missing period that runs on through a gap into the next period of care": (
        # DfE's validator lets this pass (it ends inside a period of care); the child was not
        # looked after from 06/03/2024 to 07/03/2024, so the gate does not.
        _edit(episodes={1: {"DEC": "05/03/2024", "REC": "E8"}},
              missing={2: {"MIS_END": "10/03/2024"}},
              add_episodes=[_episode("T002", "08/03/2024")]),
        {"577"}, "577", "missing.csv", 4,
        {"MIS_START": "01/03/2024", "MIS_END": "10/03/2024",
         C: "episodes.csv line 3 (DEC 05/03/2024)"}),
    "a missing period before the child was first looked after": (
        _edit(episodes={0: {"DECOM": "01/06/2023"}}),
        {"581"}, "581", "missing.csv", 2,
        {"MIS_START": "03/05/2023", C: "episodes.csv line 2 (DECOM 01/06/2023)"}),
    "a child with missing periods and no episode": (
        _edit(drop_episodes=[1]),
        {"mfc.missing.no_episode"}, "mfc.missing.no_episode", "missing.csv", 4,
        {"MIS_START": "01/03/2024"}),
    "a child in no table but missing.csv": (
        # Not in header.csv either: INT04 says so, and no_episode leaves it to INT04.
        _edit(missing={2: {"CHILD": "T999"}}),
        {"INT04"}, "INT04", "missing.csv", 4, {}),
    "148 a reason for ending on an episode that has not ended": (
        _edit(episodes={0: {"REC": "E8"}}),
        {"148"}, "148", "episodes.csv", 2, {"DEC": None, "REC": "E8"}),
    "353 an episode before 14 October 1991": (
        _edit(header={2: {"DOB": "01/01/1985"}}, episodes={2: {"DECOM": "01/10/1991"}}),
        {"353"}, "353", "episodes.csv", 4, {"DECOM": "01/10/1991"}),
    "385 an episode ending after the collection year": (
        _edit(episodes={2: {"DEC": "02/04/2024", "REC": "E8"}}),
        {"385"}, "385", "episodes.csv", 4, {"DEC": "02/04/2024"}),
    "142 a new episode while the previous is open": (
        _edit(add_episodes=[_episode("T001", "01/07/2023")]),
        {"142"}, "142", "episodes.csv", 2,
        {"DECOM": "01/06/2022", "DEC": None, C: "episodes.csv line 5 (DECOM 01/07/2023)"}),
    "501 an episode starting before the previous ended": (
        # Overlapping episodes break the X1 chain too (388) and the continuation (433).
        _edit(episodes={0: {"DEC": "01/08/2023", "REC": "X1"}},
              add_episodes=[_episode("T001", "01/07/2023", rne="P")]),
        {"501", "388", "433"}, "501", "episodes.csv", 5,
        {"DECOM": "01/07/2023", C: "episodes.csv line 2 (DEC 01/08/2023)"}),
    "501 an episode inside another: the child is in care throughout, so no 578": (
        # T001's line 5 (01/07-01/08/2023) lies inside line 2 (to 20/03/2024): the period of
        # care ends on 20/03/2024, not at the last episode's DEC, so 12/08/2023 is in care.
        _edit(episodes={0: {"DEC": "20/03/2024", "REC": "E8"}},
              add_episodes=[_episode("T001", "01/07/2023", "01/08/2023", "E8")]),
        {"501", "431"}, "501", "episodes.csv", 5,
        {"DECOM": "01/07/2023", C: "episodes.csv line 2 (DEC 20/03/2024)"}),
    "388 X1 on the last episode": (
        _edit(episodes={2: {"DEC": "01/02/2024", "REC": "X1"}}),
        {"388"}, "388", "episodes.csv", 4, {"DEC": "01/02/2024", "REC": "X1", C: None}),
    "388 a next episode the same day without X1": (
        # E8 says the child left care; the next episode says it went on (432).
        _edit(episodes={2: {"DEC": "01/02/2024", "REC": "E8"}},
              add_episodes=[_episode("T003", "01/02/2024", rne="P")]),
        {"388", "432"}, "388", "episodes.csv", 4,
        {"DEC": "01/02/2024", "REC": "E8", C: "episodes.csv line 5 (DECOM 01/02/2024)"}),
    "431 started to be looked after the day the last episode ended": (
        _edit(episodes={2: {"DEC": "01/02/2024", "REC": "X1"}},
              add_episodes=[_episode("T003", "01/02/2024", rne="S")]),
        {"431"}, "431", "episodes.csv", 5,
        {"RNE": "S", "DECOM": "01/02/2024", C: "episodes.csv line 4 (DEC 01/02/2024)"}),
    "432 a continuation after the child left care": (
        _edit(episodes={2: {"DEC": "01/02/2024", "REC": "E13"}},
              add_episodes=[_episode("T003", "10/02/2024", rne="T")]),
        {"432", "433"}, "432", "episodes.csv", 5,
        {"RNE": "T", C: "episodes.csv line 4 (REC E13)"}),
    "433 a continuation that does not start when the last episode ended": (
        _edit(episodes={2: {"DEC": "01/02/2024", "REC": "X1"}},
              add_episodes=[_episode("T003", "03/02/2024", rne="P")]),
        {"433", "388"}, "433", "episodes.csv", 5,
        {"RNE": "P", "DECOM": "03/02/2024", C: "episodes.csv line 4 (DEC 01/02/2024)"}),
    "302 the first episode before the child was born": (
        _edit(header={2: {"DOB": "01/01/2022"}}),
        {"302"}, "302", "episodes.csv", 4,
        {"DECOM": "10/10/2021", C: "header.csv line 4 (DOB 01/01/2022)"}),
    "INT03 an episode of a child not in header.csv": (
        _edit(episodes={2: {"CHILD": "T998"}}),
        {"INT03"}, "INT03", "episodes.csv", 4, {}),
}
# Returns that must pass every one of these rules.
CLEAN = {
    "contiguous episodes are one period of care": _edit(
        # T001: a change of placement on 01/07/2023 (X1, then P): 12/08/2023 is in care.
        # T002: two changes (X1, X1), then open: 01/03/2024, open, is in care.
        episodes={0: {"DEC": "01/07/2023", "REC": "X1"},
                  1: {"DEC": "01/12/2023", "REC": "X1"}},
        add_episodes=[_episode("T001", "01/07/2023", rne="P"),
                      _episode("T002", "01/12/2023", "10/01/2024", "X1", rne="T"),
                      _episode("T002", "10/01/2024", rne="L")]),
    "a missing period closed on the day care ended, then a new period of care": _edit(
        episodes={1: {"DEC": "05/03/2024", "REC": "E8"}},
        missing={2: {"MIS_END": "05/03/2024"}},
        add_episodes=[_episode("T002", "20/03/2024")],
        add_missing=[{"CHILD": "T002", "DOB": "17/09/2008", "MISSING": "A",
                      "MIS_START": "25/03/2024", "MIS_END": "26/03/2024"}]),
}
# Every check id these cases test (tests/test_gate.py counts them as covered).
CHECKS_TESTED = {check for _, _, check, *_ in CASES.values()} | {"577", "578", "581"}


def _authorities(count: int) -> list[str]:
    """Unitary authorities in being throughout 2023-24, by GSS code: one per case."""
    from mfc.geography import AuthorityRegister, UnknownAuthority

    register, codes = AuthorityRegister.from_seed(), []
    for number in range(1, 100):
        code = f"E06{number:06d}"
        try:
            register.resolve(code, on=date(2024, 3, 31))
        except UnknownAuthority:
            continue
        codes.append(code)
    assert len(codes) >= count
    return codes[:count]


@pytest.fixture(scope="module")
def gated(server_url, tmp_path_factory):
    """Every case delivered by an authority of its own and gated in one batch: case ->
    (submission id, status, failed checks, results by check id), and the database's URL."""
    folder = tmp_path_factory.mktemp("council-rules")
    url = create_database(server_url)
    cases = {**{name: spoil for name, (spoil, *_) in CASES.items()}, **CLEAN}
    try:
        with pytest.MonkeyPatch.context() as patch:
            from mfc import warehouse

            patch.setenv("MFC_WAREHOUSE_URL", url)
            patch.setenv("MFC_ARCHIVE_DIR", str(folder / "archive"))
            warehouse.ensure_schema(url)
            by_authority = dict(zip(_authorities(len(cases)), cases, strict=False))
            for authority, name in by_authority.items():
                tables = good_tables()
                cases[name](tables)
                deliver(folder / "landing", tables, authority=authority)
            landing.register_all(url, folder / "landing")
            outcomes = {o.submission_id: o for o in gate_waiting(url)}
            found = {}
            for sid, gss in query(url, "select submission_id, authority_gss "
                                       "from audit.submissions"):
                outcome = outcomes[sid]
                found[by_authority[gss]] = (sid, outcome.status, set(outcome.failed_checks),
                                            results_of(url, sid))
            yield url, found
    finally:
        drop_database(server_url, url)


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_fails_on_its_row_and_names_the_row_it_conflicts_with(gated, case):
    url, found = gated
    _, failing, check_id, file_name, line, values = CASES[case]
    sid, status, failed, results = found[case]
    assert failed == failing
    assert status == "quarantined"
    first = results[check_id]["examples"][0]
    assert (first["file"], first["line"], first["values"]) == (file_name, line, values)
    assert results[check_id]["count"] == 1
    assert query(url, "select file_name, line_no, \"values\" from dq.failing_rows "
                      "where submission_id = %s and check_id = %s", sid, check_id) == [
        (file_name, line, values)]


@pytest.mark.parametrize("case", sorted(CLEAN))
def test_episodes_in_one_period_of_care_pass(gated, case):
    _, found = gated
    _, status, failed, results = found[case]
    assert failed == set()
    assert status == "loaded"
    assert {k: r["result"] for k, r in results.items() if k in CHECKS_TESTED} == {
        k: "PASS" for k in CHECKS_TESTED}


def test_the_row_conflicted_with_is_in_failing_rows_csv(gated):
    from mfc.reports import failing_rows

    url, found = gated
    sid = found["a missing period in the gap between two periods of care"][0]
    with psycopg.connect(url) as conn:
        rows = list(csv.DictReader(io.StringIO(failing_rows.csv_bytes(conn, sid).decode())))
    assert [(r["file"], r["line"], r["column"], r["value"]) for r in rows
            if r["check_id"] == "578"] == [
        ("missing.csv", "3", "CONFLICTS_WITH", "episodes.csv line 2 (DEC 01/07/2023)"),
        ("missing.csv", "3", "MIS_START", "12/08/2023")]
