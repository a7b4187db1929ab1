"""One real stack for every browser test: a repository with a tiny version of all six models (built with the
same fast settings the families' own gateway tests use), `python -m modelserver` + `python -m gateway` as
real processes on free ports, and one headless Chromium (Debian's `chromium` + `chromium-driver`) driven by
Selenium, with its network log on so each test can check the page asked nothing of any other host.

Chromium is told that every host but 127.0.0.1 does not resolve, so the page is tested as on a machine
with no network at all. Without a browser the tests skip on a developer's machine; in CI (`CI=true`) a
missing browser is a failure (`.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tests.utils.servers import REPO_ROOT
from tests.utils.stack import Stack

os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SCREENSHOT_DIR = Path(os.environ.get("PLAYGROUND_SCREENSHOTS", REPO_ROOT / "reports" / "playground"))


def find_browser() -> tuple[str, str] | None:
    browser = next((p for n in CHROMIUM_NAMES if (p := shutil.which(n))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="session")
def browser_paths() -> tuple[str, str]:
    found = find_browser()
    if found is None:
        msg = "headless Chromium and chromedriver not found (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{msg}; CI must run the browser tests")
        pytest.skip(msg)
    return found


@pytest.fixture(scope="session")
def stack(browser_paths: tuple[str, str], all_families_stack: Stack) -> Stack:
    """The session's six-model stack (tests/conftest.py), once a browser is known to be there."""
    return all_families_stack


@pytest.fixture(scope="session")
def driver(browser_paths: tuple[str, str], stack: Stack) -> Iterator["object"]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, chromedriver = browser_paths
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1360,1000",
                "--force-device-scale-factor=1", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
                # no network: every name but the gateway's address fails to resolve
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)
    drv.set_page_load_timeout(120)
    drv.set_script_timeout(120)
    try:
        yield drv
    finally:
        drv.quit()


def requested_urls(driver) -> list[str]:
    """Every URL the browser sent a request for since the last call (Chrome's performance log = CDP Network
    events). A request the page's Content-Security-Policy blocked never left the browser: not counted."""
    sent: list[tuple[str, str]] = []
    blocked: set[str] = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg.get("method") == "Network.requestWillBeSent":
            sent.append((params["requestId"], params["request"]["url"]))
        elif msg.get("method") == "Network.loadingFailed" and params.get("blockedReason") == "csp":
            blocked.add(params["requestId"])
    return [url for rid, url in sent if rid not in blocked]


def foreign_requests(urls: list[str], gateway_url: str) -> list[str]:
    """URLs that left the gateway: any other scheme+host+port (data: and blob: URLs stay in the page)."""
    gw = urlsplit(gateway_url)
    out = []
    for url in urls:
        u = urlsplit(url)
        if u.scheme in ("data", "blob"):
            continue
        if (u.scheme, u.hostname, u.port) != (gw.scheme, gw.hostname, gw.port):
            out.append(url)
    return out


@pytest.fixture
def page(driver, stack: Stack):
    """The driver with a clean network log; after the test, no request may have left the gateway."""
    requested_urls(driver)  # drain what earlier tests left
    driver.get_log("browser")
    driver.urls = []
    yield driver
    # no script error, no refused style or script (the playground's CSP); 4xx answers the test asked for and
    # ReDoc's CDN logo (refused by the docs' CSP) are expected
    expected = re.compile(r"status of 4\d\d|cdn\.redoc\.ly")
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE" and not expected.search(e["message"])]
    assert not errors, f"the browser console reported errors: {errors}"
    urls = requested_urls(driver)
    assert urls or driver.urls, "the performance log recorded no request at all (is network logging on?)"
    driver.urls.extend(urls)
    foreign = foreign_requests(driver.urls, stack.url)
    assert not foreign, f"the page requested other hosts than the gateway: {foreign}"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


SAVED: list[Path] = []


def pytest_terminal_summary(terminalreporter) -> None:
    """Where the screenshots went, in the run's summary (prints inside tests are captured)."""
    if SAVED:
        terminalreporter.write_line(f"playground screenshots ({len(SAVED)}): {SAVED[0].parent}/{{{','.join(p.name for p in SAVED)}}}")


def save_screenshot(driver, directory: Path, name: str) -> Path:
    """The whole page (not only the window) as a PNG; the path is printed for the test log."""
    height = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1360, "height": int(height), "deviceScaleFactor": 1, "mobile": False})
    try:
        time.sleep(0.2)
        path = directory / f"{name}.png"
        import base64

        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print(f"screenshot: {path}")
    SAVED.append(path)
    return path
