"""Keep book/labels.txt, the list of every published label, up to date.

Usage (``make labels`` runs it after building the book)::

    python tools/labels.py [BUILT] [LIST]

BUILT is the ``labels.txt`` that the book's build writes into the site
(default ``_build/html/labels.txt``), LIST the committed list (default
``book/labels.txt``). New labels are added to LIST; a label whose document
changed is recorded as moved, its earlier documents kept after ``was``. A
label that the build no longer has stays in LIST and the command fails: a
citation of it would break, so it must come back.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEADER = """\
# Every label a citation can point at: equations, theorems, sections,
# exercises. A label, once published, keeps its name and its document.
# Columns: label, kind, document. A label that moved lists the documents it
# was in before, oldest first, after "was".
# tests/test_site.py checks this list against the built site; `make labels`
# adds new labels and records moves (see tools/labels.py).
"""

HOW_TO_UPDATE = (
    "To record labels that were added or moved, run `make labels` "
    "(it builds the book, then runs tools/labels.py) and commit book/labels.txt. "
    "A label that disappeared must be restored: citations point at it."
)


def read(path):
    """``{label: (kind, [documents, oldest first])}`` from a list or a build."""
    entries = {}
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, kind, document, *rest = line.split()
        earlier = rest[1:] if rest[:1] == ["was"] else rest
        entries[label] = (kind, [*earlier, document])
    return entries


def write(entries, path):
    lines = []
    for label, (kind, documents) in sorted(entries.items()):
        *earlier, document = documents
        lines.append(" ".join([label, kind, document, *(["was", *earlier] if earlier else [])]))
    Path(path).write_text(HEADER + "\n".join(lines) + "\n")


def compare(committed, built):
    """What a reader holding an old citation would find broken, and what is new."""
    problems = []
    for label, (kind, documents) in sorted(committed.items()):
        if label not in built:
            problems.append(f"{kind} label {label!r} of {documents[-1]} has disappeared")
        elif built[label][1][-1] != documents[-1]:
            problems.append(
                f"{kind} label {label!r} moved from {documents[-1]} to {built[label][1][-1]} "
                "and is not recorded as moved"
            )
    for label, (kind, documents) in sorted(built.items()):
        if label not in committed:
            problems.append(f"{kind} label {label!r} of {documents[-1]} is not in book/labels.txt")
    return problems


def update(committed, built):
    """The committed list with new labels added and moves recorded."""
    entries = dict(committed)
    for label, (kind, documents) in built.items():
        if label not in entries:
            entries[label] = (kind, documents)
        elif entries[label][1][-1] != documents[-1]:
            entries[label] = (kind, [*entries[label][1], documents[-1]])
    return entries


def main(built=ROOT / "_build" / "html" / "labels.txt", listed=ROOT / "book" / "labels.txt"):
    committed = read(listed) if Path(listed).exists() else {}
    current = read(built)
    for problem in compare(committed, current):
        print(problem)
    write(update(committed, current), listed)
    missing = sorted(set(committed) - set(current))
    if missing:
        print(f"{len(missing)} label(s) disappeared and stay listed: restore them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
