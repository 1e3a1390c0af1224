"""The IMU's compiled noise: xoshiro256++, the ziggurat normals, and each walker's own stream."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import stats

from fes_sim.sensors import normals
from fes_sim.sensors.normals import next_u64, seed_states, standard_normal

_MASK = 2**64 - 1


@numba.njit
def _normals(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n)
    s = state[0]
    for j in range(n):
        out[j] = standard_normal(s)
    return out


@numba.njit
def _words(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, np.uint64)
    s = state[0]
    for j in range(n):
        out[j] = next_u64(s)
    return out


def _xoshiro_reference(state: list[int], n: int) -> list[int]:
    """xoshiro256++ in Python integers, as the authors' C code has it."""
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & _MASK  # noqa: E731
    s = list(state)
    out = []
    for _ in range(n):
        out.append((rotl((s[0] + s[3]) & _MASK, 23) + s[0]) & _MASK)
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def test_generator_is_xoshiro256plusplus():
    state = seed_states([np.random.default_rng(5)])
    expected = _xoshiro_reference([int(w) for w in state[0]], 1000)
    assert _words(state, 1000).tolist() == expected


def test_ziggurat_layers_have_equal_areas_and_close_at_zero():
    """Marsaglia & Tsang's r for 256 layers (3.6541528853610088) and layers of equal area v."""
    x, fx = normals._X, normals._FX
    r = normals._R
    assert r == pytest.approx(3.6541528853610088, rel=1e-15)
    v = r * math.exp(-0.5 * r * r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    np.testing.assert_allclose(x[1:-1] * (fx[2:] - fx[1:-1]), v, rtol=1e-11)
    assert x[1] == r and x[0] * fx[1] == pytest.approx(v, rel=1e-15)  # the base: rectangle to r and the tail
    assert x[-1] == 0.0 and fx[-1] == 1.0


def test_normals_have_the_standard_normal_distribution():
    """Mean, variance, Kolmogorov-Smirnov and the fractions beyond 3 and 4 σ (the ziggurat's
    tail starts at r ≈ 3.65) of 4 million draws, each within 5 standard errors."""
    n = 4_000_000
    z = _normals(seed_states([np.random.default_rng(2024)]), n)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(stats.skew(z)) < 5 * math.sqrt(6 / n) and abs(stats.kurtosis(z)) < 5 * math.sqrt(24 / n)
    for k in (3.0, 4.0):
        p = 2 * stats.norm.sf(k)
        assert abs(np.mean(np.abs(z) > k) - p) < 5 * math.sqrt(p * (1 - p) / n), k
    assert np.mean(z > 0) == pytest.approx(0.5, abs=5 * 0.5 / math.sqrt(n))
