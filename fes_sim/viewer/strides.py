"""Strides for sources without a simulator's stride record: from heel strikes, with MTC when the toe height is known.

A replayed recording of the simulator has the toe height as ground truth and
the reference events beside it; a device link has neither. Each stride here
runs from one heel strike to the next. When a toe-off came between them its
swing is known, and with a toe-height trace its minimum toe clearance (MTC)
is the lowest toe point in mid-swing, the same window the simulator uses
(swing fractions ``MIDSWING_START`` to ``TERMINAL_SWING_START``,
:mod:`fes_sim.body.clearance`): lift-off and the landing contact are not MTC.
A toe drag is an MTC below the floor.
"""

from __future__ import annotations

import math

import numpy as np

from fes_sim.body.clearance import MIDSWING_START, TERMINAL_SWING_START
from fes_sim.samples import GaitEvent
from fes_sim.viewer.buffer import NAN, StrideMark


def swing_clearance(t_s: np.ndarray, toe_height_mm: np.ndarray, t_toe_off_s: float, t_heel_strike_s: float) -> tuple[float, float]:
    """``(t_mtc_s, mtc_mm)``: time and height of the lowest toe point in mid-swing (nan, nan if none).

    Parameters
    ----------
    t_s, toe_height_mm
        The toe-height trace, ``t_s`` increasing.
    t_toe_off_s, t_heel_strike_s
        The swing: toe-off and the heel strike that ends it.
    """
    swing_s = t_heel_strike_s - t_toe_off_s
    lo, hi = np.searchsorted(t_s, (t_toe_off_s + MIDSWING_START * swing_s, t_toe_off_s + TERMINAL_SWING_START * swing_s))
    mid = toe_height_mm[lo:hi]
    if not np.isfinite(mid).any():
        return NAN, NAN
    k = int(np.nanargmin(mid))
    return float(t_s[lo + k]), float(mid[k])


class HeelStrikeStrides:
    """Strides between consecutive heel strikes, with swing, MTC and toe drag when they are known.

    Parameters
    ----------
    t_s, toe_height_mm
        A toe-height trace covering the events reported (a recording's ground
        truth), or None when the toe height is not known.
    """

    def __init__(self, t_s: np.ndarray | None = None, toe_height_mm: np.ndarray | None = None) -> None:
        self._toe = None if t_s is None or toe_height_mm is None else (t_s, toe_height_mm)
        self._last_heel_strike_s = NAN
        self._toe_off_s = NAN

    def event(self, t_s: float, event: GaitEvent) -> list[StrideMark]:
        """Record a toe-off or heel strike (other events are ignored); returns the stride a heel strike closes."""
        if event == GaitEvent.TOE_OFF:
            self._toe_off_s = t_s
        if event != GaitEvent.HEEL_STRIKE:
            return []
        last, self._last_heel_strike_s = self._last_heel_strike_s, t_s
        toe_off, self._toe_off_s = self._toe_off_s, NAN
        if math.isnan(last):
            return []
        if not last < toe_off < t_s:  # no toe-off in this stride: the swing is not known
            return [StrideMark(last, t_s, NAN, NAN, False)]
        t_mtc, mtc = swing_clearance(*self._toe, toe_off, t_s) if self._toe is not None else (NAN, NAN)
        return [StrideMark(toe_off, t_s, t_mtc, mtc, bool(mtc < 0.0))]
