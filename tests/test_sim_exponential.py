"""The exponential written out for vectorised loops (:mod:`fes_sim.exponential`) against the C library's."""

from __future__ import annotations

import math

import numba
import numpy as np

from fes_sim.exponential import X_MAX, X_MIN, exp_written_out


@numba.njit(cache=True)
def _exp_rows(x: np.ndarray) -> np.ndarray:
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = exp_written_out(x[i])
    return out


def test_within_one_unit_in_the_last_place_of_the_c_library() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708.0, 709.0, 200_000), rng.uniform(-30.0, 0.0, 200_000), rng.uniform(-1e-3, 1e-3, 10_000), [0.0, -0.0]])
    want = np.array([math.exp(v) for v in x])
    got = _exp_rows(x)
    assert np.max(np.abs(got - want) / np.spacing(want)) <= 1.0
    assert _exp_rows(np.array([0.0]))[0] == 1.0


def test_the_ends_of_the_range_and_special_values() -> None:
    x = np.array([np.nan, -np.inf, np.inf, X_MIN - 1.0, X_MAX + 1.0, 709.9, 709.7, -745.0, -740.0])
    got = _exp_rows(x)
    assert np.isnan(got[0])
    assert got[1] == 0.0 and got[3] == 0.0
    assert got[2] == np.inf and got[4] == np.inf and got[5] == np.inf
    assert got[6] == math.exp(709.7)  # the largest results
    assert got[7] == math.exp(-745.0) == 5e-324 and got[8] == math.exp(-740.0)  # subnormal results
