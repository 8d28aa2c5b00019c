"""Data-quality reports as their readers see them.

Returns go through the real gate (PostgreSQL, Great Expectations), the reports are written, and
the pages are opened in headless Chromium through selenium: the assertions are on what a
reader sees, not on the HTML we wrote.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import pytest
from helpers import deliver, gate_submission, good_tables, query

from mfc import landing, pipeline, reports

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")
AFTER_THE_DEADLINE = date(2024, 7, 1)  # 2023-24 returns were due by 30 June 2024


@pytest.fixture(scope="module")
def browser():
    if not (CHROMEDRIVER.exists() and CHROMIUM.exists()):
        pytest.fail("Debian's chromium and chromium-driver are not installed: run `make test`, "
                    "which installs them (/usr/bin/chromium, /usr/bin/chromedriver).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    # An explicit driver path: selenium's manager then downloads nothing (machines are offline).
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _gate(url: str, landing_dir: Path, run_id: str) -> list[pipeline.Outcome]:
    return [gate_submission(url, sid, run_id) for sid in landing.register_all(url, landing_dir)]


def _a_year_earlier(tables: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """Every date a year back (29 February becomes the 28th), so the return fits 2022-23."""
    def shift(value: str) -> str:
        match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value)
        if not match:
            return value
        day = "28" if (match[1], match[2]) == ("29", "02") else match[1]
        return f"{day}/{match[2]}/{int(match[3]) - 1}"
    return {t: [{c: shift(v) for c, v in row.items()} for row in rows]
            for t, rows in tables.items()}


def _middlesbrough(url: str, tmp_path: Path) -> tuple[int, int]:
    """2022-23 loaded (4 periods, nothing to warn of); 2023-24 quarantined: line 4 of
    missing.csv has MISSING 'X'."""
    earlier = _a_year_earlier(good_tables())
    earlier["missing"][2]["MIS_END"] = "02/03/2023"  # closed in the year: no warning at all
    earlier["missing"].append(dict(earlier["missing"][0], MIS_START="20/09/2022",
                                   MIS_END="21/09/2022"))
    [loaded] = _gate(url, deliver(tmp_path / "one", earlier, year="2022-23"), "run-1")
    assert loaded.status == "loaded", loaded
    spoiled = good_tables()
    spoiled["missing"][2]["MISSING"] = "X"
    [quarantined] = _gate(url, deliver(tmp_path / "two", spoiled), "run-2")
    assert (quarantined.status, quarantined.failed_checks) == ("quarantined", ["1006"])
    return loaded.submission_id, quarantined.submission_id


def _open(browser, page: Path) -> str:
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    return browser.find_element(By.TAG_NAME, "body").text


def _cells(element) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in element.find_elements(By.CSS_SELECTOR, "tbody tr")]


def test_a_quarantined_return_reports_what_failed_where_with_its_history(
        warehouse_url, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _, bad = _middlesbrough(warehouse_url, tmp_path)
    out = tmp_path / "reports"
    reports.write_all(warehouse_url, out, today=AFTER_THE_DEADLINE, with_data_docs=False)
    report = out / "E06000002" / str(bad)

    body = _open(browser, report / "index.html")
    assert body.index("Summary") < body.index("Failed checks")  # the outcome comes first
    outcome = browser.find_element(By.ID, "outcome").text
    assert outcome.startswith("Not loaded: 1 blocking check(s) failed (1006).")
    assert "Middlesbrough (E06000002)" in body and "2023-24" in body
    assert re.search(r"Checks: \d+ PASS, \d+ WARNING, 1 FAIL, \d+ NOT_RUN\.", body)
    failed = browser.find_element(By.ID, "check-1006")
    assert "Missing type invalid." in failed.text
    assert _cells(failed) == [["missing.csv", "4", "X"]]  # file, line as delivered, value

    # One bar per collection year, each labelled with its count; this return marked.
    bars = [(bar.find_element(By.CLASS_NAME, "name").text,
             bar.find_element(By.CLASS_NAME, "value").text)
            for bar in browser.find_elements(By.CSS_SELECTOR, "svg.chart g.bar")]
    assert bars == [("2022-23", "4"), ("2023-24 (this return, quarantined)", "3")]
    marked = browser.find_elements(By.CSS_SELECTOR, "svg.chart g.bar.marked")
    assert [m.get_attribute("data-label") for m in marked] == ["2023-24"]

    reconciliation = browser.find_element(By.ID, "reconciliation")
    assert [row[:3] for row in _cells(reconciliation)] == [
        ["2022-23", "4", "no police returns cover this period"],
        ["2023-24 (this return, quarantined)", "3", "no police returns cover this period"]]

    # The CSV holds every failing row, one line per offending cell (dq.failing_rows).
    with (report / "failing_rows.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["result"], r["file"], r["line"], r["column"], r["value"])
            for r in rows if r["check_id"] == "1006"] == [
        ("FAIL", "missing.csv", "4", "MISSING", "X")]
    assert rows == sorted(rows, key=lambda r: (r["file"], int(r["line"] or 0), r["check_id"]))


def test_failing_rows_csv_keeps_the_latest_run_of_each_check_one_line_per_cell(
        warehouse_url, tmp_path):
    """A later run's result for a check replaces the earlier one, rows and all."""
    good, _ = _middlesbrough(warehouse_url, tmp_path)
    out = tmp_path / "reports"
    reports.write_all(warehouse_url, out, with_data_docs=False)
    header = "check_id,severity,result,file,line,column,value,message"
    # Nothing failed in the loaded return: its CSV is the header alone.
    loaded_csv = out / "E06000002" / str(good) / "failing_rows.csv"
    assert loaded_csv.read_text().splitlines() == [header]

    with_rows = [("run-1", "missing.csv", 3, '{"MIS_START": "01/01/2020", "MIS_END": null}'),
                 ("run-9", "missing.csv", 2, '{"MIS_START": "03/05/2022", "MIS_END": "x"}'),
                 ("run-9", "header.csv", None, "{}")]
    from psycopg import connect

    with connect(warehouse_url) as conn:
        conn.execute(
            "insert into dq.check_results (submission_id, run_id, check_id, table_name, stage, "
            "severity, result, unexpected_count, checked_count, message, checked_at) "
            "values (%s, 'run-9', '567', 'missing', 'content', 'blocking', 'FAIL', 2, 4, "
            "'End date before start date.', now() + interval '1 hour')", (good,))
        for run_id, file_name, line, values in with_rows:
            conn.execute("insert into dq.failing_rows (submission_id, run_id, check_id, "
                         "file_name, line_no, \"values\") values (%s, %s, '567', %s, %s, %s)",
                         (good, run_id, file_name, line, values))
    reports.write_all(warehouse_url, out, with_data_docs=False)
    with loaded_csv.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == header.split(",")
    assert [r[3:7] for r in rows[1:]] == [["header.csv", "", "", ""],
                                          ["missing.csv", "2", "MIS_END", "x"],
                                          ["missing.csv", "2", "MIS_START", "03/05/2022"]]
    assert {tuple(r[:3]) for r in rows[1:]} == {("567", "blocking", "FAIL")}
    # The page shows the newest result too.
    assert query(warehouse_url, "select count(*) from dq.check_results where check_id = '567' "
                 "and submission_id = %s", good) == [(2,)]
    assert "567: FAIL" in (loaded_csv.parent / "index.html").read_text()


def test_the_national_page_lists_every_return_and_who_is_overdue(warehouse_url, tmp_path,
                                                                  browser):
    from selenium.webdriver.common.by import By

    good, bad = _middlesbrough(warehouse_url, tmp_path)
    out = tmp_path / "reports"
    counts = reports.write_all(warehouse_url, out, today=AFTER_THE_DEADLINE)
    assert counts["submission_reports"] == 2

    _open(browser, out / "index.html")
    council = browser.find_element(By.ID, "council")
    rows = _cells(council)
    middlesbrough = [r[:6] for r in rows if r[1] == "Middlesbrough"]  # up to failed checks
    assert middlesbrough == [["2022-23", "Middlesbrough", "E06000002", f"submission {good}",
                              "loaded", "0"],
                             ["2023-24", "Middlesbrough", "E06000002", f"submission {bad}",
                              "quarantined", "1"]]
    hartlepool = [r[:5] for r in rows if r[1] == "Hartlepool"]
    assert hartlepool == [["2022-23", "Hartlepool", "E06000001", "-",
                           "overdue (due 30 June 2023)"],
                          ["2023-24", "Hartlepool", "E06000001", "-",
                           "overdue (due 30 June 2024)"]]
    assert not [r for r in rows if r[2].startswith("W")]  # Welsh councils return elsewhere
    assert "No police returns yet." in browser.find_element(By.ID, "police").text

    # Follow the link, as a reader would, to the quarantined return's report.
    council.find_element(By.LINK_TEXT, f"submission {bad}").click()
    assert browser.current_url == (out / "E06000002" / str(bad) / "index.html").as_uri()
    assert "Not loaded" in browser.find_element(By.ID, "outcome").text

    # The gate's checks as GX Data Docs, linked from the national page.
    browser.get((out / "index.html").as_uri())
    browser.find_element(By.LINK_TEXT, "Data Docs").click()
    assert browser.current_url == (out / "data-docs" / "index.html").as_uri()
    assert {p.name for p in (out / "data-docs" / "expectations").glob("*.html")} == {
        "council_gate.html", "police_gate.html", "aggregate_gate.html"}
    # The DfE rules are there as the SQL the gate runs (574: periods that overlap).
    browser.get((out / "data-docs" / "expectations" / "council_gate.html").as_uri())
    assert "lead(mis_start_date)" in browser.find_element(By.TAG_NAME,
                                                                          "body").text


def test_a_corrected_resubmission_says_what_changed(warehouse_url, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _, bad = _middlesbrough(warehouse_url, tmp_path)
    [fixed] = _gate(warehouse_url, deliver(tmp_path / "three"), "run-3")
    assert fixed.status == "loaded"
    shorter = good_tables()
    shorter["missing"].pop()
    [fixed_again] = _gate(warehouse_url, deliver(tmp_path / "four", shorter), "run-4")
    out = tmp_path / "reports"
    reports.write_all(warehouse_url, out, with_data_docs=False)

    _open(browser, out / "E06000002" / str(fixed.submission_id) / "index.html")
    changes = browser.find_element(By.ID, "changes")
    assert changes.find_element(By.TAG_NAME, "h2").text == f"What changed since submission {bad}"
    assert _cells(changes.find_element(By.CLASS_NAME, "files-changed")) == [
        ["missing.csv", "changed"]]
    assert _cells(changes.find_element(By.CLASS_NAME, "results-changed")) == [
        ["1006", "FAIL", "PASS"]]
    assert "compared only when both returns were loaded" in changes.text

    _open(browser, out / "E06000002" / str(fixed_again.submission_id) / "index.html")
    assert browser.find_element(By.ID, "periods-changed").text.endswith("0 added, 1 removed.")
    # The return it replaced says so, and points to its successor.
    _open(browser, out / "E06000002" / str(fixed.submission_id) / "index.html")
    assert browser.find_element(By.ID, "outcome").text.startswith(
        f"Superseded by submission {fixed_again.submission_id}")
