"""Stride-to-stride variability: AR(1) stride times and per-stride joint offsets.

Stride-time CV is 2-3 % in healthy adults (Beauchet 2009) and higher after stroke
(Öken 2008). A per-stride AR(1) with ρ ≈ 0.3-0.5 plus per-stride offsets of 1-3° on
the joint curves reproduces this (REFERENCE §2).
"""

from __future__ import annotations

import math

import numpy as np

#: joint curves that get a per-stride offset (in swing)
OFFSET_SIGNALS: tuple[str, ...] = ("shank", "thigh", "knee", "ankle")


class StrideSequence:
    """Draws successive strides: duration (s) and joint offsets (deg).

    Parameters
    ----------
    mean_s, cv, rho
        Mean stride time, coefficient of variation and lag-1 autocorrelation.
    offset_sd_deg
        Standard deviation of each per-stride joint offset.
    rng
        The walker's random generator (consumed in a fixed order).
    """

    def __init__(self, mean_s: float, cv: float, rho: float, offset_sd_deg: float, rng: np.random.Generator) -> None:
        self.mean_s = mean_s
        self.cv = cv
        self.rho = rho
        self.offset_sd_deg = offset_sd_deg
        self._rng = rng
        self._e = rng.standard_normal() * cv

    def next(self) -> tuple[float, np.ndarray]:
        """The next stride's duration and its offsets (one per :data:`OFFSET_SIGNALS`)."""
        xi = self._rng.standard_normal(1 + len(OFFSET_SIGNALS))
        self._e = self.rho * self._e + math.sqrt(1.0 - self.rho**2) * self.cv * float(xi[0])
        duration = self.mean_s * max(0.7, 1.0 + self._e)
        return duration, xi[1:] * self.offset_sd_deg
