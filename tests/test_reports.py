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
from browser import accessibility_violations, chromium
from helpers import deliver, gate_submission, good_tables, query

from mfc import landing, pipeline, reports

AFTER_THE_DEADLINE = date(2024, 7, 1)  # 2023-24 returns were due by 30 June 2024


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


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
    reports.write_all(warehouse_url, out, today=AFTER_THE_DEADLINE, with_catalogue=False)
    report = out / "E06000002" / str(bad)

    body = _open(browser, report / "index.html")
    assert body.index("Summary") < body.index("Failed checks")  # the outcome comes first
    outcome = browser.find_element(By.ID, "outcome").text
    assert outcome == "Quarantined: 1 blocking check failed, 1 row to fix; 1 warning."
    assert "Middlesbrough (E06000002)" in body and "2023-24" in body
    failed = browser.find_element(By.ID, "check-1006")
    assert "What is wrong: Missing type invalid." in failed.text
    # file, value, rows, line as delivered
    assert _cells(failed) == [["missing.csv", "X", "1", "line 4"]]

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
    reports.write_all(warehouse_url, out, with_catalogue=False)
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
    reports.write_all(warehouse_url, out, with_catalogue=False)
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
    assert "567: failed (blocking)" in (loaded_csv.parent / "index.html").read_text()


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
    # One row per council: its traffic light and word, then each year (tests/test_national_page).
    middlesbrough = [r for r in rows if r[1] == "Middlesbrough"]
    assert middlesbrough == [["Red: quarantined (2023-24)", "Middlesbrough", "E06000002",
                              f"loaded\nsubmission {good}",
                              f"quarantined\nsubmission {bad}\n1 blocking check(s) failed"]]
    # Both years' deadlines fell before the warehouse received its first return: backfills.
    hartlepool = [r for r in rows if r[1] == "Hartlepool"]
    assert hartlepool == [["Grey: not due", "Hartlepool", "E06000001",
                           "not due\nbefore collection began", "not due\nbefore collection began"]]
    assert not [r for r in rows if r[2].startswith("W")]  # Welsh councils return elsewhere
    assert "No police returns yet." in browser.find_element(By.ID, "police").text

    # Follow the link, as a reader would, to the quarantined return's report.
    council.find_element(By.LINK_TEXT, f"submission {bad}").click()
    assert browser.current_url == (out / "E06000002" / str(bad) / "index.html").as_uri()
    assert browser.find_element(By.ID, "outcome").text.startswith("Quarantined: ")


def test_a_corrected_resubmission_says_what_changed(warehouse_url, tmp_path, browser):
    from selenium.webdriver.common.by import By

    _, bad = _middlesbrough(warehouse_url, tmp_path)
    [fixed] = _gate(warehouse_url, deliver(tmp_path / "three"), "run-3")
    assert fixed.status == "loaded"
    shorter = good_tables()
    shorter["missing"].pop()
    [fixed_again] = _gate(warehouse_url, deliver(tmp_path / "four", shorter), "run-4")
    out = tmp_path / "reports"
    reports.write_all(warehouse_url, out, with_catalogue=False)

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


# The submission page a data officer acts on, its CSV and the check catalogue (issue 15): one
# quarantined return with many failing rows, gated and reported once for these tests.

FORMULA = '=HYPERLINK("http://x","y")'
# missing.csv lines 5-28 (after the three good periods): MISSING 'X' twelve times, 'Q' twice,
# a formula, then nine codes once each: 12 groups of failing rows for check 1006. Line 29 starts
# a period while line 4's is still open (574, naming the line it conflicts with).
BAD_CODES = ["X"] * 12 + ["Q"] * 2 + [FORMULA] + [f"Z{n}" for n in range(1, 10)]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def spoilt(server_url, tmp_path_factory):
    """The warehouse, the quarantined submission, and the reports written (catalogue too)."""
    from helpers import create_database, drop_database

    from mfc import warehouse

    url = create_database(server_url)
    tmp = tmp_path_factory.mktemp("spoilt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFC_WAREHOUSE_URL", url)
        patch.setenv("MFC_ARCHIVE_DIR", str(tmp / "archive"))
        warehouse.ensure_schema(url)
        tables = good_tables()
        first = tables["missing"][0]
        tables["missing"] += [dict(first, MISSING=code, MIS_START=f"{day:02d}/09/2023",
                                   MIS_END=f"{day:02d}/09/2023")
                              for day, code in enumerate(BAD_CODES, start=1)]
        tables["missing"].append(dict(tables["missing"][2], MIS_START="10/03/2024",
                                      MIS_END="11/03/2024"))
        tables["header"][2]["SEX"] = "3"  # header.csv line 4
        [gated] = _gate(url, deliver(tmp / "landing", tables), "run-1")
        assert gated.status == "quarantined", gated
        out = tmp / "reports"
        reports.write_all(url, out, today=AFTER_THE_DEADLINE)
        yield url, gated.submission_id, out
    drop_database(server_url, url)


def _fetched(browser) -> list[str]:
    """Every resource the open page loaded, as the browser recorded it."""
    return browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")


def test_the_submission_page_says_what_to_fix_grouped_by_cause(spoilt, browser):
    from selenium.webdriver.common.by import By

    from mfc.reports.submission_page import CATALOGUE

    url, sid, out = spoilt
    page = out / "E06000002" / str(sid) / "index.html"
    _open(browser, page)
    # One line first: what happened, and how much there is to fix (25 rows of missing.csv,
    # one of header.csv; a period still open at the year's end is a warning).
    assert browser.find_element(By.TAG_NAME, "h1").text == (
        "Data-quality report: Middlesbrough (E06000002), council return 2023-24")
    assert browser.find_element(By.ID, "outcome").text == (
        "Quarantined: 3 blocking checks failed, 26 rows to fix; 1 warning.")
    # Checks by severity and result, as dq.check_results holds them.
    stored = dict(((severity, result), n) for severity, result, n in query(
        url, "select severity, result, count(*) from dq.check_results "
             "where submission_id = %s group by 1, 2", sid))
    table = browser.find_element(By.CSS_SELECTOR, "#summary table.by-severity")
    rows = [[row.find_element(By.TAG_NAME, "th").text, *cells]
            for row, cells in zip(table.find_elements(By.CSS_SELECTOR, "tbody tr"),
                                  _cells(table), strict=True)]
    expected = []
    for severity in ("blocking", "warning"):
        failed = stored.get((severity, "FAIL"), 0) + stored.get((severity, "WARNING"), 0)
        passed, not_run = stored.get((severity, "PASS"), 0), stored.get((severity, "NOT_RUN"), 0)
        expected.append([severity, *map(str, (failed, passed, not_run,
                                              failed + passed + not_run))])
    assert rows == expected and rows[0][1] == "3"

    # Each failed check: DfE's wording, how to fix it, its rows grouped by the values that
    # failed, the largest group first, the first five lines of each.
    failed = browser.find_element(By.ID, "check-1006")
    fix = CATALOGUE["1006"].fix
    assert fix, "expectations.fixes has no how-to-fix line for 1006"
    assert "What is wrong: Missing type invalid." in failed.text
    assert f"How to fix: {fix}" in failed.text
    assert "24 failing rows of 28 checked" in failed.text
    assert [c.text for c in failed.find_elements(By.CSS_SELECTOR, "thead th")] == [
        "File", "MISSING", "Rows", "Lines as delivered"]
    assert _cells(failed) == [
        ["missing.csv", "X", "12", "lines 5, 6, 7, 8, 9 and 7 more"],
        ["missing.csv", "Q", "2", "lines 17, 18"],
        ["missing.csv", FORMULA, "1", "line 19"],  # shown as text, not a link
        *[["missing.csv", f"Z{n}", "1", f"line {19 + n}"] for n in range(1, 8)]]
    assert not failed.find_elements(By.CSS_SELECTOR, "table a")
    assert "2 more groups of failing rows: failing_rows.csv has every row." in failed.text
    sex = browser.find_element(By.ID, "check-mfc.header.sex")
    assert _cells(sex) == [["header.csv", "3", "1", "line 4"]]
    assert f"How to fix: {CATALOGUE['mfc.header.sex'].fix}" in sex.text
    # The row a failing row conflicts with is one more column.
    overlap = browser.find_element(By.ID, "check-574")
    assert [c.text for c in overlap.find_elements(By.CSS_SELECTOR, "thead th")] == [
        "File", "MIS_START", "MIS_END", "CONFLICTS_WITH", "Rows", "Lines as delivered"]
    assert _cells(overlap) == [["missing.csv", "01/03/2024", "(blank)",
                                "missing.csv line 29 (MIS_START 10/03/2024)", "1", "line 4"]]

    # The links: every return, and the CSV (downloaded, not opened as a page).
    assert browser.find_element(By.LINK_TEXT, "All returns").get_attribute("href") == (
        (out / "index.html").as_uri())
    csv_link = browser.find_element(By.ID, "csv")
    assert csv_link.get_attribute("href") == (page.parent / "failing_rows.csv").as_uri()
    assert csv_link.get_attribute("download") == "failing_rows.csv"
    assert browser.find_element(By.ID, "history").find_elements(By.CSS_SELECTOR, "svg.chart")


def test_the_submission_page_is_accessible_and_fetches_nothing(spoilt, browser):
    from selenium.webdriver.common.by import By

    _, sid, out = spoilt
    _open(browser, out / "E06000002" / str(sid) / "index.html")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    # Headings in order: one h1, then h2s, h3s only below an h2.
    levels = [int(h.tag_name[1]) for h in
              browser.find_elements(By.CSS_SELECTOR, "h1, h2, h3, h4, h5, h6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    # Every table has a caption and headers with a scope.
    for table in browser.find_elements(By.TAG_NAME, "table"):
        assert table.find_element(By.TAG_NAME, "caption").text
        assert all(th.get_attribute("scope") in ("col", "row")
                   for th in table.find_elements(By.TAG_NAME, "th"))
    assert accessibility_violations(browser) == []
    assert _fetched(browser) == []


def test_a_return_only_checked_gets_the_same_page_with_would_be(spoilt, browser, tmp_path):
    """mfc check's page: render(..., checking=True), the CSV as a data: link."""
    import base64

    import psycopg
    from selenium.webdriver.common.by import By

    from mfc.reports import failing_rows, submission_page
    from mfc.reports.facts import Names, Warehouse

    url, sid, _ = spoilt
    with psycopg.connect(url) as conn:
        facts = Warehouse(conn)
        href = "data:text/csv;base64," + base64.b64encode(
            failing_rows.csv_bytes(conn, sid)).decode()
        page = submission_page.render(facts.by_id[sid], facts, Names(), checking=True,
                                      csv_href=href)
    (tmp_path / "check.html").write_text(page)
    body = _open(browser, tmp_path / "check.html")
    assert browser.find_element(By.TAG_NAME, "h1").text == (
        "Check of a return not yet submitted: Middlesbrough (E06000002), council return 2023-24")
    assert browser.title == browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.ID, "outcome").text == (
        "Would be quarantined: 3 blocking checks failed, 26 rows to fix; 1 warning.")
    assert "All returns" not in body
    # Nothing loaded before for this authority: no history to chart, no police to compare.
    assert not browser.find_elements(By.CSS_SELECTOR, "#history, #reconciliation, #changes")
    csv_link = browser.find_element(By.ID, "csv")
    assert csv_link.get_attribute("href") == href
    assert csv_link.get_attribute("download") == "failing_rows.csv"
    assert _cells(browser.find_element(By.ID, "check-1006"))[0] == [
        "missing.csv", "X", "12", "lines 5, 6, 7, 8, 9 and 7 more"]
    assert accessibility_violations(browser) == []


def test_the_verdict_for_a_return_that_would_load(spoilt):
    from dataclasses import replace

    from mfc.reports.facts import Warehouse
    from mfc.reports.submission_page import verdict

    url, sid, _ = spoilt
    import psycopg

    with psycopg.connect(url) as conn:
        s = Warehouse(conn).by_id[sid]
    warnings = {k: replace(c, severity="warning", result="WARNING")
                for k, c in s.checks.items() if c.result == "FAIL"}
    loaded = replace(s, status="loaded", checks={**s.checks, **warnings})
    # The three blocking failures as warnings, beside the period open at the year's end.
    assert verdict(loaded) == "Loaded with 4 warnings."
    assert verdict(loaded, checking=True) == "Would be loaded with 4 warnings."
    clean = replace(s, status="loaded", checks={k: c for k, c in s.checks.items()
                                                if c.result not in ("FAIL", "WARNING")})
    assert verdict(clean) == "Loaded."
    assert verdict(clean, checking=True) == "Would be loaded."


def test_failing_rows_csv_is_safe_to_open_in_a_spreadsheet(spoilt, tmp_path):
    """A value, file or message that a spreadsheet would run as a formula gets a ' first."""
    import psycopg

    from mfc.reports import failing_rows

    url, sid, out = spoilt
    with (out / "E06000002" / str(sid) / "failing_rows.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["line"], r["value"]) for r in rows if r["check_id"] == "1006"][12:15] == [
        ("17", "Q"), ("18", "Q"), ("19", "'" + FORMULA)]
    assert all(not v.startswith(FORMULA_STARTS) for r in rows for v in r.values())

    # Every field, whatever its first character; the rest of the text as it was. A negative
    # number is prefixed too (accepted practice); a line number is ours and stays a number.
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into dq.check_results (submission_id, run_id, check_id, table_name, stage, "
            "severity, result, unexpected_count, checked_count, message) values "
            "(%s, 'run-x', '@x', 'missing', 'content', 'warning', 'WARNING', 1, 1, "
            "'-1 is not a count')", (sid,))
        conn.execute(
            "insert into dq.failing_rows (submission_id, run_id, check_id, file_name, line_no, "
            "\"values\") values (%s, 'run-x', '@x', '+file.csv', 7, %s)",
            (sid, '{"A": "-5", "B": "\\ttab", "C": "\\rreturn", "D": "@SUM(A1)", '
                  '"E": "+1", "F": "a=b", "G": " =spaced"}'))
        path = tmp_path / "failing_rows.csv"
        failing_rows.write(conn, sid, path)
        conn.rollback()  # the module's warehouse stays as gated
    with path.open(newline="") as f:
        added = [r for r in csv.DictReader(f) if r["check_id"] == "'@x"]
    assert [(r["file"], r["line"], r["column"], r["value"], r["message"]) for r in added] == [
        ("'+file.csv", "7", "A", "'-5", "'-1 is not a count"),
        ("'+file.csv", "7", "B", "'\ttab", "'-1 is not a count"),
        ("'+file.csv", "7", "C", "'\rreturn", "'-1 is not a count"),
        ("'+file.csv", "7", "D", "'@SUM(A1)", "'-1 is not a count"),
        ("'+file.csv", "7", "E", "'+1", "'-1 is not a count"),
        ("'+file.csv", "7", "F", "a=b", "'-1 is not a count"),
        ("'+file.csv", "7", "G", " =spaced", "'-1 is not a count")]


def test_the_check_catalogue_is_offline_and_says_how_to_fix_each_check(spoilt, browser):
    from selenium.webdriver.common.by import By

    from expectations import aggregate, council, police

    _, _, out = spoilt
    page = out / "checks" / "index.html"
    # Linked from the national page.
    browser.get((out / "index.html").as_uri())
    browser.find_element(By.CSS_SELECTOR, 'a[href="checks/index.html"]').click()
    assert browser.current_url == page.as_uri()
    # Nothing that would load from elsewhere: no script, style, image or frame from a URL,
    # links only within the page; and the browser fetched nothing.
    assert not browser.find_elements(
        By.CSS_SELECTOR, "script[src], link[href], img[src], iframe, object, embed, "
                         "source[src], video, audio")
    assert all(a.get_attribute("href").startswith(page.as_uri() + "#")
               for a in browser.find_elements(By.TAG_NAME, "a"))
    assert _fetched(browser) == []
    assert "newsletter" not in browser.page_source.lower()

    # Every check of every kind, once, in its kind's table.
    for source, checks in (("council", council.ALL), ("police", police.ALL),
                           ("aggregate", aggregate.ALL)):
        section = browser.find_element(By.ID, source)
        ids = [th.text for th in section.find_elements(By.CSS_SELECTOR, "tbody th")]
        assert sorted(ids) == sorted(c.check_id for c in checks), source

    # A DfE rule: stage, severity, its wording, how to fix it, and what GX runs: the SQL,
    # folded until the reader opens it (574: periods that overlap).
    row = browser.find_element(By.ID, "council-574")
    rule = next(c for c in council.ALL if c.check_id == "574")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[:4] == ["content", "blocking", " ".join(rule.message.split()),
                         rule.fix or "Not written yet."]
    assert cells[4].startswith("GX: unexpected_rows_expectation")
    assert "lead(mis_start_date)" not in row.text  # folded
    row.find_element(By.TAG_NAME, "summary").click()
    assert "lead(mis_start_date)" in row.text
    # A GX expectation with settings.
    columns = browser.find_element(By.ID, "council-mfc.missing.columns").text
    assert "expect_table_columns_to_match_set" in columns
    assert "column_set: child, dob, missing, mis_start, mis_end" in columns
    assert accessibility_violations(browser) == []


def test_a_check_with_more_failing_rows_than_kept_says_so(spoilt, browser, tmp_path):
    """dq.failing_rows keeps the first 1000 rows of a check; the page says when there are more."""
    from dataclasses import replace

    import psycopg
    from selenium.webdriver.common.by import By

    from mfc.reports import submission_page
    from mfc.reports.facts import Names, Warehouse

    url, sid, _ = spoilt
    with psycopg.connect(url) as conn:
        facts = Warehouse(conn)
        s = facts.by_id[sid]
        s.checks["1006"] = replace(s.checks["1006"], unexpected_count=5000)
        (tmp_path / "page.html").write_text(submission_page.render(s, facts, Names()))
    _open(browser, tmp_path / "page.html")
    failed = browser.find_element(By.ID, "check-1006")
    assert "5000 failing rows of 28 checked" in failed.text
    assert ("The first 24 failing rows are kept and grouped here and in failing_rows.csv; fix "
            "them and check again to find the others.") in failed.text
