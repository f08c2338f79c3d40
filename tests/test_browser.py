"""Every page of the built site, opened in headless Chromium with no network.

A page fails when any of its math is left unrendered or MathJax reports an
error, when an image does not load, or when the browser console shows an
error. At the width of a phone (390 px) and of a laptop (1280 px), no page
may scroll sideways and no block may stick out of the text column; the menu
buttons a reader sees must open, close and navigate; and the search page,
served over HTTP, must list each result once with a snippet of the article.
Screenshots at both widths go to _build/screenshots/.

Chromium and ChromeDriver come from Debian's `chromium` and `chromium-driver`
packages. Without them these tests are skipped, with the reason, unless
XENTREF_REQUIRE_BROWSER=1 is set, as CI sets it, in which case they fail.
"""

import functools
import os
import shutil
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from helpers import ROOT, svg_text_sizes, toc_documents

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


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        # Any request that leaves the machine fails, and shows in the console.
        "--proxy-server=127.0.0.1:9",
    ]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def measured(site, browser):
    """``measured(page, width)``: what the page shows at that width, measured on one load of it.

    The layout checks below read these measurements, so each page is loaded
    once per width however many checks look at it, in the state a reader
    first sees it (the one script that opens folded cells runs last).
    """
    cache = {}

    def measure(page, width):
        if (page, width) not in cache:
            with viewport(browser, width):
                browser.get_log("browser")  # what earlier pages logged
                state = open_page(browser, site / page)
                console = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
                scripts = {"size": PAGE_SIZE, "spills": SPILLS}
                if page in CHAPTERS:
                    scripts |= {"equation_numbers": EQUATION_NUMBERS, "folded": FOLDED, "figures": FIGURES}
                # Last: it opens every folded cell, to measure its code.
                scripts["scrolling"] = SCROLLING
                cache[page, width] = {
                    "state": state, "console": console,
                    **{name: browser.execute_script(script) for name, script in scripts.items()},
                }
        return cache[page, width]

    return measure


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_cleanly(measured, page):
    state, console_errors = measured(page, LAPTOP)["state"], measured(page, LAPTOP)["console"]
    assert not state["unrendered"], f"math left unrendered: {state['unrendered']}"
    assert not state["mathjax_errors"], f"MathJax errors: {state['mathjax_errors']}"
    assert not state["broken_images"], f"images that did not load: {state['broken_images']}"
    assert not console_errors, "console errors:\n" + "\n".join(console_errors)


def test_index_leads_to_the_intro(site, browser):
    browser.get((site / "index.html").as_uri())
    intro = (site / "book" / "intro.html").as_uri()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url == intro)
    assert open_page(browser, site / "book" / "intro.html")["math"] > 0


def test_chapters_have_rendered_math(site, browser):
    assert open_page(browser, site / "book" / "cross_entropy.html")["math"] > 20


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
@pytest.mark.parametrize("page", ["book/intro", "book/cross_entropy", "book/api"])
def test_screenshot(site, browser, page, width):
    with viewport(browser, width):
        open_page(browser, site / f"{page}.html")
        screenshot(browser, f"{Path(page).name}-{width}", full_page=True)


# Layout --------------------------------------------------------------------

# The blocks that must stay inside the text column, and the column itself.
# A block is measured by the part of it a reader can see: its own box, or,
# where its content overflows a box that does not scroll, its content, cut
# to every scrolling or clipping box around it. A block that scrolls inside
# itself is therefore fine; one that spills past the column is not.
PAGE_SIZE = "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
SPILLS = """
const column = document.querySelector('article.bd-article')
    || document.querySelector('.bd-article-container');
const col = column.getBoundingClientRect();
const blocks = column.querySelectorAll([
  'pre', 'div.highlight', 'div.math', 'mjx-container[display="true"]', 'table',
  'dl.py > dt', 'div.cell_output', 'img', 'figure', 'div.admonition',
].join(','));
const spills = [];
for (const block of blocks) {
  const box = block.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) continue;
  const style = getComputedStyle(block);
  let left = box.left;
  let right = style.overflowX === 'visible' ? box.left + block.scrollWidth : box.right;
  for (let outer = block.parentElement; outer && outer !== column; outer = outer.parentElement) {
    if (getComputedStyle(outer).overflowX !== 'visible') {
      const clip = outer.getBoundingClientRect();
      left = Math.max(left, clip.left);
      right = Math.min(right, clip.right);
    }
  }
  if (left < col.left - 0.5 || right > col.right + 0.5) {
    spills.push(`${block.tagName.toLowerCase()}.${String(block.className).split(' ')[0]} `
      + `reaches ${Math.round(left - col.left)}..${Math.round(right - col.left)} px of a `
      + `${Math.round(col.width)} px column: ${block.textContent.trim().slice(0, 50)}`);
  }
}
return spills;
"""


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
@pytest.mark.parametrize("page", PAGES)
def test_no_page_is_wider_than_the_window(measured, page, width):
    wide, screen = measured(page, width)["size"]
    assert wide <= screen, f"{page} is {wide} px wide in a {screen} px window: it scrolls sideways"


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
@pytest.mark.parametrize("page", PAGES)
def test_blocks_stay_in_the_text_column(measured, page, width):
    spills = measured(page, width)["spills"]
    assert not spills, f"at {width} px, blocks of {page} stick out of the text column:\n" + "\n".join(spills)


def test_the_column_check_sees_a_spilling_block(site, browser):
    # The check above can fail: a code block stretched past the column is caught.
    open_page(browser, site / "book" / "entropy.html")
    browser.execute_script("document.querySelector('article pre').style.width = '2000px'")
    assert browser.execute_script(SPILLS)


EQUATION_NUMBERS = """
const overlaps = [];
for (const math of document.querySelectorAll('div.math')) {
  const number = math.querySelector('.eqno');
  const equation = math.querySelector('mjx-container');
  if (!number || !equation) continue;
  const n = number.getBoundingClientRect();
  const box = equation.getBoundingClientRect();
  const ink = equation.querySelector('mjx-math').getBoundingClientRect();
  // The part of the equation a reader sees: its ink, cut to its scrolling box.
  const left = Math.max(box.left, ink.left), right = Math.min(box.right, ink.right);
  const top = Math.max(box.top, ink.top), bottom = Math.min(box.bottom, ink.bottom);
  if (n.left < right && n.right > left && n.top < bottom && n.bottom > top) {
    overlaps.push(`${number.textContent.trim()} over ${math.id}`);
  }
}
return [document.querySelectorAll('div.math .eqno').length, overlaps];
"""


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_equation_numbers_stay_clear_of_their_equations(measured, width):
    numbered = 0
    for page in CHAPTERS:
        count, overlaps = measured(page, width)["equation_numbers"]
        numbered += count
        assert not overlaps, f"at {width} px in {page}: " + ", ".join(overlaps)
    assert numbered > 20, f"only {numbered} numbered equations found: is the check looking?"


# Folded code, figures and code lines in the column ------------------------

FOLDED = """
return [...document.querySelectorAll('div.cell details.hide.above-input')].map((details) => {
  const output = details.nextElementSibling;
  return {
    label: details.querySelector('summary p.collapsed').textContent.trim(),
    open: details.open,
    // A closed <details> skips rendering its content, which keeps its layout.
    code: details.querySelector('div.cell_input pre').checkVisibility(),
    output: Boolean(output && output.classList.contains('cell_output')
      && output.checkVisibility() && output.getBoundingClientRect().height > 0),
  };
});
"""


@pytest.mark.parametrize("page", CHAPTERS)
def test_folded_code_is_hidden_and_what_it_prints_is_shown(measured, page):
    cells = measured(page, LAPTOP)["folded"]
    assert cells, f"{page} folds no cell"
    for cell in cells:
        assert not cell["open"] and not cell["code"], f"{page}: {cell['label']!r} shows its code"
        assert cell["output"], f"{page}: {cell['label']!r} shows no output under its toggle"


def test_a_check_opens_on_a_click(site, browser):
    with viewport(browser, PHONE):
        open_page(browser, site / "book" / "softmax.html")
        details = next(
            d for d in browser.find_elements(By.CSS_SELECTOR, "div.cell details.hide.above-input")
            if d.text.startswith("Check:")
        )
        code = details.find_element(By.CSS_SELECTOR, "div.cell_input pre")
        output = details.find_element(By.XPATH, "following-sibling::div[contains(@class, 'cell_output')]")
        browser.execute_script("arguments[0].scrollIntoView()", details)
        assert not code.is_displayed() and output.is_displayed()
        details.find_element(By.TAG_NAME, "summary").click()
        wait_for(browser, code.is_displayed, "a click on the toggle did not show the check's code")
        assert details.get_attribute("open") is not None and output.is_displayed()
        assert "# Check:" in code.text
        screenshot(browser, f"check-open-{PHONE}")


# What must not scroll inside its own box at 1280 px: every line of code
# (folded or not), of printed output and of display math, at full length.
SCROLLING = """
document.querySelectorAll('details').forEach((details) => { details.open = true; });
const boxes = document.querySelectorAll(
  'article div.cell_input pre, article div.cell_output pre, article pre.literal-block, '
  + 'article pre.doctest, article div.math > mjx-container');
return [...boxes]
  .filter((box) => box.scrollWidth > box.clientWidth)
  .map((box) => {
    const lines = box.textContent.split('\\n');
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a));
    return `${box.scrollWidth} px in a ${box.clientWidth} px box: ${longest.trim().slice(0, 60)}`;
  });
"""


@pytest.mark.parametrize("page", PAGES)
def test_code_output_and_equations_fit_the_column_on_a_laptop(measured, page):
    scrolling = measured(page, LAPTOP)["scrolling"]
    assert not scrolling, f"at {LAPTOP} px, {page} has lines that scroll sideways:\n" + "\n".join(scrolling)


@pytest.mark.parametrize("block", ["code", "equation"])
def test_the_scrolling_check_sees_a_long_line(site, browser, block):
    with viewport(browser, LAPTOP):
        open_page(browser, site / "book" / "entropy.html")
        grow = {
            "code": "document.querySelector('div.cell_input pre').append('x'.repeat(81))",
            "equation": "document.querySelector('div.math > mjx-container mjx-math').style.paddingRight = '2000px'",
        }[block]
        browser.execute_script(grow)
        assert browser.execute_script(SCROLLING)


FIGURES = """
const article = document.querySelector('article.bd-article');
const style = getComputedStyle(article);
const column = article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
return [...article.querySelectorAll('div.cell_output img')].map((img) => ({
  src: img.src, width: img.getBoundingClientRect().width, natural: img.naturalWidth, column,
}));
"""
SMALLEST_TEXT = 9  # CSS px


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_figures_fit_the_column_and_their_text_is_legible(measured, width):
    figures = 0
    for page in CHAPTERS:
        for figure in measured(page, width)["figures"]:
            figures += 1
            name = Path(unquote(urlsplit(figure["src"]).path))
            assert name.suffix == ".svg", f"{page}: a figure is not SVG: {name.name}"
            assert figure["width"] <= figure["column"] + 0.5, f"{page}: {name.name} is wider than the column"
            sizes, units = svg_text_sizes(name.read_text())
            smallest = min(sizes) * figure["width"] / units
            assert smallest >= SMALLEST_TEXT, (
                f"at {width} px, {page}: text of {name.name} is {smallest:.1f} px, below {SMALLEST_TEXT}"
            )
            if width == LAPTOP:
                # Shown at the size it was drawn, not shrunk to fit.
                assert abs(figure["width"] - figure["natural"]) < 1, f"{page}: {name.name} is scaled"
    assert figures > 20, f"only {figures} figures found: is the check looking?"


# Menus ---------------------------------------------------------------------


def test_the_theme_adds_no_second_header(site):
    # pydata-sphinx-theme 0.17 renders a header with its own search field and
    # menu buttons unless told not to; the scripts then bind the hidden ones.
    text = (site / "book" / "entropy.html").read_text()
    assert text.count("primary-toggle") == 1
    assert text.count("secondary-toggle") == 1
    assert text.count("search-button-field") == 1


def test_chapter_menu_on_a_phone_opens_closes_and_navigates(site, browser):
    with viewport(browser, PHONE):
        open_page(browser, site / "book" / "entropy.html")
        dialog = browser.find_element(By.ID, "pst-primary-sidebar-modal")
        menu = the_visible(browser, ".primary-toggle")

        menu.click()
        wait_for(browser, lambda: dialog.get_attribute("open") is not None, "the chapter menu did not open")
        chapters = [a.get_attribute("href") for a in dialog.find_elements(By.CSS_SELECTOR, "nav.bd-docs-nav a")
                    if a.is_displayed()]
        assert len(chapters) == len(toc_documents()), f"the open menu shows {chapters}"
        screenshot(browser, f"chapter-menu-{PHONE}")

        # A tap beside the menu, on the dimmed page (not its scrollbar), closes it.
        tap = ActionBuilder(browser)
        tap.pointer_action.move_to_location(PHONE - 50, 450).click()
        tap.perform()
        wait_for(browser, lambda: dialog.get_attribute("open") is None, "the chapter menu did not close")
        assert not visible(browser, "#pst-primary-sidebar-modal nav.bd-docs-nav a")

        menu.click()
        wait_for(browser, lambda: dialog.get_attribute("open") is not None, "the chapter menu did not reopen")
        dialog.find_element(By.CSS_SELECTOR, 'nav.bd-docs-nav a[href="kl_divergence.html"]').click()
        target = (site / "book" / "kl_divergence.html").as_uri()
        wait_for(browser, lambda: browser.current_url == target, "a chapter in the menu did not open")


def test_contents_menu_on_a_phone_opens(site, browser):
    with viewport(browser, PHONE):
        open_page(browser, site / "book" / "entropy.html")
        dialog = browser.find_element(By.ID, "pst-secondary-sidebar-modal")
        the_visible(browser, ".secondary-toggle").click()
        wait_for(browser, lambda: dialog.get_attribute("open") is not None, "the contents menu did not open")
        sections = [a for a in dialog.find_elements(By.CSS_SELECTOR, "a.nav-link") if a.is_displayed()]
        assert len(sections) >= 3, "the open contents menu lists no sections"
        screenshot(browser, f"contents-menu-{PHONE}")
        sections[1].click()
        anchor = sections[1].get_attribute("href").split("#")[1]
        wait_for(browser, lambda: browser.current_url.endswith(f"#{anchor}"), "a section link did not work")


def test_sidebar_button_on_a_laptop_hides_and_shows_the_chapters(site, browser):
    with viewport(browser, LAPTOP):
        open_page(browser, site / "book" / "entropy.html")
        sidebar = browser.find_element(By.ID, "pst-primary-sidebar")
        assert sidebar.is_displayed()
        button = the_visible(browser, ".primary-toggle")

        button.click()
        wait_for(browser, lambda: not sidebar.is_displayed(), "the button did not hide the sidebar")
        screenshot(browser, f"sidebar-hidden-{LAPTOP}")
        assert browser.find_element(By.CSS_SELECTOR, "article.bd-article").rect["x"] < sidebar.size["width"]

        button.click()
        wait_for(browser, sidebar.is_displayed, "the button did not bring the sidebar back")
        sidebar.find_element(By.CSS_SELECTOR, 'a[href="kl_divergence.html"]').click()
        target = (site / "book" / "kl_divergence.html").as_uri()
        wait_for(browser, lambda: browser.current_url == target, "a chapter in the sidebar did not open")


# Search, served over HTTP as a reader's browser fetches it -----------------


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def served(site):
    """The built site, served on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


# Every result with its snippet, and the article text of the page it links
# to, fetched as the search page fetches it.
SEARCH_RESULTS = """
const done = arguments[arguments.length - 1];
const items = [...document.querySelectorAll('#search-results li')];
const squash = (text) => text.replace(/\\s+/g, ' ').trim();
Promise.all(items.map(async (li) => {
  const link = li.querySelector('a');
  const page = new DOMParser().parseFromString(await (await fetch(link.href)).text(), 'text/html');
  page.querySelectorAll('.headerlink, script, style').forEach((e) => e.remove());
  const article = page.querySelector('article.bd-article');
  return {
    href: link.href,
    title: squash(link.textContent),
    snippet: squash(li.querySelector('p.context')?.textContent || ''),
    article: squash(article ? article.textContent : ''),
    menu: [...page.querySelectorAll('.dropdown-download-buttons li')].map((e) => squash(e.textContent)),
  };
})).then(done, (error) => done(String(error)));
"""


def search(browser, served, word):
    open_page(browser, f"{served}/search.html?q={quote(word)}")
    finished = lambda: browser.execute_script("return /found/.test(Search.status?.innerText || '')")
    wait_for(browser, finished, f"the search for {word!r} did not finish", timeout=30)
    # Each snippet is fetched after its result is listed.
    summarised = lambda: browser.execute_script(
        "return [...document.querySelectorAll('#search-results li')]"
        ".every(li => li.querySelector('p.context, span'))"
    )
    wait_for(browser, summarised, f"the snippets of {word!r} did not arrive", timeout=30)
    results = browser.execute_async_script(SEARCH_RESULTS)
    assert isinstance(results, list), results
    return results


@pytest.mark.parametrize("word", ["entropy", "glossary", "softmax"])
def test_search_lists_each_result_once_with_a_snippet_of_the_article(served, browser, word):
    results = search(browser, served, word)
    assert len(results) >= 2, f"searching {word!r} found {results}"
    links = [r["href"] for r in results]
    titles = [r["title"] for r in results]
    assert len(set(links)) == len(links), f"a page is listed twice: {sorted(links)}"
    assert len(set(titles)) == len(titles), f"a title is listed twice: {sorted(titles)}"
    for result in results:
        # The snippet is cut from the page's text, with "..." at a cut end.
        snippet = result["snippet"].removeprefix("...").removesuffix("...")
        assert snippet in result["article"], (
            f"{result['title']}: the snippet is not text of the article "
            f"(the page's download menu reads {result['menu']}): {snippet[:80]!r}"
        )
    # Over HTTP the browser asks the server's root for /favicon.ico, which the
    # site does not provide and a host serves, or not, on its own.
    console_errors = [
        e["message"] for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and f"{served}/favicon.ico " not in e["message"]
    ]
    assert not console_errors, "console errors:\n" + "\n".join(console_errors)
