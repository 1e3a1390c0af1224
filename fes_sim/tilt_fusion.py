"""The tilt fusion step shared by the device's estimator and the simulated tilt sensor.

Complementary filter (REFERENCE §6) in the vector form of Mahony, Hamel & Pflimlin
(2008, IEEE TAC 53:1203): the gyro prediction ψₚ = ψ̂ₖ₋₁ + ωₖΔt is corrected by
ψ̂ₖ = ψₚ − k·h, h = f_x sin ψₚ + f_y cos ψₚ, the forward (world) component of the
specific force seen with the predicted tilt (frame of :mod:`fes_sim.samples`). For a
still shank h/g = sin(ψₚ − ψ), so with k = (1 − α)/g, α = τ/(τ + Δt), this is the classic
filter ψ̂ = αψₚ + (1 − α)ψ_acc to first order; h is linear in the shank's own
acceleration, whose mean over a stride is zero, so it averages out where the angle
atan2(−f_y, f_x) would bias the estimate. Start-up: the k-th accepted correction uses
the gain 1/(k + 1) (in units of 1/g) while that exceeds the filter's own, so a stream
that starts while walking converges in about a second.

:func:`correct` works on floats (``math``, :func:`select`) and on arrays of sensors
(``numpy.sin/cos/where``) with the same operations.
"""

from __future__ import annotations

import math
from typing import Callable

from fes_sim.samples import GRAVITY_MPS2

DEG = 180.0 / math.pi
RAD = math.pi / 180.0
#: correction per unit h (deg per m/s²) for a gain of 1
START_GAIN_DEG = DEG / GRAVITY_MPS2
#: start-up counter value before any correction (the first accepted one uses gain 1/2)
START_COUNT = 1.0


def gain_deg(tau_s: float, dt_s: float) -> float:
    """Correction per unit h (deg per m/s²) of a filter with time constant ``tau_s``: (1 − α)/g."""
    return (1.0 - tau_s / (tau_s + dt_s)) * DEG / GRAVITY_MPS2


def accel_tilt_deg(fx, fy, atan2: Callable = math.atan2):
    """Tilt of the specific force alone (the estimate's starting value)."""
    return atan2(-fy, fx) * DEG


def select(cond, a, b):
    """``a if cond else b`` for floats; ``numpy.where`` plays this part for arrays."""
    return a if cond else b


def correct(pred_deg, fx, fy, count, k_deg: float, sin: Callable = math.sin, cos: Callable = math.cos, where: Callable = select):
    """Correct the gyro prediction with one accepted accelerometer sample.

    ``count`` is the start-up counter (:data:`START_COUNT` after a reset, ``inf`` once the
    start-up gain has fallen to ``k_deg``). Returns ``(tilt_deg, count)``.
    """
    count = count + 1.0
    start = START_GAIN_DEG / count
    starting = start > k_deg
    r = pred_deg * RAD
    return pred_deg - where(starting, start, k_deg) * (fx * sin(r) + fy * cos(r)), where(starting, count, math.inf)
