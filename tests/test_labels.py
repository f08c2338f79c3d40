"""The check that keeps published labels stable can fail, and says how to fix it."""

import sys

from helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import labels  # noqa: E402

COMMITTED = {
    "eq-a": ("equation", ["book/one"]),
    "thm-b": ("theorem", ["book/one", "book/two"]),
}


def test_an_unchanged_build_passes():
    assert labels.compare(COMMITTED, {"eq-a": ("equation", ["book/one"]), "thm-b": ("theorem", ["book/two"])}) == []


def test_a_label_that_disappears_fails():
    problems = labels.compare(COMMITTED, {"thm-b": ("theorem", ["book/two"])})
    assert problems == ["equation label 'eq-a' of book/one has disappeared"]


def test_a_label_that_moves_unrecorded_fails():
    built = {"eq-a": ("equation", ["book/three"]), "thm-b": ("theorem", ["book/two"])}
    problems = labels.compare(COMMITTED, built)
    assert problems == [
        "equation label 'eq-a' moved from book/one to book/three and is not recorded as moved"
    ]


def test_a_new_label_fails_until_it_is_listed():
    built = {**{k: (kind, docs[-1:]) for k, (kind, docs) in COMMITTED.items()}, "eq-new": ("equation", ["book/one"])}
    assert labels.compare(COMMITTED, built) == ["equation label 'eq-new' of book/one is not in book/labels.txt"]
    assert labels.compare(labels.update(COMMITTED, built), built) == []


def test_update_records_a_move_and_keeps_a_lost_label(tmp_path):
    built = {"thm-b": ("theorem", ["book/three"])}
    updated = labels.update(COMMITTED, built)
    assert updated == {"eq-a": ("equation", ["book/one"]), "thm-b": ("theorem", ["book/one", "book/two", "book/three"])}
    assert labels.compare(updated, built) == ["equation label 'eq-a' of book/one has disappeared"]

    listed = tmp_path / "labels.txt"
    labels.write(updated, listed)
    assert "thm-b theorem book/three was book/one book/two" in listed.read_text().splitlines()
    assert labels.read(listed) == updated


def test_the_committed_list_is_in_the_format_the_tool_writes(tmp_path):
    listed = labels.read(ROOT / "book" / "labels.txt")
    assert len(listed) > 50
    rewritten = tmp_path / "labels.txt"
    labels.write(listed, rewritten)
    assert rewritten.read_text() == (ROOT / "book" / "labels.txt").read_text()
