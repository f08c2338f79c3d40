"""The types in the public functions' signatures.

- ``ArrayLike``: anything NumPy makes an array of (``numpy.typing.ArrayLike``).
- ``Reduction``: the values that `reduction` takes.
- ``Result``: what a function returns: an ndarray, or a NumPy scalar of the
  prediction's dtype (``np.float32`` or ``np.float64``) where the result has
  no dimensions, as a ``reduction="mean"`` loss has.
"""

from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

Reduction: TypeAlias = Literal["mean", "sum", "none"]
Result: TypeAlias = np.ndarray | np.floating

__all__ = ["ArrayLike", "Reduction", "Result"]
