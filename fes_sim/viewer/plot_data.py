"""Qt-free shaping of the panels' data: steady automatic y ranges and thinning of piecewise-linear traces."""

from __future__ import annotations

import math

import numpy as np

#: a range is shrunk only once it is this many times taller than the data needs
SHRINK_FACTOR = 2.5


class SteadyRange:
    """An automatic y range that covers the data, is at least ``min_span`` tall and seldom moves.

    A range that moves every frame makes the axis relabel every frame and the
    traces hard to read, so :meth:`fit` keeps the current range while it still
    covers the data and is not much too tall, and otherwise pads the data by
    ``pad_fraction`` of its span on both sides.

    Parameters
    ----------
    min_span
        Smallest height of the range, in the panel's unit.
    pad_fraction
        Margin added above and below the data, as a fraction of the range.
    """

    def __init__(self, min_span: float, pad_fraction: float = 0.08) -> None:
        if not min_span > 0:
            raise ValueError(f"min_span {min_span!r} must be > 0")
        self.min_span = min_span
        self.pad_fraction = pad_fraction
        self.lo = math.nan
        self.hi = math.nan

    def fit(self, data_lo: float, data_hi: float) -> tuple[float, float] | None:
        """The new ``(lo, hi)`` if the range must move to show ``data_lo`` .. ``data_hi``, else None."""
        if not (math.isfinite(data_lo) and math.isfinite(data_hi)):
            return None
        span = max(data_hi - data_lo, self.min_span / (1.0 + 2.0 * self.pad_fraction))
        centre = 0.5 * (data_lo + data_hi)
        half = 0.5 * span * (1.0 + 2.0 * self.pad_fraction)
        covers = self.lo <= data_lo and data_hi <= self.hi
        if covers and self.hi - self.lo <= SHRINK_FACTOR * 2.0 * half:
            return None
        self.lo, self.hi = centre - half, centre + half
        return self.lo, self.hi


def finite_bounds(*arrays: np.ndarray) -> tuple[float, float]:
    """Smallest and largest finite value over all ``arrays`` (nan, nan when there is none)."""
    lows = [np.fmin.reduce(a) for a in arrays if a.size]
    highs = [np.fmax.reduce(a) for a in arrays if a.size]
    lo = np.fmin.reduce(lows) if lows else math.nan
    hi = np.fmax.reduce(highs) if highs else math.nan
    return float(lo), float(hi)


def corner_indices(y: np.ndarray, tol: float) -> np.ndarray:
    """Indices of both ends and of every sample where the uniformly sampled trace ``y`` bends.

    A line through these samples only is the line through all of them (within
    ``tol``) for a piecewise-linear signal such as a stimulation envelope: a
    burst becomes a handful of points instead of hundreds.
    """
    if y.size < 3:
        return np.arange(y.size)
    bends = np.abs(np.diff(y, 2)) > tol
    return np.flatnonzero(np.concatenate(([True], bends, [True])))
