"""Standard normals drawn inside compiled loops, from one small generator per walker.

Generator: xoshiro256++ (Blackman & Vigna 2018, "Scrambled linear pseudorandom number
generators", arXiv:1805.01407; ACM TOMS 47(4), 2021): four 64-bit words of state, period
2²⁵⁶ − 1, all output bits of full quality. A state is a row of a uint64 array (walkers, 4),
so each walker's stream carries over calls; :func:`seed_states` draws the words from the
walkers' numpy generators.

Normals: the ziggurat of Marsaglia & Tsang (2000, "The ziggurat method for generating random
variables", J. Stat. Softw. 5(8)) with 256 layers of equal area under f(x) = exp(−x²/2) and
the exact tail beyond r of Marsaglia (1964, "Generating a variable from the tail of the
normal distribution", Technometrics 6(1)). One 64-bit draw gives the layer (bits 0-7), the
sign (bit 8) and a 53-bit uniform (bits 11-63); 98.5 % of draws return at that point.
The tables are computed at import, r solved by bisection so that the top layer closes at x = 0.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import register_jitable

#: words of a generator state
STATE_WORDS = 4
_LAYERS = 256
_U53 = 2.0**-53  # a 53-bit integer to [0, 1)
_BYTE, _SIGN, _U53_SHIFT = np.uint64(0xFF), np.uint64(0x100), np.uint64(11)


def _f(x: float) -> float:
    return math.exp(-0.5 * x * x)


def _layer_edges(r: float) -> tuple[list[float], float]:
    """Right edges x₀…x₂₅₅ of the layers for the base edge ``r`` (x₀ = v/f(r) is the width of the
    base layer, rectangle plus tail, x₁ = r) and how far the top layer's f falls short of 1
    (negative: the layers overshoot, ``r`` is too small)."""
    v = r * _f(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))  # area of each layer
    x = [v / _f(r), r]
    for _ in range(_LAYERS - 2):
        y = v / x[-1] + _f(x[-1])
        if y >= 1.0:
            return x, 1.0 - y
        x.append(math.sqrt(-2.0 * math.log(y)))
    return x, 1.0 - (v / x[-1] + _f(x[-1]))


def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Layer edges x₀…x₂₅₆ (x₂₅₆ = 0) and f at them, for the r that closes the top layer."""
    lo, hi = 3.0, 4.0
    while lo < (mid := 0.5 * (lo + hi)) < hi:
        lo, hi = (lo, mid) if _layer_edges(mid)[1] >= 0.0 else (mid, hi)
    x = np.array(_layer_edges(hi)[0] + [0.0])
    return x, np.exp(-0.5 * x * x)


_X, _FX = _tables()
_R = float(_X[1])


def seed_states(rngs: list[np.random.Generator]) -> np.ndarray:
    """A generator state (walkers, 4) with each walker's words drawn from its own ``rngs[w]``
    (all zero, the one state that xoshiro cannot leave, has probability 2⁻²⁵⁶)."""
    return np.array([r.integers(0, 2**64, STATE_WORDS, dtype=np.uint64) for r in rngs], np.uint64).reshape(len(rngs), STATE_WORDS)


@register_jitable
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@register_jitable
def _xoshiro(s0, s1, s2, s3):
    """One xoshiro256++ step on the state words: ``(output, s0, s1, s2, s3)``."""
    out = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    return out, s0, s1, s2, _rotl(s3, 45)


@register_jitable
def next_u64(s):
    """The next 64-bit output of xoshiro256++ from the state row ``s`` (advanced in place)."""
    out, s[0], s[1], s[2], s[3] = _xoshiro(s[0], s[1], s[2], s[3])
    return out


@register_jitable
def _uniform(s):
    """A uniform in [0, 1) with 53 random bits (state row ``s``)."""
    return np.int64(next_u64(s) >> _U53_SHIFT) * _U53


@register_jitable
def _tail(s):
    """A normal beyond r, given that it is (Marsaglia 1964)."""
    while True:
        x = -math.log(1.0 - _uniform(s)) / _R
        if -2.0 * math.log(1.0 - _uniform(s)) > x * x:
            return _R + x


@register_jitable
def _layer_point(bits):
    """The layer ``i`` of a 64-bit draw and its point x in [0, x_i): accepted at once if x < x_{i+1}."""
    i = int(bits & _BYTE)
    return i, np.int64(bits >> _U53_SHIFT) * _U53 * _X[i]


@register_jitable
def _beyond_rectangle(s, i, x):
    """A point ``x`` of layer ``i`` outside the layer's inner rectangle: ``(x, accepted)``, the base
    layer's from the tail, the others' by a uniform under f (further draws from ``s``)."""
    if i == 0:
        return _tail(s), True
    return x, _FX[i] + _uniform(s) * (_FX[i + 1] - _FX[i]) < math.exp(-0.5 * x * x)


@numba.njit(inline="always")
def standard_normal(s):
    """One standard normal from the state row ``s`` (ziggurat, advanced in place). Inlined in
    numba's IR: as a call, which LLVM makes of it for the loops of the slow path, it costs
    more than the draw."""
    while True:
        bits = next_u64(s)
        i, x = _layer_point(bits)
        if x < _X[i + 1]:
            break
        x, accepted = _beyond_rectangle(s, i, x)
        if accepted:
            break
    return -x if bits & _SIGN else x


@register_jitable
def standard_normals(s, out):
    """Fill the 1-D ``out`` with standard normals from the state row ``s``: the draws of
    :func:`standard_normal`, the state words held in registers between draws (written back
    only for the 1.5 % of draws that need more than one), in half the time (3.2 against 6.8 ns a normal here)."""
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    for j in range(out.size):
        while True:
            bits, s0, s1, s2, s3 = _xoshiro(s0, s1, s2, s3)
            i, x = _layer_point(bits)
            if x < _X[i + 1]:
                break
            s[0], s[1], s[2], s[3] = s0, s1, s2, s3
            x, accepted = _beyond_rectangle(s, i, x)
            s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
            if accepted:
                break
        out[j] = -x if bits & _SIGN else x
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
