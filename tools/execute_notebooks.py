"""Re-execute notebooks in place, top to bottom, in this environment's kernel.

Usage: python tools/execute_notebooks.py book/*.ipynb

Outputs and execution counts are replaced; no timing metadata is written, and
consecutive writes to the same stream are stored as one output (the kernel
splits them depending on timing), so a re-run that changes nothing leaves the
files unchanged.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


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
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for notebook_path in sys.argv[1:]:
        print(f"executing {notebook_path}", flush=True)
        execute(notebook_path)
