"""Execute chapters from their text sources and store them as notebooks.

Usage: python tools/execute_notebooks.py [CHAPTER ...]

Each chapter's MyST Markdown source, book/chapters/<name>.md, is read with
jupytext, executed top to bottom in this environment's kernel, and written
with its outputs to the paired notebook book/<name>.ipynb. With no names,
every chapter is executed.

The notebook depends only on the source and the outputs: cell ids are
numbered from the chapter's name (jupytext draws random ones), no timing
metadata is written, consecutive writes to the same stream are stored as
one output (the kernel splits them depending on timing), and figures are
SVG without a date, their numbers rounded by book/ipython_startup.py. A
re-run that changes nothing leaves the notebook byte for byte unchanged.
"""

import os
import sys
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

BOOK = Path(__file__).resolve().parent.parent / "book"
SOURCES = BOOK / "chapters"
# Run by the kernel before the first cell: it rounds the numbers of SVG
# figures, so a figure is stored alike on every machine (see that file).
STARTUP = BOOK / "ipython_startup.py"


def merge_streams(outputs):
    """Join consecutive stream outputs of the same stream into one."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.output_type == "stream" == previous.output_type
            and output.name == previous.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def read_source(name):
    """The chapter `name` as a notebook without outputs, as it will be stored."""
    notebook = jupytext.read(SOURCES / f"{name}.md", fmt="md:myst")
    for index, cell in enumerate(notebook.cells):
        cell.id = f"{name.replace('_', '-')}-{index:02d}"
    # The pairing stays; the rest of jupytext's header describes the .md only.
    notebook.metadata.jupytext = {"formats": notebook.metadata.jupytext.formats}
    return notebook


def execute(name, destination=None):
    """Execute chapter `name` and store it in `destination`, by default book/<name>.ipynb."""
    os.environ["PYTHONSTARTUP"] = str(STARTUP)
    notebook = read_source(name)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(BOOK)}},
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(notebook, destination or BOOK / f"{name}.ipynb")


def main(names):
    available = sorted(path.stem for path in SOURCES.glob("*.md"))
    unknown = [name for name in names if name not in available]
    if unknown:
        sys.exit(f"no chapter source book/chapters/<name>.md for {', '.join(unknown)}; the chapters are: {' '.join(available)}")
    for name in names or available:
        print(f"executing book/chapters/{name}.md into book/{name}.ipynb", flush=True)
        try:
            execute(name)
        except CellExecutionError as error:
            sys.exit(f"book/chapters/{name}.md: a cell failed, book/{name}.ipynb is unchanged\n{error}")


if __name__ == "__main__":
    main(sys.argv[1:])
