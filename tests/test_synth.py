"""The synthetic England and Wales: deterministic, calibrated, and its truth and defect manifest
agree with the files it writes."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from helpers import gate_waiting, query

from mfc import landing
from mfc.synth import defects, parameters, reported, write
from mfc.synth.simulate import collection_year

NORTH_EAST = {"E06000001", "E06000002", "E06000003", "E06000004", "E06000005", "E06000047",
              "E06000057", "E08000021", "E08000022", "E08000023", "E08000024", "E08000037"}


def synth(out: Path, years=range(2023, 2025), authorities=NORTH_EAST, scale=0.3,
          defect_rate=0.0, seed=7) -> dict:
    return write.synthesise(write.Options(out, seed, years, authorities, scale, defect_rate,
                                          progress=False))


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_same_seed_and_options_give_byte_identical_output(tmp_path):
    synth(tmp_path / "a", defect_rate=0.05)
    synth(tmp_path / "b", defect_rate=0.05)
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second
    assert any(name.startswith("landing/police/") for name in first)
    synth(tmp_path / "c", defect_rate=0.05, seed=8)
    assert digests(tmp_path / "c") != first


def test_a_slice_is_that_part_of_the_nation(tmp_path):
    synth(tmp_path / "one", authorities={"E06000002"})
    synth(tmp_path / "region", authorities=NORTH_EAST)
    one = digests(tmp_path / "one" / "landing" / "council")
    region = digests(tmp_path / "region" / "landing" / "council")
    assert one and all(region[name] == digest for name, digest in one.items())


def test_national_totals_are_within_five_percent_of_the_targets_every_year(tmp_path):
    # Half scale keeps it quick; no files are written for an empty slice, only the totals.
    summary = synth(tmp_path, years=range(2015, 2025), authorities=set(), scale=0.5)
    targets = parameters.year_targets()
    assert sorted(summary) == list(range(2015, 2025))
    for year_ending, totals in summary.items():
        target = targets[year_ending]
        assert len(totals.children) == pytest.approx(target.children_missing * 0.5, rel=0.05)
        assert totals.incidents == pytest.approx(target.missing_incidents * 0.5, rel=0.05)


def test_clean_returns_pass_every_gate_check(warehouse_url, tmp_path):
    synth(tmp_path, years=range(2024, 2025), authorities={"E06000002", "E06000001", "W06000015"},
          scale=0.2)
    assert rows(tmp_path / "truth" / "defects.csv") == []
    landing.register_all(warehouse_url, tmp_path / "landing")
    council = landing.waiting(warehouse_url, "council")
    assert len(council) == 3
    outcomes = gate_waiting(warehouse_url, "council", "synth")
    assert [o.status for o in outcomes] == ["loaded"] * 3, [o.failed_checks for o in outcomes]
    # Police month files of the forces of those authorities: Cleveland and South Wales.
    police = landing.waiting(warehouse_url, "police")
    assert len(police) == 2 * 12
    outcomes = gate_waiting(warehouse_url, "police", "synth")
    assert {o.status for o in outcomes} == {"loaded"}, [o.failed_checks for o in outcomes]
    # What was loaded is what the truth says the councils and forces recorded.
    records = rows(tmp_path / "truth" / "records.csv")
    council_rows = [r for r in records if r["file"].startswith("landing/council/")]
    police_rows = [r for r in records if r["file"].startswith("landing/police/")]
    assert query(warehouse_url, "select count(*) from raw.council_missing") == [
        (len(council_rows),)]
    assert query(warehouse_url, "select count(*) from raw.police_incidents") == [
        (len(police_rows),)]


def test_every_listed_defect_is_in_its_file_and_every_kind_occurs(tmp_path):
    from mfc.geography import AuthorityRegister

    london = {a.gss_code for a in AuthorityRegister.from_seed()
              if a.region_code == "E12000007" and a.valid_to is None}
    synth(tmp_path, authorities=london, scale=0.2, defect_rate=0.25)
    manifest = rows(tmp_path / "truth" / "defects.csv")
    for row in manifest:
        assert defects.verify(tmp_path, row["file"], row["line"], row["column"], row["kind"]), row
    kinds = Counter(row["kind"] for row in manifest)
    assert set(kinds) == set(defects.ROW_KINDS) | set(defects.FILE_KINDS)
    assert all(row["check_id"] for row in manifest)


def test_truth_maps_every_delivered_record_to_one_incident_and_child(tmp_path):
    synth(tmp_path, scale=0.3)
    out = tmp_path
    records = rows(out / "truth" / "records.csv")
    keys = Counter((r["file"], r["line"]) for r in records)
    assert max(keys.values()) == 1  # one truth row per delivered line
    by_line = {(r["file"], int(r["line"])): r for r in records}
    incidents = {r["true_incident_id"]: r for r in rows(out / "truth" / "incidents.csv")}
    children = {(r["authority_or_force"], r["local_id"]): r["true_child_id"]
                for r in rows(out / "truth" / "children.csv")}
    delivered = 0
    for path in sorted((out / "landing").rglob("*.csv")):
        relative = path.relative_to(out).as_posix()
        source = rows(path)
        delivered += len(source) if "missing.csv" in relative or "/police/" in relative else 0
        for line, row in enumerate(source, start=2):
            if "/police/" in relative:
                truth = by_line[(relative, line)]
                assert incidents[truth["true_incident_id"]]["true_child_id"] == \
                    truth["true_child_id"]
                assert children[(row["FORCE"], row["PERSON_REF"])] == truth["true_child_id"]
            elif relative.endswith("missing.csv"):
                truth = by_line[(relative, line)]
                authority = incidents[truth["true_incident_id"]]["responsible_gss"]
                assert children[(authority, row["CHILD"])] == truth["true_child_id"]
                assert incidents[truth["true_incident_id"]]["council_recorded"] == "1"
    assert delivered == len(records)
    years = {r["file"].split("/")[3] for r in records if r["file"].startswith("landing/council")}
    assert years == {collection_year(2023), collection_year(2024)}


def test_mfc_synth_command_writes_a_region_and_prints_totals_next_to_targets(tmp_path, capsys):
    from mfc import cli

    code = cli.main(["synth", "--out", str(tmp_path), "--seed", "3", "--years", "2024",
                     "--region", "E12000001", "--scale", "0.1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "2023-24  children" in out and "(target   1,300)" in out
    folders = {p.parent.name for p in (tmp_path / "landing" / "council").glob("*/2023-24")}
    assert len(folders) == 12  # the twelve North East authorities
    assert (tmp_path / "landing" / "aggregate" / "dfe-regions" / "answer.csv").is_file()
    assert cli.main(["synth", "--out", str(tmp_path / "x"), "--region", "E99999999"]) == 2
    assert cli.main(["synth", "--out", str(tmp_path / "y"), "--years", "2024", "--authorities",
                     "E06000001", "--scale", "0.1", "--no-reported"]) == 0
    assert (tmp_path / "y" / "landing" / "council").is_dir()
    assert not (tmp_path / "y" / "landing" / "aggregate").exists()
    assert not (tmp_path / "y" / "truth" / "reported.csv").exists()


# Published figures (reported.py), checked against the truth counted here independently -------

HARTLEPOOL = "E06000001"
YEAR_2024 = (date(2023, 4, 1), date(2024, 3, 31))
SPAN = (date(2022, 4, 1), date(2024, 3, 31))  # years 2023 and 2024


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("published")
    synth(out)
    return out


def answer(out: Path, folder: str) -> list[dict[str, str]]:
    return rows(out / "landing" / "aggregate" / folder / "answer.csv")


def value(answer_rows: list[dict[str, str]], start: date, end: date, measure: str,
          counting: str = "", area: str | None = None) -> str:
    found = [r["VALUE"] for r in answer_rows
             if (r["PERIOD_START"], r["PERIOD_END"], r["MEASURE"], r["COUNTING"])
             == (f"{start:%d/%m/%Y}", f"{end:%d/%m/%Y}", measure, counting)
             and area in (None, r["AREA"])]
    assert len(found) == 1, (start, end, measure, counting, area)
    return found[0]


def as_written(number: int) -> str:
    return "<5" if 1 <= number <= 4 else str(number)


def missing_per_child(out: Path, start: date, end: date, counts) -> Counter:
    """Counted missing incidents per true child, in the period, of the incidents `counts`
    accepts: the definitions of reported.py, done row by row."""
    per_child: Counter = Counter()
    for r in rows(out / "truth" / "incidents.csv"):
        day = datetime.strptime(r["reported_missing"], "%d/%m/%Y %H:%M").date()
        missing = r["missing_type"] == "M" or r["council_recorded"] == "0"
        if r["looked_after"] == "Y" and missing and start <= day <= end and counts(r):
            per_child[r["true_child_id"]] += 1
    return per_child


def by_authority(gss: str):
    return lambda r: r["responsible_gss"] == gss


def test_a_council_answers_each_year_with_the_truth(published):
    hartlepool = answer(published, f"foi-{HARTLEPOOL.lower()}")
    assert {(r["SOURCE_KIND"], r["SOURCE_NAME"]) for r in hartlepool} == {("council", "Hartlepool")}
    per_child = missing_per_child(published, *YEAR_2024, by_authority(HARTLEPOOL))
    away = {r["true_child_id"] for r in rows(published / "truth" / "incidents.csv")
            if r["looked_after"] == "Y" and r["responsible_gss"] == HARTLEPOOL
            and r["council_recorded"] == "1" and r["missing_type"] == "A"
            and YEAR_2024[0] <= datetime.strptime(r["reported_missing"][:10], "%d/%m/%Y").date()
            <= YEAR_2024[1]}
    assert len(per_child) >= 5
    expected = {
        ("children_missing", "each_child_once"): len(per_child),
        ("missing_incidents", ""): sum(per_child.values()),
        ("children_missing_more_than_once", "each_child_once"):
            sum(n >= 2 for n in per_child.values()),
        ("children_away", "each_child_once"): len(away),
    }
    for (measure, counting), number in expected.items():
        assert value(hartlepool, *YEAR_2024, measure, counting) == as_written(number), measure


def test_a_span_of_years_counts_a_child_once_or_once_a_year(published):
    hartlepool = answer(published, f"foi-{HARTLEPOOL.lower()}")
    over_span = missing_per_child(published, *SPAN, by_authority(HARTLEPOOL))
    yearly = [missing_per_child(published, date(y - 1, 4, 1), date(y, 3, 31),
                                by_authority(HARTLEPOOL)) for y in (2023, 2024)]
    once = int(value(hartlepool, *SPAN, "children_missing", "each_child_once"))
    summed = int(value(hartlepool, *SPAN, "children_missing", "yearly_sum"))
    assert once == len(over_span) <= summed == sum(len(year) for year in yearly)
    assert once < summed  # some child went missing in both years
    assert value(hartlepool, *SPAN, "children_missing_3_plus", "each_child_once") == \
        as_written(sum(n >= 3 for n in over_span.values()))
    # The public function gives the same truth for any span: here a calendar year.
    incidents = reported.read_incidents(published / "truth" / "incidents.csv")
    calendar = (date(2023, 1, 1), date(2023, 12, 31))
    assert reported.true_value(incidents, "authority", HARTLEPOOL, *calendar,
                               "children_missing") == \
        len(missing_per_child(published, *calendar, by_authority(HARTLEPOOL)))
    assert reported.true_value(incidents, "authority", HARTLEPOOL, *SPAN, "children_missing",
                               "yearly_sum") == summed


def test_a_force_answers_for_calendar_years_inside_the_span(published):
    cleveland = answer(published, "foi-e23000013")
    assert [(r["PERIOD_START"], r["PERIOD_END"], r["MEASURE"]) for r in cleveland] == [
        ("01/01/2023", "31/12/2023", "missing_incidents")]
    assert cleveland[0]["SOURCE_NAME"] == "Cleveland Police" and cleveland[0]["COUNTING"] == ""
    per_child = missing_per_child(
        published, date(2023, 1, 1), date(2023, 12, 31),
        # Of the children of authorities in the slice: the warehouse cannot tell that a child
        # looked after by an authority outside it is looked after.
        lambda r: r["force"] == "E23000013" and r["police_recorded"] == "1"
        and r["responsible_gss"] in NORTH_EAST)
    assert cleveland[0]["VALUE"] == as_written(sum(per_child.values()))
    # Forces are those whose month files were written, not every force that saw a child.
    forces = {p.parent.name for p in (published / "landing" / "aggregate").glob("foi-e23*/*")}
    police = {p.name.lower() for p in (published / "landing" / "police").iterdir()}
    assert forces == {f"foi-{code}" for code in police}


def test_a_complete_region_is_published_rounded_to_ten(published):
    regions = answer(published, "dfe-regions")
    assert {(r["AREA"], r["ROUNDED_TO"], r["SOURCE_KIND"]) for r in regions} == {
        ("E12000001", "10", "government")}
    for year_ending in (2023, 2024):
        year = date(year_ending - 1, 4, 1), date(year_ending, 3, 31)
        children = len(missing_per_child(published, *year,
                                         lambda r: r["responsible_gss"] in NORTH_EAST))
        written = int(value(regions, *year, "children_missing", "each_child_once"))
        assert written % 10 == 0 and abs(written - children) <= 5
        assert written == (children + 5) // 10 * 10


def test_fewer_than_five_is_written_exactly_where_the_truth_is_one_to_four(published):
    truth = {(r["file"], int(r["line"])): r for r in rows(published / "truth" / "reported.csv")}
    written = {}
    for path in sorted((published / "landing" / "aggregate").rglob("*.csv")):
        where = path.relative_to(published).as_posix()
        for line, row in enumerate(rows(path), start=2):
            written[where, line] = row
    assert written.keys() == truth.keys()  # one truth row per written value
    for key, row in written.items():
        true = truth[key]
        assert (row["AREA"], row["PERIOD_START"], row["PERIOD_END"], row["MEASURE"],
                row["COUNTING"]) == (true["area"], true["period_start"], true["period_end"],
                                     true["measure"], true["counting"])
        number = int(true["true_value"])
        if row["ROUNDED_TO"]:
            assert int(row["VALUE"]) == (number + 5) // 10 * 10
        else:
            assert (row["VALUE"] == "<5") == (1 <= number <= 4), key
            assert row["VALUE"] == as_written(number)
    assert Counter(row["VALUE"] == "<5" for row in written.values())[True] > 0


def test_periods_on_the_last_day_stay_inside_the_year_and_close_when_care_ends(monkeypatch):
    """DfE 571 (MIS_END inside the year), 575 and 577 (an open period only while in care), at
    the boundary the nation reached: children in care for 31 March alone, reported at 23:xx."""
    from datetime import date

    import numpy as np

    from mfc.synth import simulate

    monkeypatch.setattr(simulate, "HOURS", np.array([23]))
    monkeypatch.setattr(simulate, "OPEN_AT_YEAR_END", 0.5)
    sim = simulate.Simulation(seed=5, years=range(2024, 2025))
    authority = sim.register.by_gss("E06000001")
    start, end = date(2023, 4, 1), date(2024, 3, 31)
    children = [simulate.Child(n, date(2010, 1, 1), "1", "", authority.gss_code,
                               authority.gss_code, entered=end, left=end if n % 2 else None)
                for n in range(4000)]
    rates = parameters.AuthorityRates(authority.gss_code, 4000, 1.0, 1.0, 1.0)
    incidents = sim._incidents(np.random.default_rng(5), authority, rates, children, start,
                               end, 1.0, 1.0)
    assert len(incidents) > 3000
    ends = Counter(i.found.date() if i.found else None for i in incidents)
    assert set(ends) <= {end, None}  # never 1 April
    same_day = [i for i in incidents if i.found and i.found.date() == i.reported.date()]
    assert any(i.reported.minute == 59 for i in same_day)  # the 23:59 report was drawn
    # Same-day periods end by 23:59; an open one is a child still in care at the year end.
    assert all(i.found <= i.reported.replace(hour=23, minute=59) for i in same_day)
    still_open = [i for i in incidents if i.found is None]
    assert still_open and all(i.child.left is None for i in still_open)


def test_every_answer_gives_each_cell_once_even_for_a_single_year(published, tmp_path):
    """A one-year span is the year itself: a file giving both would be quarantined whole
    (aggregate.duplicate), as the nation's new authorities of 2023 once were."""
    synth(tmp_path, years=range(2024, 2025), authorities={"E06000001"}, scale=0.3)
    one_year = answer(tmp_path, "foi-e06000001")
    assert [(r["PERIOD_START"], r["MEASURE"]) for r in one_year] == [
        ("01/04/2023", m) for m in ("children_missing", "missing_incidents",
                                    "children_missing_more_than_once", "children_away")]
    for out in (published, tmp_path):
        for path in (out / "landing" / "aggregate").glob("*/answer.csv"):
            cells = [(r["AREA"], r["PERIOD_START"], r["PERIOD_END"], r["MEASURE"],
                      r["COUNTING"] or "each_child_once") for r in rows(path)]
            assert len(cells) == len(set(cells)), path
