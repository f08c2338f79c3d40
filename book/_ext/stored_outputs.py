"""A chapter that stored an error or a write to stderr fails the strict build.

The site shows the chapters' stored outputs, the ones nbval re-checks in
``make test``, without executing them again. With execution off, myst-nb
renders a stored error as a plain traceback without a word, and drops a
stderr output silently from a cell tagged ``remove-stderr``. This extension
warns on every stored error and stderr output, so ``-W`` fails the build.
"""

import json
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)


def stored_problems(notebook):
    """A description of each error and stderr output stored in `notebook`, a parsed .ipynb."""
    problems = []
    for number, cell in enumerate(notebook["cells"], start=1):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                problems.append(f"cell {number} stored an error, {output['ename']}: {output['evalue']}")
            elif output["output_type"] == "stream" and output["name"] == "stderr":
                problems.append(f"cell {number} stored a write to stderr: {''.join(output['text'])[:200]!r}")
    return problems


def _check_notebook(app, doctree):
    docname = app.env.docname
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    for problem in stored_problems(json.loads(path.read_text())):
        logger.warning(
            f"{problem}; fix the chapter and run `make notebooks`",
            location=docname,
            type="xentref",
            subtype="stored_output",
        )


def setup(app):
    app.connect("doctree-read", _check_notebook)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
