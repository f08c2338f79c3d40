"""The Sphinx extensions in book/_ext count and cite what they claim to."""

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import citation  # noqa: E402
import stored_outputs  # noqa: E402
import verification_status as status  # noqa: E402

PUBLIC = {"entropy", "cross_entropy", "symbolic.entropy", "grad.entropy"}


def parse(*sources):
    return [ast.parse(source) for source in sources]


def test_claims_by_chapter_counts_the_verdicts_each_chapter_decides():
    ledger = {"claims": [
        {"cell": "claim-a", "verdict": "verified"},
        {"cell": "claim-a", "verdict": "qualified"},
        {"cell": "claim-b", "verdict": "refuted"},
    ]}
    cells = {"claim-a": [{"document": "book/one"}], "claim-b": [{"document": "book/two"}]}
    assert status.claims_by_chapter(ledger, cells) == {
        "book/one": {"verified": 1, "qualified": 1},
        "book/two": {"refuted": 1},
    }


def test_xentref_names_follows_imports_and_aliases():
    trees = parse(
        "import xentref\nfrom xentref import symbolic\nimport xentref as xr",
        "xentref.entropy([1.0])\nsymbolic.entropy(p)\nxr.cross_entropy(p, q)\nnp.entropy(p)",
    )
    aliases = status._aliases(trees)
    assert status.xentref_names(trees, aliases, PUBLIC) == PUBLIC - {"grad.entropy"}


def test_tests_by_function_follows_module_level_names(tmp_path):
    test_file = tmp_path / "test_example.py"
    test_file.write_text(
        "import xentref\n"
        "FUNCTIONS = [xentref.entropy]\n"
        "def test_direct():\n    xentref.cross_entropy([1.0], [1.0])\n"
        "def test_through_a_list():\n    for f in FUNCTIONS:\n        f([1.0])\n"
        "def helper():\n    xentref.entropy([1.0])\n"
    )
    coverage = status.tests_by_function([test_file], PUBLIC)
    assert coverage == {
        "cross_entropy": {"test_example.py": ["test_direct"]},
        "entropy": {"test_example.py": ["test_through_a_list"]},
    }


def test_tests_by_function_follows_getattr_over_listed_names(tmp_path):
    test_file = tmp_path / "test_lookup.py"
    test_file.write_text(
        "import pytest\n"
        "from xentref import grad\n"
        "NAMES = ['entropy', 'not_public']\n"
        "@pytest.mark.parametrize('name', NAMES)\n"
        "def test_listed(name):\n    getattr(grad, name)\n"
        "@pytest.mark.parametrize('name', ['cross_entropy'])\n"
        "def test_unlisted_module(name):\n    getattr(grad, name)\n"
    )
    coverage = status.tests_by_function([test_file], PUBLIC)
    assert coverage == {"grad.entropy": {"test_lookup.py": ["test_listed"]}}


def test_direct_pins_stop_at_the_first_blank_line(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\n\n# direct\nnumpy==2.0\nsympy==1.0\n\n# indirect\nmpmath==1.3\n")
    assert status.direct_pins(requirements) == [("numpy", "2.0"), ("sympy", "1.0")]


def test_chapter_documents_are_the_toc_notebooks_in_order():
    names = status.chapter_documents(ROOT)
    assert names[:4] == ["book/entropy", "book/kl_divergence", "book/information", "book/cross_entropy"]
    assert all((ROOT / f"{name}.ipynb").exists() for name in names)


METADATA = {
    "title": "A Book",
    "authors": [{"name": "The Authors"}],
    "version": "1.2.3",
    "date-released": "2025-06-30",
    "repository-code": "https://example.org/repo",
    "license": "MIT",
}


def test_bibtex_for_the_book():
    entry = citation.bibtex(METADATA)
    assert entry.splitlines()[0] == "@software{xentref,"
    assert "  title   = {{A Book}}," in entry
    assert "  author  = {{The Authors}}," in entry
    assert "  version = {1.2.3}," in entry
    assert "  year    = {2025}," in entry
    assert entry.endswith("}")


def test_bibtex_for_a_chapter_points_at_the_repository_and_names_the_notebook():
    # No release is tagged, so an address inside a tag would not resolve.
    entry = citation.bibtex(METADATA, ("kl", "KL divergence", "2", "book/kl.ipynb"))
    assert entry.splitlines()[0] == "@incollection{xentref-kl,"
    assert "chapter   = {2}," in entry
    assert "year      = {2025}," in entry
    assert "url       = {https://example.org/repo}," in entry
    assert "note      = {File book/kl.ipynb in the repository}," in entry
    assert "/blob/" not in entry


def test_citation_metadata_refuses_a_missing_release_date(tmp_path):
    import xentref

    (tmp_path / "CITATION.cff").write_text(f"version: {xentref.__version__}\n")
    with pytest.raises(ExtensionError, match="no date-released"):
        citation.citation_metadata(tmp_path)


def test_citation_metadata_refuses_a_stale_version(tmp_path):
    (tmp_path / "CITATION.cff").write_text("version: 0.0.0\n")
    with pytest.raises(ExtensionError, match="CITATION.cff gives version 0.0.0 but xentref.__version__ is"):
        citation.citation_metadata(tmp_path)


FINE = new_output("stream", name="stdout", text="checked\n")
ERROR = new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=["ZeroDivisionError"])
STDERR = new_output("stream", name="stderr", text="RuntimeWarning: overflow encountered in exp\n")


def chapter(*outputs, tags=()):
    cell = new_code_cell("x", execution_count=1, outputs=list(outputs), metadata={"tags": list(tags)})
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return new_notebook(cells=[new_markdown_cell("# A chapter"), cell], metadata={"kernelspec": kernelspec})


def test_stored_problems_names_each_error_and_stderr_output():
    assert stored_outputs.stored_problems(chapter(FINE)) == []
    problems = stored_outputs.stored_problems(chapter(FINE, STDERR, ERROR))
    assert problems == [
        "cell 2 stored a write to stderr: 'RuntimeWarning: overflow encountered in exp\\n'",
        "cell 2 stored an error, ZeroDivisionError: division by zero",
    ]


def build(tmp_path, notebook):
    """A strict Sphinx build of one stored notebook, as the book's build reads chapters."""
    source = tmp_path / "source"
    source.mkdir()
    # stderr is shown, not reported, by myst-nb here: only stored_outputs can fail the build.
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'stored_outputs']\n"
        "nb_execution_mode = 'off'\n"
        "nb_output_stderr = 'show'\n"
    )
    nbformat.write(notebook, source / "index.ipynb")
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(source), str(tmp_path / "html")]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("notebook", "message"),
    [
        (chapter(FINE, ERROR), "cell 2 stored an error"),
        (chapter(FINE, STDERR), "cell 2 stored a write to stderr"),
        (chapter(STDERR, tags=["remove-stderr"]), "cell 2 stored a write to stderr"),
    ],
    ids=["error", "stderr", "stderr tagged remove-stderr"],
)
def test_a_stored_error_or_stderr_fails_the_strict_build(tmp_path, notebook, message):
    result = build(tmp_path, notebook)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_a_chapter_without_them_builds(tmp_path):
    result = build(tmp_path, chapter(FINE))
    assert result.returncode == 0, result.stderr


def test_the_book_checks_its_stored_outputs():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"].get("stored_outputs") == "book/_ext/"
