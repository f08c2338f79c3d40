"""Build the website strictly: every page, and any warning fails the build.

Usage: python tools/build_book.py [jupyter-book build options, e.g. --path-output DIR]

`make book` and the tests' `site` fixture both run this, so the site the
tests check is built exactly as the one that is published.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --all: read every page again; -W -n: warnings, broken references included,
# are errors; --keep-going: report all of them before failing.
STRICT = ["--all", "-W", "-n", "--keep-going"]

if __name__ == "__main__":
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    sys.exit(subprocess.call([str(jupyter_book), "build", str(ROOT), *STRICT, *sys.argv[1:]]))
