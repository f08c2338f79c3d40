"""One docstring pattern for every exact function, written once."""

import inspect

ARB_REFERENCE = """\
.. [1] F. Johansson, "Arb: efficient arbitrary-precision midpoint-radius
   interval arithmetic", IEEE Transactions on Computers 66 (2017),
   1281-1292. https://doi.org/10.1109/TC.2017.2690633"""

_TEMPLATE = """{summary}

The exact value of :func:`{mirrored}` for the given inputs, each taken as
the binary number it is, correctly rounded (to nearest, ties to even) to the
dtype that :func:`{mirrored}` returns, and certified by ball arithmetic
[1]_.

.. math:: {formula}

Parameters
----------
{parameters}
    As for :func:`{mirrored}`, which checks them first.

Returns
-------
{result} : ndarray or scalar
    The shape, dtype and type :func:`{mirrored}` returns.

Raises
------
TypeError, ValueError
    Wherever :func:`{mirrored}` raises, with its message.
ArithmeticError
    If a value cannot be certified within the precision cap; this is not
    expected for valid input.

See Also
--------
{mirrored}

References
----------
{reference}
"""


def mirrors(mirrored, summary, formula, result):
    """Give the decorated exact function its docstring.

    `mirrored` is the full name of the float function, such as
    ``"xentref.grad.nll_loss"``; `formula` is LaTeX for the value computed.
    """

    def decorate(function):
        names = ", ".join(inspect.signature(function).parameters)
        function.__doc__ = _TEMPLATE.format(
            summary=summary,
            mirrored=mirrored,
            formula=formula,
            parameters=names,
            result=result,
            reference=ARB_REFERENCE,
        )
        return function

    return decorate
