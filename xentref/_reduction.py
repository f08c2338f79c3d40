"""The ``reduction`` option shared by every loss."""

import numpy as np


def apply_reduction(losses, reduction):
    """Apply a validated ``reduction`` to per-example losses.

    ``"none"`` returns `losses` unchanged, ``"sum"`` their sum and ``"mean"``
    their sum divided by their count. The mean of no losses is undefined, so
    an empty batch with ``"mean"`` is an error rather than a NaN.
    """
    if reduction == "none":
        return losses
    if reduction == "sum":
        return np.sum(losses)
    if losses.size == 0:
        raise ValueError(
            "`reduction='mean'` is undefined for an empty batch (0 losses); "
            "use 'sum' or 'none'"
        )
    return np.sum(losses) / losses.size
