"""Every page of the built site, opened in headless Chromium with no network.

A page fails when any of its math is left unrendered or MathJax reports an
error, when an image does not load, or when the browser console shows an
error. At the width of a phone (390 px) and of a laptop (1280 px), no page
may scroll sideways and no block may stick out of the text column, and the
figures' text stays legible. What a reader does on the pages (menus, a
check's toggle, search, screenshots) is in test_browser_interaction.py;
the browser and its helpers in browsing.py, which skips both modules,
with the reason, when Chromium is not installed (unless
XENTREF_REQUIRE_BROWSER=1, as CI sets it: then they fail).
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browsing import CHAPTERS, LAPTOP, PAGES, PHONE, open_page, viewport
from helpers import svg_text_sizes


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


def test_chapters_have_rendered_math(site, browser):
    assert open_page(browser, site / "book" / "cross_entropy.html")["math"] > 20


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

