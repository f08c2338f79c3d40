"""Headless Chromium for the browser tests: the pages, the widths, and how to open and measure them.

Chromium and ChromeDriver come from Debian's `chromium` and `chromium-driver`
packages. Without them the browser tests are skipped, with the reason,
unless XENTREF_REQUIRE_BROWSER=1 is set, as CI sets it, in which case they
fail.
"""

import os
import shutil
from contextlib import contextmanager

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from helpers import ROOT, toc_documents

SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
PAGES = [f"{name}.html" for name in toc_documents()] + ["search.html", "genindex.html"]
CHAPTERS = [f"{name}.html" for name in toc_documents() if (ROOT / f"{name}.ipynb").exists()]
PHONE, LAPTOP = 390, 1280

if not (CHROMIUM and CHROMEDRIVER):
    reason = "headless Chromium is not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("XENTREF_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"XENTREF_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)

# Wait for the page to load and MathJax to finish, then report what it shows.
INSPECT = """
const done = arguments[arguments.length - 1];
const report = () => {
  const math = Array.from(document.querySelectorAll('.math'));
  done({
    url: location.href,
    math: math.length,
    unrendered: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60)),
    mathjax_errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent),
    broken_images: Array.from(document.images)
      .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  });
};
const wait = () => {
  if (document.readyState !== 'complete') {
    setTimeout(wait, 50);
  } else if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(report, report);
  } else {
    report();
  }
};
wait();
"""


def open_page(browser, path):
    """Open a file of the site, or a URL, and wait for its math."""
    url = path if isinstance(path, str) else path.as_uri()
    browser.get(url)
    state = browser.execute_async_script(INSPECT)
    assert state["url"] == url, f"expected {url}, the browser shows {state['url']}"
    return state


@contextmanager
def viewport(browser, width, height=900):
    """A viewport `width` CSS pixels wide, narrower than a headless window can be."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def screenshot(browser, name, full_page=False):
    """Save what the browser shows to _build/screenshots/<name>.png."""
    if full_page:
        width = browser.execute_script("return window.innerWidth")
        # Chromium times out on captures much taller than this (the API
        # page is over 100,000 px at 1280 px): the top of a long page.
        height = min(browser.execute_script("return document.documentElement.scrollHeight"), 16_000)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    png = browser.get_screenshot_as_png()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    path.write_bytes(png)
    assert path.stat().st_size > 10_000, f"{path} is nearly empty"


def visible(browser, selector):
    return [e for e in browser.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]


def the_visible(browser, selector):
    """The one element matching `selector` that a reader can see."""
    found = visible(browser, selector)
    assert len(found) == 1, f"expected one visible {selector}, found {len(found)}"
    return found[0]


def wait_for(browser, condition, message, timeout=10):
    WebDriverWait(browser, timeout).until(lambda driver: condition(), message)
