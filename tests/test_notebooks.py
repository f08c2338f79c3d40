"""The stored chapters are executed, in order, and follow the book's rules.

nbval compares only cells that carry a stored execution, so a chapter saved
without running it, or run out of order, would pass nbval silently. These
tests catch that, and the habits that make stored outputs unreliable.
"""

import re

import nbformat
import pytest

from helpers import ROOT, toc_documents

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def code_cells(path):
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]


def test_there_are_chapters():
    assert len(CHAPTERS) >= 3


def test_every_chapter_is_in_the_table_of_contents():
    listed = set(toc_documents())
    for path in CHAPTERS:
        assert f"book/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"


def test_every_toc_entry_exists():
    for entry in toc_documents():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_in_order(path):
    counts = [cell.execution_count for cell in code_cells(path)]
    assert None not in counts, f"{path.name}: cell {counts.index(None) + 1} was never executed; run `make notebooks`"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1, 2, 3, ...; re-execute it top to bottom with `make notebooks`"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_stored_errors_or_stderr(path):
    for index, cell in enumerate(code_cells(path), start=1):
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}: code cell {index} stored an error"
            assert output.get("name") != "stderr", f"{path.name}: code cell {index} wrote to stderr"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_cell_turns_warnings_into_errors(path):
    assert 'warnings.simplefilter("error")' in code_cells(path)[0].source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_cell_ends_with_a_semicolon(path):
    # nbval runs cells without history, where IPython ignores a trailing ';'.
    for index, cell in enumerate(code_cells(path), start=1):
        assert not cell.source.rstrip().endswith(";"), f"{path.name}: code cell {index} ends with ';'; assign to _ instead"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_random_numbers_are_seeded(path):
    source = "\n".join(cell.source for cell in code_cells(path))
    assert not re.search(r"default_rng\(\s*\)", source), f"{path.name}: default_rng() without a seed"
    assert not re.search(r"np\.random\.(?!default_rng)\w+\(", source), f"{path.name}: uses NumPy's global random state"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_checks_and_shows(path):
    cells = code_cells(path)
    assert sum("assert " in cell.source for cell in cells) >= 3, f"{path.name}: fewer than three checking cells"
    images = [o for cell in cells for o in cell.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no figure"
    assert all(cell.outputs for cell in cells[1:] if "assert " in cell.source), (
        f"{path.name}: a checking cell prints nothing, so nbval has nothing to compare"
    )
