"""Shared by the conformance tests: how the frameworks are loaded, seeded inputs, ulps.

Keras 3 reads its backend from ``KERAS_BACKEND`` when it is first imported,
and JAX looks for accelerators (and says so on stderr) unless
``JAX_PLATFORMS`` names the CPU, so both are set before either is imported.
Every framework computes in float64 here, so that differences in semantics
are not hidden by float32 rounding.
"""

import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ["JAX_PLATFORMS"] = "cpu"

import numpy as np

from xentref import exact

SEED = 20261126


def rng():
    return np.random.default_rng(SEED)


def ulps(actual, expected):
    """The largest distance between two arrays of values, in ulps of the dtype of `expected`."""
    expected = np.asarray(expected)
    return float(np.max(exact.ulp_distance(np.asarray(actual).astype(expected.dtype), expected)))


def ulps_of_scale(actual, expected, scale):
    """The largest |actual - expected| in ulps of `scale` (the size of the terms summed)."""
    dtype = np.asarray(expected).dtype
    error = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(expected, dtype=np.float64))
    return float(np.max(error / np.spacing(np.abs(np.asarray(scale).astype(dtype))).astype(np.float64)))
