"""The kernels in which nbval re-runs the chapters start as those of `make notebooks` do.

Both run book/ipython_startup.py first (named in PYTHONSTARTUP), which rounds
the numbers of SVG figures alike on every machine.
"""

import os
from pathlib import Path

os.environ["PYTHONSTARTUP"] = str(Path(__file__).resolve().parent / "ipython_startup.py")
