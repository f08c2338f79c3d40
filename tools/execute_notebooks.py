"""Re-execute notebooks in place, top to bottom, in this environment's kernel.

Usage: python tools/execute_notebooks.py book/*.ipynb

Outputs and execution counts are replaced; no timing metadata is written, so a
re-run that changes nothing leaves the files unchanged.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        record_timing=False,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for notebook_path in sys.argv[1:]:
        print(f"executing {notebook_path}", flush=True)
        execute(notebook_path)
