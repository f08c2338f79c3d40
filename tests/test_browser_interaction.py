"""What a reader does on the built site, in headless Chromium: follow the index,
open a check, use the menus and the sidebar, search; and the screenshots at
both widths, in _build/screenshots/ (see tests/browser.py for the browser).
"""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from browsing import LAPTOP, PHONE, open_page, screenshot, the_visible, viewport, visible, wait_for
from helpers import toc_documents


def test_index_leads_to_the_intro(site, browser):
    browser.get((site / "index.html").as_uri())
    intro = (site / "book" / "intro.html").as_uri()
    WebDriverWait(browser, 10).until(lambda driver: driver.current_url == intro)
    assert open_page(browser, site / "book" / "intro.html")["math"] > 0


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
@pytest.mark.parametrize("page", ["book/intro", "book/cross_entropy", "book/api"])
def test_screenshot(site, browser, page, width):
    with viewport(browser, width):
        open_page(browser, site / f"{page}.html")
        screenshot(browser, f"{Path(page).name}-{width}", full_page=True)


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
