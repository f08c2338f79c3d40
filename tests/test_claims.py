"""The claims ledger is complete and every claim is decided by an executed cell.

book/claims.yml lists every claim of the seed articles and the main claims of
the book; book/_ext/claims_ledger.py renders it. A claim is decided by the
code cell tagged with its `cell` name, as the stored notebook holds it. These
tests fail when a claim has no such cell, when that cell was never executed
or stored an error, when a tagged cell decides nothing, or when a part of a
seed article has no entry and no reason for having none.
"""

import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))

import claims_ledger as ledger  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))


def test_the_ledger_and_the_chapters_back_each_other():
    found = ledger.problems(
        ledger.load_ledger(ROOT), ledger.claim_cells(CHAPTERS), ledger.seed_keys(ROOT / "references.bib")
    )
    assert not found, "\n".join(found)


def test_every_seed_article_in_the_bibliography_has_claims():
    keys = ledger.seed_keys(ROOT / "references.bib")
    assert len(keys) == 3
    claims = ledger.load_ledger(ROOT)["claims"]
    for key in keys:
        assert sum(claim["source"] == key for claim in claims) >= 10, f"{key} has few claims"


def test_every_chapter_decides_some_claim():
    cells = ledger.claim_cells(CHAPTERS)
    documents = {cell["document"] for tagged in cells.values() for cell in tagged}
    assert documents == {f"book/{path.stem}" for path in CHAPTERS}


# The checks themselves, on a small ledger and notebook --------------------------


def small_ledger():
    return {
        "verdicts": {"verified": "", "refuted": "", "qualified": ""},
        "sources": {
            "seed-a": {"title": "A", "language": "en", "parts": [{"name": "One"}, {"name": "Menu", "no_claims": "navigation"}]},
        },
        "claims": [
            {"id": "a-1", "source": "seed-a", "part": "One", "quote": "q", "claim": "c",
             "verdict": "verified", "finding": "f", "cell": "claim-one"},
        ],
    }


def chapter(tmp_path, tags=("claim-one",), executed=True, error=False):
    cell = new_code_cell("x = 1", metadata={"tags": list(tags)}, execution_count=1 if executed else None)
    if error:
        cell.outputs = [new_output("error", ename="AssertionError", evalue="", traceback=[])]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# A chapter"), cell]), path)
    return [path]


def problems_of(tmp_path, change=None, seeds=("seed-a",), **cell):
    data = small_ledger()
    if change:
        change(data)
    return ledger.problems(data, ledger.claim_cells(chapter(tmp_path, **cell)), seeds)


def test_a_complete_small_ledger_has_no_problems(tmp_path):
    assert problems_of(tmp_path) == []
    [cell] = ledger.claim_cells(chapter(tmp_path))["claim-one"]
    assert cell == {"document": "book/chapter", "title": "A chapter", "number": 1, "errors": 0}


@pytest.mark.parametrize(
    "what, arguments, expected",
    [
        ("no deciding cell", {"tags": ()}, "no chapter has a cell tagged claim-one"),
        ("a cell never executed", {"executed": False}, "was never executed"),
        ("a cell that stored an error", {"error": True}, "stored an error"),
        ("a tag without a claim", {"tags": ("claim-one", "claim-two")}, "claim-two in book/chapter decides no claim"),
        ("a seed article without claims", {"seeds": ("seed-a", "seed-b")}, "seed article seed-b (references.bib) has no claims"),
    ],
)
def test_each_problem_is_found(tmp_path, what, arguments, expected):
    seeds = arguments.pop("seeds", ("seed-a",))
    found = problems_of(tmp_path, seeds=seeds, **arguments)
    assert any(expected in problem for problem in found), f"{what}: {found}"


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda d: d["sources"]["seed-a"]["parts"].append({"name": "Two"}), "part 'Two' has no claims"),
        (lambda d: d["claims"][0].update(verdict="true"), "verdict 'true' is not one of"),
        (lambda d: d["claims"][0].pop("quote"), "needs a short quotation"),
        (lambda d: d["claims"][0].update(language="zh"), "needs a translation"),
        (lambda d: d["claims"][0].update(part="Menu"), "says it has no claims, but has some"),
        (lambda d: d["claims"].append(dict(d["claims"][0])), "is used 2 times"),
        (lambda d: d["claims"][0].pop("finding"), "missing finding"),
    ],
)
def test_each_ledger_fault_is_found(tmp_path, change, expected):
    found = problems_of(tmp_path, change)
    assert any(expected in problem for problem in found), found


def test_seed_keys_are_read_from_the_bibliography(tmp_path):
    bib = tmp_path / "references.bib"
    bib.write_text("@misc{seed-one,\n  title = {x}\n}\n@book{other,\n}\n@misc{seed-two, title={y}}\n")
    assert ledger.seed_keys(bib) == ["seed-one", "seed-two"]
