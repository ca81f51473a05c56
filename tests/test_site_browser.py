"""The documentation site in a real browser (headless Chromium, 1280 px wide), served from a
loopback HTTP server with no other network: every page loads without console errors and
without horizontal overflow (code blocks may scroll inside themselves, the page must not), and
screenshots of the home page, a tutorial and an API page are not blank."""

import functools
import http.server
import threading
from pathlib import Path

import pytest
from _browser import WIDTH, console_errors

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(str(p.relative_to(DOCS).with_suffix("")) for p in DOCS.rglob("*.md"))
SCREENSHOTS = ("index", "tutorials/vanishing", "api/diagnostics")


def url_path(page: str) -> str:
    """MkDocs' address of a Markdown page: ``a/b.md`` is served at ``a/b/``."""
    return "" if page == "index" else (page[:-len("index")] if page.endswith("/index")
                                       else page + "/")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # (the test output stays readable)
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


OVERFLOW_JS = """
const root = document.documentElement;
const width = root.clientWidth;
const found = [];
if (root.scrollWidth > width) found.push("page: scrollWidth " + root.scrollWidth + " > " + width);
document.querySelectorAll("pre, table, img, svg, .highlight").forEach((el) => {
  const right = el.getBoundingClientRect().right;
  if (right > width + 1) found.push(el.tagName + " ends at " + Math.round(right) + " px");
});
return found;
"""


def horizontal_overflow(driver) -> list[str]:
    """What sticks out to the right of the window: the page itself, or a code block, table or
    figure (whose right edge the reader could not scroll to)."""
    return driver.execute_script(OVERFLOW_JS)


def test_the_browser_window_is_1280_px_wide(browser):
    assert browser.execute_script("return window.innerWidth") == WIDTH


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly_without_horizontal_overflow(page, browser, server):
    browser.get(server + url_path(page))
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.find_element("css selector", "article h1").text  # the page itself rendered
    assert console_errors(browser) == [], page
    assert horizontal_overflow(browser) == [], page


def test_the_overflow_check_catches_a_code_line_that_pushes_the_page(browser, server):
    browser.get(server + url_path("tutorials/autograd"))
    assert horizontal_overflow(browser) == []
    browser.execute_script("""
        const pre = document.createElement("pre");
        pre.style.cssText = "white-space: pre; overflow: visible; width: max-content";
        pre.textContent = "x = " + "1 + ".repeat(600) + "1";
        document.querySelector("article").append(pre);""")
    found = horizontal_overflow(browser)
    assert any(f.startswith("page: scrollWidth") for f in found)
    assert any(f.startswith("PRE ends at") for f in found)


@pytest.mark.parametrize("page", SCREENSHOTS)
def test_screenshot_is_not_blank(page, browser, server, tmp_path_factory):
    from PIL import Image, ImageStat

    browser.get(server + url_path(page))
    path = tmp_path_factory.getbasetemp() / "screenshots" / (page.replace("/", "_") + ".png")
    path.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(path))
    with Image.open(path) as shot:
        assert shot.size[0] == WIDTH
        grey = shot.convert("L")
        assert ImageStat.Stat(grey).stddev[0] > 20, f"{path}: nearly uniform"
        assert len(grey.getcolors(maxcolors=256 * 256) or ()) > 50, f"{path}: too few shades"
    assert console_errors(browser) == [], page
