"""The browser the page tests read with: Debian's headless Chromium through selenium, recording
every request it sends, and axe-core's accessibility check (bundled with axe-selenium-python,
so nothing is fetched)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def chromium(downloads: Path | None = None) -> Iterator:
    """A headless Chromium, its performance log on (every request); downloads, if given, are
    saved there without asking."""
    if not (CHROMEDRIVER.exists() and CHROMIUM.exists()):
        pytest.fail("Debian's chromium and chromium-driver are not installed: run `make test`, "
                    "which installs them (/usr/bin/chromium, /usr/bin/chromedriver).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    if downloads:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    # An explicit driver path: selenium's manager then downloads nothing (machines are offline).
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def network_log(driver) -> list[dict]:
    """The network events since the last call (Network.requestWillBeSent, responseReceived,
    ...), each as {"method": ..., "params": ...}."""
    return [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")
            if json.loads(entry["message"])["message"]["method"].startswith("Network.")]


def requests_sent(driver) -> list[str]:
    """The URL of every request the browser sent since the last look at its log."""
    return [event["params"]["request"]["url"] for event in network_log(driver)
            if event["method"] == "Network.requestWillBeSent"]


def accessibility_violations(driver) -> list[str]:
    """What axe-core finds on the open page, one line per rule broken."""
    from axe_selenium_python import Axe

    axe = Axe(driver)
    axe.inject()
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} element(s), e.g. "
            f"{v['nodes'][0]['html']})" for v in axe.run()["violations"]]
