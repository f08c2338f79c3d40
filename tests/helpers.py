"""Measures, strategies and the table of contents, shared by the tests.

The references the tests compare with are xentref.exact's certified values
(checked against mpmath in test_exact.py); ``ulps_of`` measures the distance.
"""

import importlib.util
import re
from pathlib import Path
from xml.etree import ElementTree

import ml_dtypes
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xentref import exact

ROOT = Path(__file__).resolve().parent.parent


def ulps_of(actual, expected, scale=None):
    """|actual - expected| in ulps of max(|expected|, scale), in their dtype.

    Without a scale this is :func:`xentref.exact.ulp_distance`. A value formed
    from terms of opposite sign is measured against the size of its terms.
    Where the expected value is NaN (a derivative that does not exist), a
    NaN counts 0 and anything else inf.
    """
    nan = np.isnan(expected) & np.isnan(actual)
    if scale is None:
        return np.where(nan, 0, exact.ulp_distance(actual, expected))
    actual, expected = np.asarray(actual), np.asarray(expected)
    dtype = expected.dtype
    size = np.maximum(np.abs(expected.astype(np.float64)), np.abs(scale))
    with np.errstate(invalid="ignore", over="ignore"):
        # An infinite value, or an infinite term, makes NaN here; an entry
        # whose expected value is infinite counts 0 if matched exactly.
        error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        size = size.astype(dtype)
        # The ulp of the largest binade (spacing overflows at the largest float).
        half_max = np.asarray(ml_dtypes.finfo(dtype).max, dtype=np.float64) / 2
        unit = np.where(size > half_max, np.spacing(half_max.astype(dtype)).astype(np.float64) * 2, np.spacing(size))
        errors = error / unit.astype(np.float64)
    matched = (np.isinf(expected) & (actual == expected)) | nan
    return np.where(matched, 0, errors)


def ulps(dtype):
    return float(np.finfo(dtype).eps)


def distributions(k, dtype=np.float64, batch=()):
    """Probability vectors of `k` classes that sum to 1 within rounding.

    Entries are drawn from [0, 1] and normalised; some are exactly 0.
    """
    raw = hnp.arrays(
        dtype,
        (*batch, k),
        elements=st.one_of(st.just(0.0), st.floats(2.0**-20, 1.0, width=np.finfo(dtype).bits)),
    ).filter(lambda a: np.all(a.sum(axis=-1) > 0))
    return raw.map(lambda a: a / a.sum(axis=-1, keepdims=True))


def logits(k, batch=(), bound=1e3, dtype=np.float64):
    return hnp.arrays(
        dtype,
        (*batch, k),
        elements=st.floats(-bound, bound, width=np.finfo(dtype).bits),
    )


def weights(shape, bound=1e3):
    """Non-negative weights, including 0 and the smallest subnormal."""
    return hnp.arrays(
        np.float64,
        shape,
        elements=st.one_of(st.sampled_from([0.0, 5e-324, 1.0]), st.floats(0, bound)),
    )


def load(path):
    """A Python file of the project that is not in a package, loaded as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The build's own reader, loaded by its path: book/_ext is not a package.
_table_of_contents = load(ROOT / "book" / "_ext" / "table_of_contents.py")


def toc_documents():
    """Every document of _toc.yml, root first, in reading order."""
    return _table_of_contents.toc_documents(ROOT)


# Figures --------------------------------------------------------------------

_SVG = "{http://www.w3.org/2000/svg}"
# matplotlib draws each glyph from a path for a 100-unit font, scaled to the
# text's size (matplotlib.textpath.TextToPath.FONT_SCALE).
_GLYPH_UNITS = 100


def _scale(transform):
    """How much an SVG `transform` attribute scales lengths (the root of its area factor)."""
    factor = 1.0
    for kind, arguments in re.findall(r"(\w+)\(([^)]*)\)", transform or ""):
        numbers = [float(n) for n in re.split(r"[\s,]+", arguments.strip()) if n]
        if kind == "scale":
            factor *= abs(numbers[0] * numbers[-1]) ** 0.5
        elif kind == "matrix":
            factor *= abs(numbers[0] * numbers[3] - numbers[1] * numbers[2]) ** 0.5
    return factor


def svg_text_sizes(svg):
    """The font size of each text of a matplotlib SVG, in its user units, and the SVG's width.

    matplotlib writes each text as a group ``text_<n>`` of glyphs drawn as
    paths. A text's size is that of its largest glyphs: the exponent of a
    tick label such as 10^-3 is 0.7 of it, as mathtext sets every script.
    """
    root = ElementTree.fromstring(svg)
    texts = []

    def walk(node, scale, glyphs):
        scale *= _scale(node.get("transform"))
        if glyphs is None and node.tag == f"{_SVG}g" and (node.get("id") or "").startswith("text_"):
            glyphs = []
            texts.append(glyphs)
        if node.tag == f"{_SVG}use" and glyphs is not None:
            glyphs.append(scale * _GLYPH_UNITS)
        for child in node:
            if child.tag != f"{_SVG}defs":
                walk(child, scale, glyphs)

    walk(root, 1.0, None)
    width = float(root.get("viewBox").split()[2])
    return [max(glyphs) for glyphs in texts if glyphs], width
