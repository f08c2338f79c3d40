"""Checks and figure code fold away behind a toggle; what they print stays in view.

A chapter reads as argument, result and verdict. The code that proves a
result is one click away, never gone:

- a **check** is a code cell whose first line is ``# Check: <what it
  verifies>``. Its code is folded under a toggle labelled
  ``Check: <what it verifies>``, and its printed verdict shows below.
- the code of a **figure**, a cell that stored an image, is folded under
  ``Code for the figure``, and the figure shows below.

Every other cell stays open: the first cell, derivations, the calls of the
package a chapter teaches, the experiments whose numbers the text discusses.
An author states the intent in the source, once, with the comment; nothing
else is tagged by hand.

The rule is applied when Sphinx reads a notebook (``source-read``): the
cell gets myst-nb's ``hide-input`` tag and the label as its toggle prompt in
the text that is parsed. ``book/chapters/*.md`` and ``book/*.ipynb`` stay as
written, and so does the notebook a reader downloads.
"""

import json
import re
from pathlib import Path

CHECK = re.compile(r"# Check: (?P<what>\S.*)")
FIGURE_LABEL = "Code for the figure"
IMAGES = ("image/png", "image/svg+xml", "image/jpeg")


def check_label(source):
    """``Check: <what>`` if `source`, a code cell's text, starts with a check comment; else None."""
    first = source.split("\n", 1)[0].rstrip()
    match = CHECK.fullmatch(first)
    return f"Check: {match['what']}" if match else None


def draws_a_figure(cell):
    return any(kind in output.get("data", {}) for output in cell.get("outputs", []) for kind in IMAGES)


def toggle_label(cell):
    """The label of the toggle that folds `cell`'s code, or None if its code stays open."""
    if cell["cell_type"] != "code":
        return None
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    label = check_label(source)
    if label is None and draws_a_figure(cell):
        label = FIGURE_LABEL
    return label


def fold(notebook):
    """Tag each cell of `notebook`, a parsed .ipynb, whose code the rule folds; return how many."""
    folded = 0
    for cell in notebook["cells"]:
        label = toggle_label(cell)
        if label is None:
            continue
        metadata = cell.setdefault("metadata", {})
        tags = metadata.setdefault("tags", [])
        if "hide-input" not in tags:
            tags.append("hide-input")
        prompts = metadata.setdefault("mystnb", {})
        prompts["code_prompt_show"] = label
        prompts["code_prompt_hide"] = label
        folded += 1
    return folded


def _fold_notebook(app, docname, source):
    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = json.loads(source[0])
    if fold(notebook):
        source[0] = json.dumps(notebook)


def _add_static_path(app):
    static = str(Path(__file__).resolve().parent / "static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def setup(app):
    app.connect("source-read", _fold_notebook)
    app.add_css_file("collapsed_cells.css")
    app.connect("builder-inited", _add_static_path)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
