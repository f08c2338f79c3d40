"""Run at the start of every kernel that executes or tests the chapters.

`make notebooks` (tools/execute_notebooks.py) and the tests (conftest.py)
name this file in PYTHONSTARTUP, which IPython runs before the first cell.

The chapters draw their figures as SVG text, which nbval compares like any
output. matplotlib writes coordinates with six decimals, and the last bit of a
NumPy result, which depends on the vector instructions of the CPU, can flip
the sixth. Each number of an SVG figure's drawing is rounded here to five
significant digits (a hundredth of a point on a figure a few hundred points
wide), so every machine stores, and the tests compare, the same text. A
notebook run elsewhere draws the same figures with matplotlib's six decimals.

Everything happens inside a function, so the chapters' namespace stays empty.
"""


def _round_svg_figures():
    import re

    import numpy as np
    from IPython.core import pylabtools

    print_figure = pylabtools.print_figure
    number = re.compile(r"-?\d+\.\d+")

    def five_digits(match):
        return np.format_float_positional(
            float(match.group()), precision=5, fractional=False, trim="-"
        )

    def print_rounded_figure(fig, fmt="png", *args, **kwargs):
        data = print_figure(fig, fmt, *args, **kwargs)
        if fmt != "svg" or not data:
            return data
        # The drawing only: the XML declaration's version="1.0" must stay,
        # or a browser refuses the figure.
        drawing = data.index("<svg")
        return data[:drawing] + number.sub(five_digits, data[drawing:])

    # The inline backend looks print_figure up here each time a chapter
    # chooses its figure formats.
    pylabtools.print_figure = print_rounded_figure


_round_svg_figures()
del _round_svg_figures
