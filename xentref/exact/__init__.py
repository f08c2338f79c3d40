r"""Exact values: every function of xentref, certified and correctly rounded.

``xentref.exact.f`` takes the arguments of ``xentref.f``, refuses what it
refuses (it calls it first, so the messages are the same), and returns what
it returns, in the same shape, dtype and type, except that each value is the
exact value of the mathematical function at the given inputs, each input
taken as the binary number it is, rounded once to the nearest float32 or
float64, or float16 or bfloat16 where the function accepts them (ties to
even, with subnormals and overflow to infinity as in IEEE 754). ``"sum"``
and ``"mean"`` round the exact sum, or the exact sum divided by the count,
once. :mod:`xentref.exact.grad` does the same for
:mod:`xentref.grad`. Use it to check any implementation's numbers, with
:func:`ulp_distance` to count how far they are off.

How a value is certified: it is computed in Arb's midpoint-radius ball
arithmetic [1]_ (python-flint), which returns a ball guaranteed to contain it.
Both ends of the ball are rounded to the target dtype; rounding is
monotone, so if they round to the same float, so does the value. If not,
the value is recomputed with twice the working precision, from 128 bits up
to 65536; a value still uncertain then raises ``ArithmeticError`` (valid
input is not expected ever to get there). Infinite and undefined cases (a
log of zero, an infinite logit, :math:`0 \log 0`) are decided before any
ball arithmetic, and exact zeros (a single class, :math:`D_{KL}(p \| p)`)
are formed exactly. Where a result is a midpoint between two floats plus a
correction no ball can resolve (:math:`2^{53} + 1 + \log(1 + e^{-2^{53} - 1})`,
the loss of logits :math:`(2^{53}, -1)` at label 1), the formulas keep the
exact part and the correction apart, and the correction's sign decides.
The sign of a zero result is not certified.

It is slow by design, some 10 to 50 microseconds per element where
NumPy needs nanoseconds. Measured on a busy two-core machine, 1,000 rows of
10 classes through :func:`softmax_cross_entropy` take 0.03 s with
``reduction="mean"`` (one certified sum), 0.08 s with ``"none"`` and 0.2 s
for :func:`grad.softmax_cross_entropy
<xentref.exact.grad.softmax_cross_entropy>`
(10,000 certified values); 10,000 elements of
:func:`sigmoid_binary_cross_entropy` take 0.5 s. It is meant for test
cases and worked examples of up to about 10^5 elements, not for
training-sized batches.

Needs python-flint: ``pip install "xentref[exact]"``.

.. rubric:: Examples

>>> import numpy as np
>>> import xentref
>>> from xentref import exact
>>> float(exact.softmax_cross_entropy([30.0, 0.0], 0))  # log1p(e^-30)
9.357622968839737e-14
>>> exact.sigmoid(np.float32(0.1))  # float32 in, float32 out, rounded once
np.float32(0.5249792)

How far xentref's own log-softmax is from the exact values, in ulps:

>>> z = np.random.default_rng(0).normal(size=(4, 3))
>>> print(exact.ulp_distance(xentref.log_softmax(z), exact.log_softmax(z)))
[[0. 0. 0.]
 [0. 0. 1.]
 [0. 0. 0.]
 [0. 0. 0.]]

.. rubric:: References

.. [1] F. Johansson, "Arb: efficient arbitrary-precision midpoint-radius
   interval arithmetic", IEEE Transactions on Computers 66 (2017),
   1281-1292. https://doi.org/10.1109/TC.2017.2690633
"""

try:
    import flint  # noqa: F401
except ImportError as missing:
    raise ImportError(
        'xentref.exact needs python-flint; install it with: pip install '
        '"xentref[exact]"'
    ) from missing

import importlib

import xentref
from xentref.exact._ulp import ulp_distance


def mirror(name, suffix=""):
    """The exact form of ``xentref.<name>`` (with `suffix` "_grad", of its
    gradient).

    It is the function of that name in the module of :mod:`xentref.exact`
    named as the module that defines ``xentref.<name>``.
    """
    module = getattr(xentref, name).__module__.replace(
        "xentref.", "xentref.exact.", 1
    )
    return getattr(importlib.import_module(module), name + suffix)


for _name in xentref.__all__:
    globals()[_name] = mirror(_name)

__all__ = [*xentref.__all__, "ulp_distance"]

from xentref.exact import grad as grad  # noqa: E402  (it needs mirror, defined above)
