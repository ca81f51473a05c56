"""Session-wide fixtures of the browser and docs tests (made visible to every test file by
conftest.py, so each is set up once per run): ``browser``, a headless Chromium, and ``site``,
the documentation built by MkDocs.

The browser is Debian's ``chromium`` and ``chromium-driver`` driven by selenium, with nothing
downloaded at run time.

Selenium is given the system chromedriver and browser explicitly, so selenium-manager (which
would fetch a driver from the network) never runs; the browser resolves no host name but the
loopback one, so a page that reaches for the network shows it as a console error. The tests
that use it are skipped only when chromium, chromedriver or selenium is absent (CI installs
all three: ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
WIDTH, HEIGHT = 1280, 900
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built once (``mkdocs build --strict``) into a temporary folder."""
    pytest.importorskip("mkdocs")
    out = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                    "--site-dir", str(out)], cwd=ROOT, check=True,
                   env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    return out


def _missing() -> str | None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        return ("needs Debian's chromium and chromium-driver "
                "(apt-get install -y chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "needs selenium (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session, its window 1280 px wide, its console logged."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-extensions", "--no-first-run",
                 f"--window-size={WIDTH},{HEIGHT}", "--force-device-scale-factor=1",
                 # No network: any host but the loopback one fails to resolve.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Given the driver's path, selenium skips selenium-manager (which downloads drivers); a
    # selenium that called it anyway fails here instead of reaching for the network.
    refuse = AssertionError("selenium tried selenium-manager, which downloads drivers")
    with mock.patch.object(SeleniumManager, "binary_paths", side_effect=refuse):
        driver = webdriver.Chrome(options=options,
                                  service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The browser console's errors and warnings since the last call (reading clears them)."""
    return [f"{e['level']}: {e['message']}" for e in driver.get_log("browser")
            if e["level"] in ("SEVERE", "WARNING")]
