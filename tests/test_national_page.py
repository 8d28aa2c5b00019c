"""The national page (reports/index.html) and lateness, as their readers see them.

One warehouse for the module holds a planted picture of four collection years, with collection
begun on 1 April 2023 (MFC_COLLECTION_STARTED): a backfilled year, two years past their
deadline, one not yet due; returns loaded clean, late, quarantined; police months and an
aggregate file. Returns go through the real gate (PostgreSQL, Great Expectations); the page is
opened in headless Chromium. Lateness is judged on audit.submissions.received_at, planted per
return between registering and gating, as the warehouse would have recorded it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser import accessibility_violations, chromium, requests_sent
from helpers import (
    AGGREGATE_GOOD,
    create_database,
    deliver,
    deliver_aggregate,
    deliver_police,
    drop_database,
    gate_submission,
    gate_waiting,
    good_tables,
    query,
    results_of,
)

from mfc import config, landing, reports, warehouse
from mfc.geography import AuthorityRegister
from mfc.returns.council import CollectionYear

UK = ZoneInfo("Europe/London")
STARTED = "2023-04-01"
TODAY = date(2024, 9, 15)   # 2022-23 and 2023-24 are past their deadlines, 2024-25 is not
YEARS = ["2021-22", "2022-23", "2023-24", "2024-25"]


def _shifted(years: int, tables=None) -> dict[str, list[dict[str, str]]]:
    """The helpers' good 2023-24 return moved by whole years (29 February becomes the 28th),
    with its one open period closed in the year: a return with nothing to warn of."""
    def shift(value: str) -> str:
        match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value)
        if not match:
            return value
        day = "28" if (match[1], match[2]) == ("29", "02") else match[1]
        return f"{day}/{match[2]}/{int(match[3]) + years}"
    tables = tables or good_tables()
    tables["missing"][2]["MIS_END"] = "02/03/2024"
    return {t: [{c: shift(v) for c, v in row.items()} for row in rows]
            for t, rows in tables.items()}


def _from_2024(tables: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """SEX as M, F or U, as returns from 2024-25 give it."""
    for row in tables["header"]:
        row["SEX"] = {"1": "M", "2": "F"}.get(row["SEX"], "U")
    return tables


def _spoiled() -> dict[str, list[dict[str, str]]]:
    tables = _shifted(0)
    tables["missing"][2]["MISSING"] = "X"  # 1006: quarantined
    return tables


def _received(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UK)


# (authority as delivered, year, tables, received): gated in this order. None: received now.
PLANTED = [
    ("806", "2021-22", lambda: _shifted(-2), None),                    # backfill: not late
    ("806", "2022-23", lambda: _shifted(-1), "2023-05-01"),
    ("805", "2022-23", lambda: _shifted(-1), "2023-06-30"),            # the last day: on time
    ("808", "2022-23", lambda: _shifted(-1), "2023-06-01"),
    ("806", "2023-24", _spoiled, "2024-05-01"),                        # quarantined
    ("805", "2023-24", lambda: _shifted(0), "2024-09-01"),             # late
    ("808", "2023-24", lambda: _shifted(0), "2024-05-20"),
    ("841", "2024-25", lambda: _from_2024(_shifted(1)), "2024-08-01"),  # early
]


def _deliver_and_gate(url: str, root: Path, authority: str, year: str, tables,
                      received: str | None) -> tuple[int, str]:
    folder = deliver(root / f"{authority}-{year}", tables, authority=authority, year=year)
    [sid] = landing.register_all(url, folder)
    if received:
        query(url, "update audit.submissions set received_at = %s where submission_id = %s "
                   "returning 1", _received(received), sid)
    outcome = gate_submission(url, sid, f"run-{sid}")
    return sid, outcome.status


@pytest.fixture(scope="module")
def planted(server_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("national")
    url = create_database(server_url)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MFC_WAREHOUSE_URL", url)
            patch.setenv("MFC_ARCHIVE_DIR", str(root / "archive"))
            patch.setenv("MFC_COLLECTION_STARTED", STARTED)
            warehouse.ensure_schema(url)
            ids = {}
            for authority, year, tables, received in PLANTED:
                ids[(authority, year)] = _deliver_and_gate(url, root, authority, year,
                                                           tables(), received)
            # Cleveland Police: March 2024 loaded, April 2024 quarantined (not its columns).
            deliver_police(root / "police", "2024-03", [])
            bad = root / "police" / "landing" / "police" / "E23000013" / "2024-04.csv"
            bad.write_text("FORCE,WHEN\nE23000013,yesterday\n")
            landing.register_all(url, root / "police" / "landing")
            ids["police"] = {o.submission_id: o.status for o in gate_waiting(url, "police")}
            landing.register_all(url, deliver_aggregate(root / "aggregate", AGGREGATE_GOOD))
            ids["aggregate"] = [(o.submission_id, o.status)
                                for o in gate_waiting(url, "aggregate")]
            out = root / "reports"
            reports.write_all(url, out, today=TODAY, with_catalogue=False)
            yield url, out, ids
    finally:
        drop_database(server_url, url)


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def _open(browser, page: Path):
    browser.get(page.as_uri())
    return browser


def _rows(table) -> list[list[str]]:
    """The table's body as the reader sees it, cell by cell: one call to the browser (a call
    per cell made a 150-row table take a minute to read)."""
    return table.parent.execute_script(
        "return Array.from(arguments[0].querySelectorAll('tbody tr')).map(row => "
        "Array.from(row.querySelectorAll('th, td')).map(cell => cell.innerText.trim()))", table)


def _authorities(browser) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return _rows(browser.find_element(By.ID, "council-authorities"))


def _expected(year: str) -> int:
    """Councils in England in being at the end of the year: the ones that return to us."""
    end = CollectionYear.parse(year).end
    return sum(a.country == "England" and a.in_force_on(end)
               for a in AuthorityRegister.from_seed())


def test_lateness_is_judged_on_when_the_warehouse_received_the_return(planted):
    url, _, ids = planted
    late = {key: results_of(url, ids[key][0])["mfc.submission.late"]
            for key in [("806", "2021-22"), ("805", "2022-23"), ("805", "2023-24"),
                        ("841", "2024-25")]}
    # Received years after its deadline, but the year was backfilled: not late.
    assert (late[("806", "2021-22")]["result"], late[("806", "2021-22")]["message"]) == (
        "PASS", "Not late: the deadline of 30/06/2022 fell before the warehouse began "
        "collecting returns on 01/04/2023; 2021-22 was backfilled.")
    assert late[("805", "2022-23")]["result"] == "PASS"  # on the day of the deadline
    assert (late[("805", "2023-24")]["result"], late[("805", "2023-24")]["message"]) == (
        "WARNING", "Received on 01/09/2024, after the deadline of 30/06/2024.")
    assert late[("841", "2024-25")]["result"] == "PASS"
    # The files' own dates play no part: the late return's files are dated 1 May 2024, the
    # backfill's 1 May 2022 (as a council delivering on time would date them).
    assert query(url, "select submission_id, (delivered_at at time zone 'Europe/London')::date "
                      "from audit.submissions where submission_id in (%s, %s) order by 1",
                 ids[("806", "2021-22")][0], ids[("805", "2023-24")][0]) == [
        (ids[("806", "2021-22")][0], date(2022, 5, 1)),
        (ids[("805", "2023-24")][0], date(2024, 5, 1))]


def test_a_backfilled_year_received_now_is_not_late_and_nobody_is_overdue(
        warehouse_url, tmp_path, monkeypatch, browser):
    """With no collection_started set, collection began on the day of the first submission: a
    2017-18 return delivered today is a backfill, and the councils missing from 2017-18 are
    not due (before, one such return listed 151 councils as overdue)."""
    from selenium.webdriver.common.by import By

    monkeypatch.delenv("MFC_COLLECTION_STARTED", raising=False)
    sid, status = _deliver_and_gate(warehouse_url, tmp_path, "806", "2017-18", _shifted(-6),
                                    None)
    assert status == "loaded"
    today = datetime.now(UK).date()
    late = results_of(warehouse_url, sid)["mfc.submission.late"]
    assert (late["result"], late["message"]) == (
        "PASS", f"Not late: the deadline of 30/06/2018 fell before the warehouse began "
        f"collecting returns on {today:%d/%m/%Y}; 2017-18 was backfilled.")

    out = tmp_path / "reports"
    reports.write_all(warehouse_url, out, today=today, with_catalogue=False)
    _open(browser, out / "index.html")
    assert browser.find_element(By.ID, "collection-started").text.startswith(
        f"The warehouse began collecting returns on {today:%d %B %Y} (the day it received its "
        "first submission).")
    assert _rows(browser.find_element(By.ID, "council-counts")) == [[
        "2017-18", "30 June 2018: before collection began, not due", "1", "0", "0", "0", "0",
        str(_expected("2017-18") - 1)]]
    rows = _authorities(browser)
    assert len(rows) == _expected("2017-18")
    assert rows[0][:3] == ["Green: loaded", "Middlesbrough", "E06000002"]
    assert {tuple(r[:1] + r[3:]) for r in rows[1:]} == {
        ("Grey: not due", "not due\nbefore collection began")}
    assert "overdue" not in browser.find_element(By.ID, "council").text


def test_counts_per_year_are_what_was_planted(planted, browser):
    from selenium.webdriver.common.by import By

    _, out, _ = planted
    _open(browser, out / "index.html")
    assert browser.find_element(By.ID, "collection-started").text.startswith(
        "The warehouse began collecting returns on 01 April 2023 (the setting "
        "collection_started).")
    header = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#council-counts th")][:8]
    assert header == ["Collection year", "Deadline", "Returned (loaded)", "Of those, late",
                      "Quarantined", "Awaiting checks", "Overdue", "Not due"]
    n = {year: _expected(year) for year in YEARS}
    # Middlesbrough's 2023-24 was quarantined: counted apart, not as returned.
    assert _rows(browser.find_element(By.ID, "council-counts")) == [
        ["2021-22", "30 June 2022: before collection began, not due", "1", "0", "0", "0", "0",
         str(n["2021-22"] - 1)],
        ["2022-23", "30 June 2023: passed", "3", "0", "0", "0", str(n["2022-23"] - 3), "0"],
        ["2023-24", "30 June 2024: passed", "2", "1", "1", "0", str(n["2023-24"] - 3), "0"],
        ["2024-25", "30 June 2025: not passed yet", "1", "0", "0", "0", "0",
         str(n["2024-25"] - 1)],
    ]
    # The chart: returned and quarantined per year, each bar labelled with its number.
    bars = [(bar.find_element(By.CLASS_NAME, "name").text,
             bar.find_element(By.CLASS_NAME, "value").text)
            for bar in browser.find_elements(By.CSS_SELECTOR, "#council svg.chart g.bar")]
    assert bars == [("2021-22 (returned)", "1"), ("2021-22 (quarantined)", "0"),
                    ("2022-23 (returned)", "3"), ("2022-23 (quarantined)", "0"),
                    ("2023-24 (returned)", "2"), ("2023-24 (quarantined)", "1"),
                    ("2024-25 (returned)", "1"), ("2024-25 (quarantined)", "0")]
    # One row per council in England in being at the end of any of the years (Cumbria, North
    # Yorkshire and Somerset were reorganised in April 2023: the old and the new are there).
    in_being = {a.gss_code for a in AuthorityRegister.from_seed() for year in YEARS
                if a.country == "England" and a.in_force_on(CollectionYear.parse(year).end)}
    assert sorted(r[2] for r in _authorities(browser)) == sorted(in_being)


def test_each_authority_has_a_traffic_light_in_colour_and_word(planted, browser):
    from selenium.webdriver.common.by import By

    _, out, ids = planted
    _open(browser, out / "index.html")
    rows = {r[1]: r for r in _authorities(browser)}
    sid = {key: ids[key][0] for key in ids if isinstance(key, tuple)}
    assert rows["Middlesbrough"] == [
        "Red: quarantined (2023-24)", "Middlesbrough", "E06000002",
        f"loaded\nsubmission {sid[('806', '2021-22')]}",
        f"loaded\nsubmission {sid[('806', '2022-23')]}",
        f"quarantined\nsubmission {sid[('806', '2023-24')]}\n1 blocking check(s) failed",
        "not due\ndeadline not passed"]
    assert rows["Hartlepool"][:1] + rows["Hartlepool"][3:] == [
        "Amber: late (2023-24)", "not due\nbefore collection began",
        f"loaded\nsubmission {sid[('805', '2022-23')]}",
        f"late\nsubmission {sid[('805', '2023-24')]}\nreceived 01 September 2024, "
        "due 30 June 2024",
        "not due\ndeadline not passed"]
    assert rows["Stockton-on-Tees"][0] == "Green: loaded"
    assert rows["Darlington"][0] == "Red: overdue (2022-23, 2023-24)"
    assert rows["Darlington"][4:] == ["overdue", "overdue",
                                      f"loaded\nsubmission {sid[('841', '2024-25')]}"]
    assert rows["Redcar and Cleveland"][0] == "Red: overdue (2022-23, 2023-24)"

    # The colour goes with the word: each light its own background, dark text on it.
    statuses = browser.find_elements(By.CSS_SELECTOR, "#council-authorities td.status")
    colours = {cell.text.split(":")[0]: (cell.value_of_css_property("background-color"),
                                         cell.value_of_css_property("color"))
               for cell in statuses}
    assert set(colours) == {"Red", "Amber", "Green"}
    assert len({background for background, _ in colours.values()}) == 3
    for background, text in colours.values():
        assert _contrast(background, text) >= 7, (background, text)  # WCAG AAA


def _contrast(one: str, two: str) -> float:
    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_rows_are_worst_first_and_sort_by_a_column_heading(planted, browser):
    from selenium.webdriver.common.by import By

    _, out, _ = planted
    _open(browser, out / "index.html")
    lights = [r[0].split(":")[0] for r in _authorities(browser)]
    assert lights == sorted(lights, key=["Red", "Amber", "Green", "Grey"].index)
    assert lights[-2:] == ["Amber", "Green"]  # Hartlepool, then Stockton-on-Tees

    def heading(label: str):
        return browser.find_element(
            By.XPATH, f"//table[@id='council-authorities']//th[normalize-space()='{label}']")

    heading("Authority").find_element(By.TAG_NAME, "button").click()
    names = [r[1] for r in _authorities(browser)]
    assert names == sorted(names, key=str.lower)
    assert heading("Authority").get_attribute("aria-sort") == "ascending"
    assert heading("Status").get_attribute("aria-sort") is None
    status = heading("Status")
    status.find_element(By.TAG_NAME, "button").click()  # worst first again, by name within
    order = [(r[0].split(":")[0], r[1]) for r in _authorities(browser)]
    assert order[-2:] == [("Amber", "Hartlepool"), ("Green", "Stockton-on-Tees")]
    reds = [name for light, name in order if light == "Red"]
    assert reds == sorted(reds, key=str.lower) and len(reds) == len(order) - 2
    assert status.get_attribute("aria-sort") == "ascending"
    status.find_element(By.TAG_NAME, "button").click()  # again: best first
    order = [(r[0].split(":")[0], r[1]) for r in _authorities(browser)]
    assert order[:2] == [("Green", "Stockton-on-Tees"), ("Amber", "Hartlepool")]
    assert status.get_attribute("aria-sort") == "descending"
    # A year's column sorts by that year's light too: 2023-24's quarantined and overdue
    # returns first, then the late one, then the one loaded clean.
    heading("2023-24").find_element(By.TAG_NAME, "button").click()
    words = [r[5].split("\n")[0] for r in _authorities(browser)]
    expected = [w for w in words if w != "not expected"]  # councils not in being then: last
    assert words == [*expected, *["not expected"] * (len(words) - len(expected))]
    assert expected[-2:] == ["late", "loaded"]
    assert set(expected[:-2]) == {"quarantined", "overdue"}


def test_police_and_aggregate_sections_show_their_lights(planted, browser):
    from selenium.webdriver.common.by import By

    _, out, ids = planted
    loaded = [sid for sid, status in ids["police"].items() if status == "loaded"]
    quarantined = [sid for sid, status in ids["police"].items() if status == "quarantined"]
    assert (len(loaded), len(quarantined)) == (1, 1)
    _open(browser, out / "index.html")
    police = browser.find_element(By.ID, "police-forces")
    assert _rows(police) == [[
        "Red: quarantined (2024-04)", "Cleveland", "E23000013", "1", "1",
        f"2024-04: submission {quarantined[0]} (quarantined)", "2024-04"]]
    bars = [(bar.find_element(By.CLASS_NAME, "name").text,
             bar.find_element(By.CLASS_NAME, "value").text)
            for bar in browser.find_elements(By.CSS_SELECTOR, "#police svg.chart g.bar")]
    assert bars == [("2023-24 (months loaded)", "1"), ("2023-24 (months quarantined)", "0"),
                    ("2024-25 (months loaded)", "0"), ("2024-25 (months quarantined)", "1")]
    [(aggregate_id, status)] = ids["aggregate"]
    [row] = _rows(browser.find_element(By.ID, "aggregate-files"))
    light = {"loaded": "Green: loaded", "quarantined": "Red: quarantined"}[status]
    assert row[:4] == [light if not row[0].startswith("Amber") else row[0], "foi-2024-0412",
                       "answer.csv", f"submission {aggregate_id}"]
    # The force's quarantined month links to its report.
    police.find_element(By.LINK_TEXT, "2024-04").click()
    assert browser.current_url.endswith(f"/E23000013/{quarantined[0]}/index.html")


def test_the_page_fetches_nothing_from_anywhere(planted, browser):
    from selenium.webdriver.common.by import By

    _, out, _ = planted
    requests_sent(browser)  # what went before
    _open(browser, out / "index.html")
    browser.find_element(By.XPATH, "//th[normalize-space()='Authority']/button").click()
    requested = requests_sent(browser)
    assert requested and all(url.startswith("file://") for url in requested), requested
    page = (out / "index.html").read_text()
    assert not re.search(r"<(script|img|link|iframe)[^>]*\b(src|href)=", page)


def test_the_page_passes_an_automated_accessibility_check(planted, browser):
    """axe-core, bundled with axe-selenium-python (nothing fetched): headings, table headers,
    names, contrast."""
    _, out, _ = planted
    _open(browser, out / "index.html")
    assert accessibility_violations(browser) == []


def test_collection_started_is_a_date(monkeypatch, tmp_path):
    monkeypatch.setenv("MFC_COLLECTION_STARTED", "2023-04-01")
    assert config.collection_started() == date(2023, 4, 1)
    monkeypatch.setenv("MFC_COLLECTION_STARTED", "April 2023")
    with pytest.raises(config.ConfigurationError, match="is not a date such as 2024-04-01"):
        config.collection_started()
    monkeypatch.delenv("MFC_COLLECTION_STARTED")
    (tmp_path / "mfc.toml").write_text("collection_started = 2016-04-01\n")  # a TOML date
    monkeypatch.setenv("MFC_CONFIG", str(tmp_path / "mfc.toml"))
    assert config.collection_started() == date(2016, 4, 1)
