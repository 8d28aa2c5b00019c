"""`mfc serve-check` as a data officer uses it: the page served by a real uvicorn on a free port
of 127.0.0.1, the real check behind it (mfc.check: the nightly gates on the embedded
PostgreSQL), and headless Chromium through selenium choosing the files and pressing the button.

Assertions are on what the officer sees (the verdict, each failing row's file, line, column and
value, the CSV the link downloads, the error next to the field), on what the server kept (its
scratch folder is empty after every response) and on the browser's network log (nothing is
requested from anywhere but the page's own 127.0.0.1 address). axe checks every page's
accessibility in the browser.
"""

from __future__ import annotations

import base64
import csv
import io
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from browser import accessibility_violations, chromium, network_log
from helpers import (
    AGGREGATE_GOOD,
    CLEVELAND,
    deliver,
    deliver_aggregate,
    good_tables,
    police_month_file,
)
from test_police_gate import GOOD as POLICE_GOOD

from mfc import cli
from mfc.check import Checker
from mfc.serve_check import Limits, create_app

LIMIT = 64 * 1024  # the largest file the page takes here (MAX_FILE_BYTES is 50 MB)
CSV_HEADER = ["check_id", "severity", "result", "file", "line", "column", "value", "message"]


class CountingChecker(Checker):
    """The real check, counting the returns it was given (to see that a refused upload was
    never checked)."""

    def __init__(self) -> None:
        super().__init__()
        self.checked = 0

    def check(self, *args, **kwargs):
        self.checked += 1
        return super().check(*args, **kwargs)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """Where the page makes its temporary folders: empty whenever no upload is in flight."""
    return tmp_path_factory.mktemp("serve-check-scratch")


@pytest.fixture(scope="module")
def checker():
    """The check, on the embedded PostgreSQL under this session's state folder; stopped after
    the module (the Checker leaves it running for the next check, as mfc demo does)."""
    from mfc import warehouse

    try:
        with CountingChecker() as checking:
            yield checking
    finally:
        warehouse.stop_embedded()


@pytest.fixture(scope="module")
def site(checker, scratch):
    """The page on a free port of 127.0.0.1, served by uvicorn in a thread."""
    import uvicorn

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    app = create_app(checker, limits=Limits(max_file_bytes=LIMIT), scratch_dir=scratch)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listening.close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    with chromium(downloads) as driver:
        yield driver


class Network:
    """The browser's network log: every request made since the test began, and the status of
    each response by URL."""

    def __init__(self, browser) -> None:
        self.browser = browser
        network_log(self.browser)  # what earlier tests left
        self.requests: list[str] = []
        self.statuses: dict[str, list[int]] = {}

    def read(self) -> None:
        for message in network_log(self.browser):
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
            elif message["method"] == "Network.responseReceived":
                response = message["params"]["response"]
                self.statuses.setdefault(response["url"], []).append(response["status"])


@pytest.fixture
def network(browser, site, scratch):
    """Each test's requests all go to the page's own address (or are data: links), and the
    scratch folder is empty after the test."""
    log = Network(browser)
    yield log
    log.read()
    assert log.requests, "the browser's network log recorded nothing"
    elsewhere = [url for url in log.requests if not url.startswith((f"{site}/", "data:"))]
    assert elsewhere == []
    assert list(scratch.iterdir()) == []


def _return_files(folder: Path, tables=None, authority: str = "806") -> dict[str, Path]:
    """A council return's three files, as the council's system exports them, by name."""
    deliver(folder, tables, authority=authority)
    return {f.name: f for f in (folder / "council" / authority / "2023-24").iterdir()}


def _clean_tables():
    tables = good_tables()
    tables["missing"][2]["MIS_END"] = "02/03/2024"  # closed in the year: not even a warning
    return tables


def upload(browser, site: str, kind: str, files: Iterable[Path], **fields: str) -> str:
    """Fill in the form as an officer would, send it, and return the page's text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    browser.get(f"{site}/")
    browser.find_element(By.ID, f"kind-{kind}").click()
    for name, value in fields.items():
        element = browser.find_element(By.ID, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    if files:
        browser.find_element(By.ID, "files").send_keys("\n".join(str(f) for f in files))
    form = browser.find_element(By.TAG_NAME, "form")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 180).until(lambda b: _gone(form))
    return browser.find_element(By.TAG_NAME, "body").text


def _gone(element) -> bool:
    """The page holding element has been replaced. Mid-navigation, chromedriver may say so as
    an inspector error rather than a stale element."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def _status_of_check(network: Network, site: str) -> int:
    network.read()
    return network.statuses[f"{site}/check"][-1]


def _errors(browser) -> dict[str, str]:
    """Each field's error as shown beside it, by the id of the field it describes."""
    from selenium.webdriver.common.by import By

    shown = {}
    for message in browser.find_elements(By.CLASS_NAME, "error-message"):
        field_id = message.get_attribute("id").removesuffix("-error")
        described = browser.find_element(By.ID, field_id)
        assert message.get_attribute("id") in (described.get_attribute("aria-describedby")
                                               or "").split()
        shown[field_id] = message.text.removeprefix("Error:").strip()
    return shown


def _summary(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    summary = browser.find_element(By.ID, "error-summary")
    assert summary.get_attribute("role") == "alert"
    return [a.text for a in summary.find_elements(By.TAG_NAME, "a")]


def test_the_form_names_every_field_and_passes_an_accessibility_check(browser, site, network):
    from selenium.webdriver.common.by import By

    browser.get(f"{site}/")
    assert browser.title == "Check a return before you submit it"
    legends = [legend.text for legend in browser.find_elements(By.TAG_NAME, "legend")]
    assert legends == ["What are you checking?", "A council return: whose and for which year",
                       "A police month file: which force and which month",
                       "Aggregate figures: where they come from"]
    labels = {label.get_attribute("for"): label.text
              for label in browser.find_elements(By.TAG_NAME, "label")}
    assert {labels[f] for f in ("authority", "year", "force", "month", "source", "files")} == {
        "Authority", "Collection year", "Police force", "Month", "Source", "The files"}
    hint = browser.find_element(By.ID, "files-hint").text
    assert "At most 10 files, each at most 64 KB." in hint
    forces = browser.find_elements(By.CSS_SELECTOR, "#force option")
    assert len(forces) == 44 and "Cleveland (E23000013)" in [o.text for o in forces]
    assert accessibility_violations(browser) == []


def test_a_clean_council_return_passes(browser, site, network, checker, tmp_path):
    from selenium.webdriver.common.by import By

    files = _return_files(tmp_path, _clean_tables())
    before = checker.checked
    body = upload(browser, site, "council", files.values(), authority="806", year="2023-24")

    assert _status_of_check(network, site) == 200
    assert checker.checked == before + 1
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == ("Check of a return not yet submitted: Middlesbrough (E06000002), "
                       "council return 2023-24")
    # The verdict is the first thing under the heading; nothing failed, nothing to warn of.
    assert browser.find_element(By.ID, "outcome").text == "Would be loaded."
    assert body.index("Would be loaded.") < body.index("Summary")
    assert "Failed checks and warnings\nNone." in body
    assert accessibility_violations(browser) == []
    # Its CSV is the header alone; the link back leads to an empty form.
    href = browser.find_element(By.ID, "csv").get_attribute("href")
    assert base64.b64decode(href.split(",", 1)[1]).decode().splitlines() == [
        ",".join(CSV_HEADER)]
    browser.find_element(By.LINK_TEXT, "Check another return").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Check a return before you submit it"


def test_each_defect_is_shown_where_it_is_and_the_csv_downloads(
        browser, site, network, downloads, tmp_path):
    from selenium.webdriver.common.by import By

    tables = _clean_tables()
    tables["missing"][2]["MISSING"] = "X"        # missing.csv line 4
    tables["header"][2]["ETHNIC"] = "WHITE"      # header.csv line 4
    tables["episodes"][0]["LS"] = "C9"           # episodes.csv line 2
    files = _return_files(tmp_path, tables, authority="Middlesbrough")
    upload(browser, site, "council", files.values(), authority="Middlesbrough", year="2023-24")

    assert _status_of_check(network, site) == 200
    assert browser.find_element(By.ID, "outcome").text == (
        "Would be quarantined: 3 blocking checks failed, 3 rows to fix.")
    shown = {}
    for check_id in ("1006", "mfc.header.ethnic", "mfc.episodes.ls"):
        article = browser.find_element(By.ID, f"check-{check_id}")
        header = [th.text for th in article.find_elements(By.CSS_SELECTOR, "thead th")]
        [row] = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                 for tr in article.find_elements(By.CSS_SELECTOR, "tbody tr")]
        shown[check_id] = dict(zip(header, row, strict=True))
    assert shown == {
        "1006": {"File": "missing.csv", "MISSING": "X", "Rows": "1",
                 "Lines as delivered": "line 4"},
        "mfc.header.ethnic": {"File": "header.csv", "ETHNIC": "WHITE", "Rows": "1",
                              "Lines as delivered": "line 4"},
        "mfc.episodes.ls": {"File": "episodes.csv", "LS": "C9", "Rows": "1",
                            "Lines as delivered": "line 2"}}
    assert accessibility_violations(browser) == []

    link = browser.find_element(By.ID, "csv")
    assert link.get_attribute("download") == "failing_rows.csv"
    link.click()
    saved = downloads / "failing_rows.csv"
    for _ in range(100):
        if saved.exists() and saved.stat().st_size:
            break
        time.sleep(0.1)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert sorted((r["check_id"], r["file"], r["line"], r["column"], r["value"])
                  for r in rows if r["result"] == "FAIL") == [
        ("1006", "missing.csv", "4", "MISSING", "X"),
        ("mfc.episodes.ls", "episodes.csv", "2", "LS", "C9"),
        ("mfc.header.ethnic", "header.csv", "4", "ETHNIC", "WHITE")]
    saved.unlink()


def test_a_file_of_the_wrong_type_is_refused_and_nothing_checked(
        browser, site, network, checker, tmp_path):
    files = _return_files(tmp_path)
    workbook = tmp_path / "episodes.xlsx"
    workbook.write_bytes(b"PK\x03\x04 not really a workbook")
    before = checker.checked
    upload(browser, site, "council", [files["header.csv"], workbook, files["missing.csv"]],
           authority="806", year="2023-24")

    assert _status_of_check(network, site) == 400
    assert checker.checked == before
    error = ("episodes.xlsx is not a CSV file: a council return is read from .csv files, as "
             "the nightly run reads it; save each table as CSV and choose it again.")
    assert _errors(browser) == {"files": error}
    assert _summary(browser) == [error]
    assert browser.title == "Error: Check a return before you submit it"
    # What was typed is kept; the files are chosen again.
    from selenium.webdriver.common.by import By

    assert browser.find_element(By.ID, "kind-council").is_selected()
    assert browser.find_element(By.ID, "authority").get_attribute("value") == "806"
    assert accessibility_violations(browser) == []


def test_an_oversized_file_is_refused_and_nothing_checked(
        browser, site, network, checker, tmp_path):
    files = _return_files(tmp_path)
    big = files["missing.csv"]  # padded with valid rows past the limit
    row = big.read_text().splitlines()[1]
    big.write_text(big.read_text() + "\n".join([row] * (3 * LIMIT // len(row))) + "\n")
    assert big.stat().st_size > 2 * LIMIT
    before = checker.checked
    upload(browser, site, "council", files.values(), authority="806", year="2023-24")

    assert _status_of_check(network, site) == 413
    assert checker.checked == before
    assert _errors(browser) == {
        "files": "missing.csv is larger than 64 KB, the most one file may be; nothing was "
                 "checked."}


def test_a_bad_authority_and_year_are_named_beside_their_fields(
        browser, site, network, checker, tmp_path):
    files = _return_files(tmp_path)
    before = checker.checked
    upload(browser, site, "council", files.values(), authority="Gotham", year="2023-2024")

    assert _status_of_check(network, site) == 400
    assert checker.checked == before
    errors = _errors(browser)
    assert errors["year"] == ("The collection year '2023-2024' is not a year April to March "
                              "written like 2023-24.")
    assert set(errors) == {"year"}  # the authority is judged on the year's last day, once known
    upload(browser, site, "council", files.values(), authority="Gotham", year="2023-24")
    assert _errors(browser)["authority"].startswith("Authority 'Gotham' on 2024-03-31: ")
    assert checker.checked == before
    assert accessibility_violations(browser) == []


def test_a_police_month_file_is_checked_for_its_force_and_month(
        browser, site, network, tmp_path):
    """Whatever the file is called on the officer's computer, it is checked as the month
    chosen (the nightly run reads the month from the name, police/<force>/<YYYY-MM>.csv)."""
    from selenium.webdriver.common.by import By

    month = tmp_path / "cleveland march.csv"
    month.write_text(police_month_file(POLICE_GOOD))
    upload(browser, site, "police", [month], force=CLEVELAND, month="2024-03")

    assert _status_of_check(network, site) == 200
    assert browser.find_element(By.TAG_NAME, "h1").text == (
        "Check of a return not yet submitted: Cleveland (E23000013), police month file 2024-03")
    assert browser.find_element(By.ID, "outcome").text == "Would be loaded."
    assert accessibility_violations(browser) == []


def test_aggregate_figures_in_a_workbook_are_checked(browser, site, network, tmp_path):
    from selenium.webdriver.common.by import By

    landing = deliver_aggregate(tmp_path, AGGREGATE_GOOD, name="answer.xlsx")
    workbook = landing / "aggregate" / "foi-2024-0412" / "answer.xlsx"
    upload(browser, site, "aggregate", [workbook], source="foi-2024-0412")

    assert _status_of_check(network, site) == 200
    assert browser.find_element(By.ID, "outcome").text.startswith("Would be loaded")
    facts = browser.find_element(By.CSS_SELECTOR, "table.facts").text
    assert "answer.xlsx" in facts


def test_more_files_than_allowed_are_refused(browser, site, network, checker, tmp_path):
    files = []
    for n in range(11):
        files.append(tmp_path / f"part{n}.csv")
        files[-1].write_text("CHILD\nT001\n")
    before = checker.checked
    upload(browser, site, "council", files, authority="806", year="2023-24")

    assert _status_of_check(network, site) == 413
    assert checker.checked == before
    assert _errors(browser) == {
        "files": "Too many files: at most 10 can be checked at once (a council return is "
                 "three: header.csv, episodes.csv and missing.csv)."}


def test_a_form_sent_from_another_site_or_name_is_refused(site, checker, tmp_path):
    """Only the page itself may send the form, to 127.0.0.1 or localhost (no other site's
    page can post a return to it, nor reach it by another name)."""
    import httpx

    files = _return_files(tmp_path)
    form = {"kind": "council", "authority": "806", "year": "2023-24"}
    sent = [("files", (name, path.read_bytes())) for name, path in files.items()]
    before = checker.checked
    other_site = httpx.post(f"{site}/check", data=form, files=sent,
                            headers={"Origin": "http://example.org"})
    assert (other_site.status_code, other_site.text) == (
        403, "Refused: the form is sent from its own page only.")
    other_name = httpx.get(f"{site}/", headers={"Host": "example.org"})
    assert other_name.status_code == 400
    assert checker.checked == before


def test_mfc_serve_check_serves_the_form_on_127_0_0_1(checker):
    """The command itself: it prints the address once the check is ready, serves the form
    there, and stops on Ctrl+C (the embedded PostgreSQL is up already: the checker fixture)."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = subprocess.Popen([sys.executable, "-m", "mfc.cli", "serve-check", "--port",
                                str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in command.stdout],
                     daemon=True).start()
    try:
        said = []
        while not any("Check a return at" in line for line in said):
            said.append(lines.get(timeout=120))
        assert said[-1].strip() == (f"Check a return at http://127.0.0.1:{port}/ (only this "
                                    "computer can reach it; Ctrl+C stops it).")
        for _ in range(100):
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/")
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert page.status_code == 200
        assert "<h1>Check a return before you submit it</h1>" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
    finally:
        command.send_signal(signal.SIGINT)
        assert command.wait(timeout=30) == 0


def test_mfc_serve_check_refuses_a_port_in_use(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve-check", "--port", str(port)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"mfc serve-check: port {port} on 127.0.0.1 is in use (another mfc serve-check?); "
        "give another with --port")


def test_an_upload_far_past_the_limits_is_refused_before_it_is_read(
        browser, site, network, checker, tmp_path):
    files = _return_files(tmp_path)
    huge = files["missing.csv"]
    with huge.open("a") as f:
        f.write("T001,05/01/2010,M,03/05/2023,04/05/2023\n" * (4 * 1024 * 1024 // 40))
    before = checker.checked
    upload(browser, site, "council", files.values(), authority="806", year="2023-24")

    assert _status_of_check(network, site) == 413
    assert checker.checked == before
    assert _errors(browser) == {
        "files": "The upload is too large: at most 10 files, each at most 64 KB; nothing was "
                 "checked."}
