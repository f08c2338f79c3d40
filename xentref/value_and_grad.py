"""A loss and its gradient from one call, for the losses whose two share a pass.

``xentref.value_and_grad.f`` takes exactly the arguments of ``xentref.f``
and returns ``(xentref.f(...), xentref.grad.f(...))``, equal to those two
calls bit for bit, but reads the input once: the loss and the gradient of
these functions start from the same normaliser, which is most of the
work. It exists for the functions that large inputs make costly; for any
other loss, call the loss and its gradient.
"""

import sys

import xentref

__all__ = []

# ``f_value_and_grad`` in the module that defines ``f``, listed under ``f``.
for _name in xentref.__all__:
    _both = getattr(sys.modules[getattr(xentref, _name).__module__], f"{_name}_value_and_grad", None)
    if _both is not None:
        globals()[_name] = _both
        __all__.append(_name)
