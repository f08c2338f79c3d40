"""The stored chapters match their sources, are executed in order, and follow the book's rules.

Each chapter is written in book/chapters/<name>.md and stored, executed, in
book/<name>.ipynb, which nbval re-checks and the site shows. A notebook that
no longer matches its source would show readers, and verify, text nobody
wrote. nbval compares only cells that carry a stored execution, so a chapter
saved without running it, or run out of order, would pass nbval silently.
These tests catch both, and the habits that make stored outputs unreliable.
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from itertools import zip_longest

import jupytext
import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers import ROOT, load, svg_text_sizes, toc_documents

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
SOURCES = sorted((ROOT / "book" / "chapters").glob("*.md"))
PAIRING = "ipynb,chapters//md:myst"
# State of the Jupyter interface, which jupytext keeps out of the text.
EDITOR_STATE = {"autoscroll", "collapsed", "scrolled", "trusted", "execution", "ExecuteTime"}


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


def source_of(path):
    return path.parent / "chapters" / f"{path.stem}.md"


def cell_contents(notebook):
    """Type, source and metadata of each cell: what the text source holds."""
    return [
        (cell.cell_type, cell.source, {k: v for k, v in cell.metadata.items() if k not in EDITOR_STATE})
        for cell in notebook.cells
    ]


def first_line_apart(a, b):
    lines = list(zip_longest(a.split("\n"), b.split("\n")))
    return next((number, x, y) for number, (x, y) in enumerate(lines, start=1) if x != y)


def first_difference(source, stored):
    """Where the stored notebook's cells first differ from the source's, or None."""
    expected, actual = cell_contents(source), cell_contents(stored)
    for number, ((kind, text, metadata), (kind_stored, text_stored, metadata_stored)) in enumerate(
        zip(expected, actual), start=1
    ):
        if kind != kind_stored:
            return f"cell {number} is a {kind} cell in the .md, a {kind_stored} cell in the notebook"
        if text != text_stored:
            line, a, b = first_line_apart(text, text_stored)
            return f"cell {number}, line {line}: the .md has {a!r}, the notebook {b!r}"
        if metadata != metadata_stored:
            return f"cell {number} has metadata {metadata!r} in the .md, {metadata_stored!r} in the notebook"
    if len(expected) != len(actual):
        return f"the .md has {len(expected)} cells, the notebook {len(actual)}"
    return None


def test_every_notebook_has_its_source_and_every_source_its_notebook():
    notebooks, sources = {p.stem for p in CHAPTERS}, {p.stem for p in SOURCES}
    assert not notebooks - sources, f"no book/chapters/<name>.md for {sorted(notebooks - sources)}: a chapter is written there"
    assert not sources - notebooks, (
        f"book/chapters/ has {sorted(sources - notebooks)} without a notebook; run `make notebooks CHAPTERS=<name>`"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_in_sync_with_its_source(path):
    assert source_of(path).exists(), f"{path.name} has no source book/chapters/{path.stem}.md"
    source = jupytext.read(source_of(path), fmt="md:myst")
    stored = nbformat.read(path, as_version=4)
    for name, notebook in ((f"chapters/{path.stem}.md", source), (path.name, stored)):
        formats = notebook.metadata.get("jupytext", {}).get("formats")
        assert formats == PAIRING, f"{name} is paired as {formats!r}, not {PAIRING!r}"
    difference = first_difference(source, stored)
    assert difference is None, (
        f"{path.name} is out of sync with chapters/{path.stem}.md: {difference}; "
        f"run `make notebooks CHAPTERS={path.stem}` to execute the source into the notebook"
    )


@pytest.mark.parametrize(
    "change",
    ["edit a source", "add a tag", "change a cell type", "swap two cells", "drop the last cell"],
)
def test_sync_check_sees_each_kind_of_change(change):
    source = jupytext.read(source_of(CHAPTERS[0]), fmt="md:myst")
    stored = nbformat.read(CHAPTERS[0], as_version=4)
    assert first_difference(source, stored) is None
    cells = stored.cells
    if change == "edit a source":
        cells[1].source += "\n"
    elif change == "add a tag":
        cells[1].metadata["tags"] = [*cells[1].metadata.get("tags", []), "sync-check"]
    elif change == "change a cell type":
        cells[0].cell_type = "raw"
    elif change == "swap two cells":
        cells[0], cells[1] = cells[1], cells[0]
    else:
        cells.pop()
    assert first_difference(source, stored) is not None


def test_tags_and_metadata_survive_the_text_format():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Title", metadata={"tags": ["intro"]}),
            nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["hide-input", "remove-output"]}),
            nbformat.v4.new_code_cell("x", metadata={"mystnb": {"number_source_lines": True}}),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    again = jupytext.reads(jupytext.writes(notebook, fmt="md:myst"), fmt="md:myst")
    assert cell_contents(again) == cell_contents(notebook)


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
    images = [o for cell in cells for o in cell.outputs if "image/svg+xml" in o.get("data", {})]
    assert images, f"{path.name}: no figure"
    assert all(cell.outputs for cell in cells[1:] if "assert " in cell.source), (
        f"{path.name}: a checking cell prints nothing, so nbval has nothing to compare"
    )


# What a chapter prints, like its code (tests/test_style.py), fits the text
# column of a 1280 px window: 79 characters a line.
PRINTED_LINE_LIMIT = 79


def printed_lines(cell):
    """The lines a code cell printed or returned as text, not its figures' descriptions."""
    lines = []
    for output in cell.outputs:
        data = output.get("data", {})
        if output.output_type == "stream":
            lines += output.text.split("\n")
        elif "text/plain" in data and not data.keys() & {"image/svg+xml", "image/png"}:
            lines += data["text/plain"].split("\n")
    return lines


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_printed_lines_fit_the_column(path):
    for index, cell in enumerate(code_cells(path), start=1):
        long = [line for line in printed_lines(cell) if len(line) > PRINTED_LINE_LIMIT]
        assert not long, (
            f"{path.name}: cell {index} prints a line of {len(long[0])} characters, "
            f"more than {PRINTED_LINE_LIMIT}: {long[0]!r}"
        )


def test_printed_lines_include_streams_and_text_results():
    cell = nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="a\nbb\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "ccc"}, execution_count=1),
        nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>", "image/svg+xml": "<svg/>"}),
    ])
    assert printed_lines(cell) == ["a", "bb", "", "ccc"]


# Figures: SVG, the same on every machine, and compared by nbval ----------

SVG_WITHOUT_DATE = 'set_matplotlib_formats("svg", metadata={"Date": None})'


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_cell_draws_figures_as_svg_without_a_date(path):
    assert SVG_WITHOUT_DATE in code_cells(path)[0].source, (
        f"{path.name}: the first cell must call {SVG_WITHOUT_DATE}, as every chapter's does"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_figures_are_stored_as_svg_text(path):
    # nbval skips PNG images but compares SVG, which is text, like any output.
    for index, cell in enumerate(code_cells(path), start=1):
        for output in cell.outputs:
            kinds = set(output.get("data", {}))
            assert not kinds & {"image/png", "image/jpeg"}, f"{path.name}: cell {index} stored a bitmap"
            svg = output.get("data", {}).get("image/svg+xml")
            if svg is not None:
                assert "<dc:date>" not in svg, f"{path.name}: cell {index} stored the date of its figure"
                assert 'id="DejaVuSans-' in svg, f"{path.name}: cell {index} stores text as a font, not as paths"


def matplotlib_svg_prolog():
    """What matplotlib writes before the <svg> element: the XML declaration and doctype."""
    import io

    from matplotlib.figure import Figure

    buffer = io.StringIO()
    Figure().savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[:text.index("<svg")]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_svg_figures_keep_the_xml_declaration_matplotlib_wrote(path):
    # Rounding once turned version="1.0" into version="1", and browsers then
    # showed no figure at all.
    prolog = matplotlib_svg_prolog()
    assert prolog.startswith('<?xml version="1.0"')
    for index, cell in enumerate(code_cells(path), start=1):
        for output in cell.outputs:
            svg = output.get("data", {}).get("image/svg+xml")
            if svg is not None:
                assert svg.startswith(prolog), f"{path.name}: cell {index} changed the figure's XML declaration"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_svg_numbers_have_five_significant_digits(path):
    # book/ipython_startup.py rounds them, so that every CPU stores the same text.
    for index, cell in enumerate(code_cells(path), start=1):
        for output in cell.outputs:
            svg = output.get("data", {}).get("image/svg+xml", "")
            long = [n for n in re.findall(r"\d+\.\d+", svg) if len(n.replace(".", "").lstrip("0")) > 5]
            assert not long, f"{path.name}: cell {index} stored {long[:3]}; run `make notebooks`"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_an_uncompared_output_is_a_figure_that_says_why(path):
    for index, cell in enumerate(code_cells(path), start=1):
        if "nbval-ignore-output" not in cell.metadata.get("tags", []):
            continue
        kinds = {kind for output in cell.outputs for kind in output.get("data", {"stream": ""})}
        assert kinds <= {"image/svg+xml", "text/plain"}, f"{path.name}: cell {index} hides {kinds} from nbval"
        assert "the tests do not compare this figure" in cell.source, (
            f"{path.name}: cell {index} must say, in a comment, why the tests do not compare its figure"
        )


def test_svg_text_sizes_reads_the_sizes_matplotlib_was_given():
    # The browser test measures figures' text with this; here matplotlib's
    # own font sizes are the reference.
    import io

    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    axes = figure.add_subplot()
    axes.set_title("a title", fontsize=13)
    axes.set_xlabel("$10^{-3}$ below", fontsize=9)
    axes.tick_params(labelsize=11)
    figure.text(0.01, 0.01, "small print", fontsize=7)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    sizes, width = svg_text_sizes(buffer.getvalue())
    assert sorted({round(size, 9) for size in sizes}) == [7, 9, 11, 13]
    assert width == 4 * 72


_execute_notebooks = load(ROOT / "tools" / "execute_notebooks.py")


def test_executing_an_unchanged_chapter_changes_no_byte(tmp_path):
    # The whole path of `make notebooks`, figures included: the same source,
    # executed again, is stored byte for byte as before.
    name = "kl_divergence"
    again = tmp_path / f"{name}.ipynb"
    _execute_notebooks.execute(name, again)
    stored = ROOT / "book" / f"{name}.ipynb"
    assert again.read_bytes() == stored.read_bytes(), f"executing {name} again changed book/{name}.ipynb"


# A downloaded notebook says what to install -------------------------------


def third_party_modules(path):
    """The top-level modules a chapter imports, outside the standard library."""
    modules = set()
    for cell in code_cells(path):
        python = "\n".join(line for line in cell.source.split("\n") if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(python)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def installed_with(name, extras=()):
    """The distributions `pip install name[extras]` brings, by their installed metadata."""
    seen, pending = set(), [(name, tuple(extras))]
    while pending:
        name, extras = pending.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras or ("",)):
                pending.append((requirement.name, tuple(sorted(requirement.extras))))
    return {name for name, _ in seen}


def needed_besides_xentref(path):
    """The distributions a chapter imports that `xentref[all]` and a Jupyter kernel do not bring.

    A kernel brings ipykernel's dependencies, such as matplotlib-inline,
    wherever the notebook runs.
    """
    distributions = importlib.metadata.packages_distributions()
    imported = {canonicalize_name(distributions[module][0]) for module in third_party_modules(path)}
    return sorted(imported - installed_with("xentref", ["all"]) - installed_with("ipykernel"))


def install_command(path):
    repository = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    return " ".join([f'pip install "xentref[all] @ git+{repository}"', *needed_besides_xentref(path)])


def test_install_command_lists_what_xentref_does_not_bring():
    training = ROOT / "book" / "training.ipynb"
    assert install_command(training).endswith('xentref" matplotlib scikit-learn torch')


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_a_note_above_the_first_cell_says_what_to_install(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    note = notebook.cells[first - 1].source if first else ""
    commands = [
        " ".join(block.replace("\\\n", " ").split())
        for block in re.findall(r"^```sh\n(.*?)^```", note, re.M | re.S)
    ]
    expected = install_command(path)
    assert expected in commands, (
        f"{path.name}: the Markdown just above the first code cell must give, in a ```sh block, "
        f"the command that installs what the chapter imports:\n{expected}"
    )
    pinned = {canonicalize_name(Requirement(line).name)
              for line in (ROOT / "requirements.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    assert set(needed_besides_xentref(path)) <= pinned, f"{path.name}: installs a package requirements.txt does not pin"
