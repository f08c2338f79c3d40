"""nbval re-runs the chapters in kernels that start as `make notebooks`'s do.

Both run book/ipython_startup.py first (named in PYTHONSTARTUP), which rounds
the numbers of SVG figures alike on every machine.
"""

import os
from pathlib import Path

STARTUP = Path(__file__).resolve().parent / "book" / "ipython_startup.py"
os.environ["PYTHONSTARTUP"] = str(STARTUP)
