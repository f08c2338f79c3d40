"""The documents of ``_toc.yml`` in reading order, read in one place.

The build reads it here (``verification_status.py``) and so do the tests,
which load this file by its path: the build imports nothing from the tests.
"""

from pathlib import Path

import yaml


def toc_documents(root):
    """Every document of ``_toc.yml`` in the folder `root`, the root document first, in reading order."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("chapters", []) + entry.get("sections", []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return names
