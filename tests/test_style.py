"""The code a reader sees is held to 79 characters, by the ruff of requirements.txt.

A line of 79 characters fits the text column of a 1280 px window without
scrolling (tests/test_browser.py measures it). ruff holds the chapters' code
cells to it with book/ruff.toml, and the package, which the website does not
show, to 120 with xentref/ruff.toml; both keep the rules of pyproject.toml
otherwise. Every chapter of _toc.yml is checked.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from helpers import ROOT, toc_documents

RUFF = Path(sys.executable).with_name("ruff")
CHAPTERS = [f"{name}.ipynb" for name in toc_documents() if (ROOT / f"{name}.ipynb").exists()]
LIMIT = 79  # the chapters' code, which the website shows
PACKAGE_LIMIT = 120


def ruff(*arguments, stdin=None):
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format", "concise", *arguments],
        cwd=ROOT, input=stdin, capture_output=True, text=True, check=False,
    )


def test_ruff_is_the_pinned_version():
    pins = [Requirement(line) for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.startswith("ruff==")]
    assert len(pins) == 1, "requirements.txt must pin ruff"
    version = subprocess.run([str(RUFF), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.split() == ["ruff", str(pins[0].specifier).removeprefix("==")]


def test_every_chapter_is_checked():
    assert len(CHAPTERS) >= 13, CHAPTERS


@pytest.mark.parametrize("path", [*CHAPTERS, "xentref"])
def test_ruff_passes(path):
    result = ruff(path)
    assert result.returncode == 0, f"ruff check {path}:\n{result.stdout}{result.stderr}"


def notebook(source):
    cell = {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
            "execution_count": None, "id": "probe"}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.mark.parametrize(
    ("filename", "text", "limit"),
    [
        ("book/probe.ipynb", notebook, LIMIT),
        ("xentref/_probe.py", lambda source: source, PACKAGE_LIMIT),
    ],
    ids=["chapter", "package"],
)
def test_ruff_refuses_a_line_one_past_the_limit(filename, text, limit):
    # The limits above are the ones ruff applies where the files live.
    for length, allowed in [(limit, True), (limit + 1, False)]:
        line = "x = " + '"' + "a" * (length - 6) + '"\n'
        assert len(line) == length + 1
        result = ruff("--stdin-filename", filename, "-", stdin=text(line))
        assert (result.returncode == 0) is allowed, f"{filename}, {length} characters:\n{result.stdout}"
        if not allowed:
            assert "E501" in result.stdout
