"""The exponential written out, so that compiled loops that take it vectorise.

A loop that calls the C library's ``exp`` is not vectorised; where its call sits in a
branch, the compiler may still evaluate it for every element and keep the results it
needs (if-conversion), so the branch saves nothing. :func:`exp_written_out` has no calls.

Method (Cody & Waite 1980, as :mod:`fes_sim.trig`): x = k·ln 2 + r with k = rint(x/ln 2),
ln 2 split in two parts so that r is exact to about 1e-20, |r| ≤ ln 2 / 2; e^r is its Taylor
polynomial to r¹³ (truncation below 5e-18 relative), scaled by 2^k as 2^⌊k/2⌋ · 2^(k−⌊k/2⌋)
from a table of powers of two, so that neither factor over- or underflows and only the last
product rounds. Within 1 unit in the last place of the C library's value
(``tests/test_sim_exponential.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import register_jitable

#: ln 2 in two parts (the first with 32 significant bits, so that k·hi is exact for |k| < 2²¹)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LOG2_E = 1.0 / math.log(2.0)
#: the arguments' range: e^x is 0 below it (to double precision) and infinite above it
X_MIN, X_MAX = -746.0, 710.0
#: the exponents of the table's powers of two: each half of k for x in [X_MIN, X_MAX]
_HALF_K_MIN, _HALF_K_MAX = -540, 513
_POW2 = np.array([math.ldexp(1.0, k) for k in range(_HALF_K_MIN, _HALF_K_MAX + 1)])
#: Taylor coefficients of e^r, highest power (13) first
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))


@register_jitable
def exp_written_out(x):
    """e^x of one float ``x`` (0 for x < :data:`X_MIN`, inf for x > :data:`X_MAX`, nan for nan)."""
    xc = min(x, X_MAX) if x >= X_MIN else X_MIN  # (a nan x is clipped too, so the table index stays in range)
    k = np.rint(xc * _LOG2_E)
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = 0.0
    for c in _TAYLOR:
        p = p * r + c
    half = int(k) >> 1
    return p * _POW2[half - _HALF_K_MIN] * _POW2[int(k) - half - _HALF_K_MIN] if x == x else x
