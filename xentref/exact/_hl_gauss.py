"""Exact HL-Gauss targets."""

from __future__ import annotations

from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact
from xentref.exact._binning import encoded
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import per_class


def _masses(edges, value, sigma):
    """The Gaussian's mass on each bin and inside the support, as balls.

    Each difference of the distribution function is taken between tails on
    the bin's side of the mean (decided by exact comparison of floats), so
    that a far bin's tiny mass is not a difference of two balls near 1.
    """
    y = exact(value)
    scale = exact(sigma) * arb(2).sqrt()
    t = [(exact(e) - y) / scale for e in edges]
    masses = []
    for k in range(len(edges) - 1):
        if edges[k] >= value:
            masses.append((t[k].erfc() - t[k + 1].erfc()) / 2)
        elif edges[k + 1] <= value:
            masses.append(((-t[k + 1]).erfc() - (-t[k]).erfc()) / 2)
        else:
            masses.append((t[k + 1].erf() - t[k].erf()) / 2)
    return masses, (t[-1].erf() - t[0].erf()) / 2


@mirrors(
    "xentref.hl_gauss_targets", "Exact HL-Gauss targets.",
    r"t_k &= m_k / Z \quad (m_k \text{ alone without normalize}), \\ "
    r"m_k &= \Phi((e_{k+1} - y)/\sigma) - \Phi((e_k - y)/\sigma), \\ "
    r"Z &= \Phi((e_K - y)/\sigma) - \Phi((e_0 - y)/\sigma)",
    "targets",
)
def hl_gauss_targets(values: ArrayLike, edges: ArrayLike, *, sigma: float, normalize: bool = True) -> Result:
    template = xentref.hl_gauss_targets(values, edges, sigma=sigma, normalize=normalize)
    values, edges = encoded(values, edges)

    def row(value):
        masses, captured = _masses(edges, value, float(sigma))
        return [m / captured for m in masses] if normalize else masses

    return per_class(template, template.ndim - 1, values, row, "hl_gauss_targets")
