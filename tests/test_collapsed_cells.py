"""Checks and figure code are folded on the built pages, and what they print is not.

The rule lives in book/_ext/collapsed_cells.py and CONTRIBUTING.md: a code
cell that opens with ``# Check: <what it verifies>`` is a check, and its code
folds under a toggle with that label; so does the code of a cell that draws a
figure. These tests hold the chapters to the rule and the built site to its
result; test_browser_interaction.py opens a toggle.
"""

import ast
import html
import json
import re
import sys

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))

import collapsed_cells  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def code_cells(path):
    notebook = json.loads(path.read_text())
    return [c for c in notebook["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def source(cell):
    return "".join(cell["source"])


# The rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("# Check: H(p) >= 0 on random p\nassert True", "Check: H(p) >= 0 on random p"),
        ("# Check: one line only", "Check: one line only"),
        ("x = 1\n# Check: not the first line", None),
        ("# check: lower case", None),
        ("# Check:", None),
        ("#Check: no space", None),
        ("    # Check: indented", None),
    ],
)
def test_a_check_is_a_cell_whose_first_line_says_so(text, label):
    assert collapsed_cells.check_label(text) == label


def test_fold_tags_checks_and_figures_and_leaves_the_rest_open():
    figure = new_code_cell("plt.plot([1, 2])", outputs=[
        new_output("display_data", data={"image/svg+xml": "<svg/>", "text/plain": "<Figure>"})
    ])
    checked_figure = new_code_cell("# Check: the curve\nplt.plot([1, 2])", outputs=figure.outputs)
    notebook = new_notebook(cells=[
        new_markdown_cell("# Check: a sentence, not code"),
        new_code_cell("import numpy as np"),
        new_code_cell("# Check: 1 + 1 = 2\nassert 1 + 1 == 2\nprint('verified')", metadata={"tags": ["claim-x"]}),
        figure,
        checked_figure,
    ])
    assert collapsed_cells.fold(notebook) == 3
    cells = notebook.cells
    assert "tags" not in cells[0].metadata and "tags" not in cells[1].metadata
    assert cells[2].metadata["tags"] == ["claim-x", "hide-input"]
    assert cells[2].metadata["mystnb"]["code_prompt_show"] == "Check: 1 + 1 = 2"
    assert cells[3].metadata["mystnb"]["code_prompt_show"] == collapsed_cells.FIGURE_LABEL
    assert cells[4].metadata["mystnb"]["code_prompt_show"] == "Check: the curve"


# The chapters keep to it ---------------------------------------------------


def checks(path):
    return [c for c in code_cells(path) if collapsed_cells.check_label(source(c))]


def test_every_chapter_has_checks():
    for path in CHAPTERS:
        assert checks(path), f"{path.name} marks no cell `# Check:`"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_check_asserts_and_prints_its_verdict(path):
    for cell in checks(path):
        label = collapsed_cells.check_label(source(cell))
        assert re.search(r"^\s*assert\b", source(cell), re.M), f"{path.name}: {label!r} asserts nothing"
        printed = [o for o in cell["outputs"] if o["output_type"] == "stream" and o["name"] == "stdout"]
        assert printed, f"{path.name}: {label!r} prints no verdict, so a reader sees nothing of it"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_check_comments_open_their_cells(path):
    for cell in code_cells(path):
        lines = source(cell).split("\n")
        misplaced = [line for line in lines[1:] if line.lstrip().startswith("# Check:")]
        assert not misplaced, f"{path.name}: `# Check:` must be a cell's first line, found {misplaced[0]!r}"


def defined_functions(text):
    return {n.name for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def names_loaded(text):
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def python_of(text):
    """A cell's text without IPython's line magics, which are not Python."""
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("%"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_open_code_uses_no_function_defined_in_a_folded_cell(path):
    # A reader who follows the open code never needs to unfold a check to
    # find what a function it calls does.
    cells = code_cells(path)
    folded = [collapsed_cells.toggle_label(c) is not None for c in cells]
    for index, cell in enumerate(cells):
        if not folded[index]:
            continue
        hidden = defined_functions(python_of(source(cell)))
        for later, is_folded in zip(cells[index + 1:], folded[index + 1:], strict=True):
            used = hidden & names_loaded(python_of(source(later))) if not is_folded else set()
            assert not used, (
                f"{path.name}: open code calls {sorted(used)}, defined in the folded cell "
                f"{collapsed_cells.toggle_label(cell)!r}; define it in an open cell"
            )


# The built pages -----------------------------------------------------------

CELL = re.compile(r'<div class="cell( [^"]*)? docutils container')
DETAILS = re.compile(
    r'^<div class="cell[^"]*"[^>]*>\s*<details class="admonition hide above-input">\s*'
    r'<summary[^>]*>\s*<p class="collapsed admonition-title">(?P<label>[^<]*)</p>.*?</summary>\s*'
    r'<div class="cell_input[^"]*">.*?</div>\s*</details>\s*<div class="cell_output',
    re.S,
)

OPEN = re.compile(r'^<div class="cell[^"]*"[^>]*>\s*<div class="cell_input')


def page_cells(site, name):
    """The HTML of each code cell of a built chapter, in order, up to the next cell."""
    text = (site / "book" / f"{name}.html").read_text()
    article = text[text.index('<article class="bd-article">'):text.index("</article>")]
    starts = [m.start() for m in CELL.finditer(article)] + [len(article)]
    return [article[a:b] for a, b in zip(starts, starts[1:], strict=False)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_folded_cells_are_folded_on_the_page_with_their_output_in_view(site, path):
    cells = code_cells(path)
    shown = page_cells(site, path.stem)
    assert len(shown) == len(cells), f"{path.stem}.html shows {len(shown)} code cells, the notebook has {len(cells)}"
    for number, (cell, piece) in enumerate(zip(cells, shown, strict=True), start=1):
        label = collapsed_cells.toggle_label(cell)
        folded = DETAILS.match(piece)
        if label is None:
            assert OPEN.match(piece), f"{path.stem}: cell {number} is folded, but the rule leaves it open"
            continue
        assert folded, f"{path.stem}: cell {number} ({label!r}) is not folded above an output in view"
        assert html.unescape(folded["label"]) == label


def test_the_site_folds_as_many_cells_as_the_rule_marks(site):
    marked = sum(collapsed_cells.toggle_label(c) is not None for p in CHAPTERS for c in code_cells(p))
    folded = sum(len(re.findall(r'<details class="admonition hide above-input">', (site / "book" / f"{p.stem}.html").read_text()))
                 for p in CHAPTERS)
    assert folded == marked > 50
