"""The WalkAide-like tilt trigger over many lanes at once (one numpy pass per sample).

:class:`TiltTriggerLanes` is :class:`fes_sim.detection.tilt_trigger.TiltTriggerDetector`
as :class:`fes_sim.device.DevicePipeline` drives it: on a sample with a sensor fault
the detector is not updated and, once per fault, forgets the stride in progress
(``interrupt``). Lane ``i`` runs ``configs[i]`` with ``adaptation_strides[i]``, on its
own tilt and rate, with the same floating-point operations in the same order as
the scalar detector, so its events and aborts are identical
(``tests/test_tune_lanes.py``). Tuning studies that change detector thresholds then
cost one vectorised pass instead of one scalar detector per parameter set.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from fes_sim.control.config import TiltTriggerConfig
from fes_sim.detection.preswing import HISTORY
from fes_sim.detection.tilt_trigger import DEG_PER_STRIDE, LEARNING_STRIDES, PUSH_OFF, STANCE, SWING
from fes_sim.samples import GaitEvent

_HO, _TO, _HS = int(GaitEvent.HEEL_OFF), int(GaitEvent.TOE_OFF), int(GaitEvent.HEEL_STRIKE)


class TiltTriggerLanes:
    """Many tilt-trigger detectors stepped together.

    Parameters
    ----------
    configs : sequence of TiltTriggerConfig
        One per lane.
    adaptation_strides : sequence of float
        The controller's ``adaptation_strides`` of each lane.

    Attributes
    ----------
    aborted : ndarray of bool
        Per lane, as ``TiltTriggerDetector.aborted`` after the latest sample.
    """

    def __init__(self, configs: Sequence[TiltTriggerConfig], adaptation_strides: Sequence[float]) -> None:
        col = lambda name, scale=1.0: np.array([getattr(c, name) * scale for c in configs], dtype=float)  # noqa: E731
        self.n = len(configs)
        self.adapt_per_deg = np.array([1.0 / (a * DEG_PER_STRIDE) for a in adaptation_strides])
        self.min_stance_s = col("min_stance_ms", 1e-3)
        self.min_swing_s = col("min_swing_ms", 1e-3)
        self.min_push_s = col("min_push_off_ms", 1e-3)
        self.max_push_s = col("max_push_off_ms", 1e-3)
        self.max_swing_s = col("max_swing_ms", 1e-3)
        self.lag_s = col("heel_strike_lag_ms", 1e-3)
        self.ho_tau_s = col("heel_off_rate_smoothing_ms", 1e-3)
        self.to_lag_s = col("toe_off_lag_ms", 1e-3)
        self.still_s = col("still_ms", 1e-3)
        self._rows = np.arange(self.n)
        for name in (
            "heel_off_tilt_deg", "heel_off_fraction", "heel_off_rate_dps", "heel_off_rate_fraction", "initial_peak_rate_dps",
            "swing_recovery_rate_dps", "hysteresis_deg", "min_tilt_range_deg", "toe_off_rate_fraction", "toe_off_rise_fraction", "toe_off_symmetry", "toe_off_drop_fraction",
            "toe_off_min_level", "toe_off_rebound_fraction", "min_swing_rate_dps", "heel_strike_rise_deg", "still_rate_dps",
        ):
            setattr(self, name, col(name))
        self.reset()

    def reset(self) -> None:
        """Every lane back to stance with its configured initial threshold (as ``reset``)."""
        n = self.n
        self.phase = np.full(n, STANCE, dtype=np.int8)
        self.aborted = np.zeros(n, dtype=bool)
        span = self.min_tilt_range_deg.copy()
        self.low_deg = self.heel_off_tilt_deg - self.heel_off_fraction * span
        self.high_deg = self.low_deg + span
        self.t_prev = np.full(n, math.nan)
        self.prev_tilt = np.full(n, math.nan)
        self.t_heel_strike = np.full(n, -math.inf)
        self.t_heel_off = np.full(n, -math.inf)
        self.t_toe_off = np.full(n, -math.inf)
        self.peak_rate = np.zeros(n)
        self.trough_rate = np.zeros(n)
        self.t_peak = np.full(n, -math.inf)
        self.t_rise = np.full(n, -math.inf)
        # the climb of each lane's pre-swing peak (PreSwingPeak's history, one row per lane)
        self.hist_t = np.zeros((n, HISTORY))
        self.hist_r = np.zeros((n, HISTORY))
        self.n_hist = np.zeros(n, dtype=np.int64)
        self.strides_seen = np.zeros(n, dtype=np.int64)
        self.peak_rate_follower = self.initial_peak_rate_dps.copy()
        self.stride_max_rate = np.zeros(n)
        self.stride_low_deg = np.full(n, math.inf)
        self.stride_high_deg = np.full(n, -math.inf)
        self.ho_rate = np.zeros(n)
        self.t_moving = np.full(n, -math.inf)
        self.min_tilt = np.full(n, math.inf)
        self.t_min = np.zeros(n)
        self.swing_armed = np.zeros(n, dtype=bool)
        self.ho_armed = np.zeros(n, dtype=bool)
        self.interrupted = np.zeros(n, dtype=bool)

    def _enter_swing(self, m: np.ndarray, t_s: float, tilt: np.ndarray) -> None:
        self.phase[m] = SWING
        self.t_toe_off[m] = t_s
        self.min_tilt[m] = tilt[m]
        self.t_min[m] = t_s
        self.swing_armed[m] = False

    def _push(self, m: np.ndarray, t_s: float, rate: np.ndarray) -> None:
        rows = self._rows[m]
        slot = self.n_hist[rows] % HISTORY
        self.hist_t[rows, slot] = t_s
        self.hist_r[rows, slot] = rate[rows]
        self.n_hist[rows] += 1

    def _start_peak(self, m: np.ndarray, t_s: float, rate: np.ndarray) -> None:
        """``PreSwingPeak.start`` for the lanes in ``m``."""
        self.peak_rate[m] = rate[m]
        self.trough_rate[m] = rate[m]
        self.t_peak[m] = t_s
        self.t_rise[m] = t_s
        self.n_hist[m] = 0
        self._push(m, t_s, rate)

    def _last_below(self, rows: np.ndarray, level: np.ndarray) -> np.ndarray:
        """``PreSwingPeak._last_below`` for ``rows``: time of the newest kept sample below ``level``."""
        n = self.n_hist[rows][:, None]
        kept = np.minimum(n, HISTORY)
        age = (n - 1 - np.arange(HISTORY)[None, :]) % HISTORY
        below = (age < kept) & (self.hist_r[rows] < level[:, None])
        best = np.where(below, age, HISTORY).min(axis=1)
        best = np.where(best == HISTORY, kept[:, 0] - 1, best)
        return self.hist_t[rows, (n[:, 0] - 1 - best) % HISTORY]

    def _peak_update(self, m: np.ndarray, t_s: float, rate: np.ndarray) -> np.ndarray:
        """``PreSwingPeak.update`` for the lanes in ``m``: where toe-off is due."""
        new = m & (rate > self.peak_rate)
        rebound = m & ~new & (rate > self.trough_rate + self.toe_off_rebound_fraction * self.peak_rate)
        if new.any():
            rows = self._rows[new]
            self.peak_rate[rows] = rate[rows]
            self.trough_rate[rows] = rate[rows]
            self.t_peak[rows] = t_s
            self.t_rise[rows] = self._last_below(rows, self.toe_off_rise_fraction[rows] * rate[rows])
        dip = m & ~new & ~rebound & (rate < self.trough_rate)
        self.trough_rate[dip] = rate[dip]
        if rebound.any():
            self._start_peak(rebound, t_s, rate)
        self._push(m & ~rebound, t_s, rate)
        peak = self.peak_rate
        with np.errstate(invalid="ignore"):  # lanes outside push-off still hold -inf times
            due_at = self.t_peak + self.toe_off_symmetry * (self.t_peak - self.t_rise) + self.to_lag_s
        return m & ~rebound & (
            (rate <= self.toe_off_rate_fraction * peak)
            | ((rate <= self.toe_off_drop_fraction * peak) & (rate <= self.trough_rate) & (t_s >= due_at))
        )

    def update(self, t_s: float, tilt_deg: np.ndarray, rate_dps: np.ndarray, fault: np.ndarray) -> np.ndarray:
        """One sample for every lane; returns the GaitEvent code detected in each (int8)."""
        events = np.zeros(self.n, dtype=np.int8)
        # a sensor fault: no update, and the stride in progress is forgotten once per fault
        new = fault & ~self.interrupted
        if new.any():
            self.phase[new] = STANCE
            self.ho_armed[new] = False
            self.swing_armed[new] = False
            self.prev_tilt[new] = math.nan
            self.t_prev[new] = math.nan
            self.t_heel_strike[new] = -math.inf
            self.stride_max_rate[new] = 0.0
            self.stride_low_deg[new] = math.inf
            self.stride_high_deg[new] = -math.inf
        self.interrupted = fault.copy()
        ok = ~fault
        tilt, rate = tilt_deg, rate_dps
        self.aborted[ok] = False
        prev = self.prev_tilt.copy()
        tp = self.t_prev
        dt = np.where(t_s > tp, t_s - tp, 0.0)
        self.prev_tilt = np.where(ok, tilt, self.prev_tilt)
        self.t_prev = np.where(ok, t_s, self.t_prev)
        move = tilt - prev
        k = np.where(move == move, np.abs(move) * self.adapt_per_deg, 0.0)
        has_rate = ok & (rate == rate)
        with np.errstate(invalid="ignore", divide="ignore"):
            gain = np.where(dt > 0.0, dt / (dt + self.ho_tau_s), 1.0)
        ho_rate = np.where(has_rate, self.ho_rate + (rate - self.ho_rate) * gain, self.ho_rate)
        self.ho_rate = ho_rate
        up = tilt > self.high_deg
        self.high_deg = np.where(ok, np.where(up, tilt, self.high_deg - (self.high_deg - tilt) * k), self.high_deg)
        new_max = ok & (ho_rate > self.stride_max_rate)
        self.stride_max_rate = np.where(new_max, ho_rate, self.stride_max_rate)
        relax = ok & ~new_max & (ho_rate < self.peak_rate_follower)
        pr = self.peak_rate_follower
        self.peak_rate_follower = np.where(relax, pr - (pr - np.where(ho_rate > 0.0, ho_rate, 0.0)) * k, pr)
        down = tilt < self.low_deg
        self.low_deg = np.where(ok, np.where(down, tilt, self.low_deg + (tilt - self.low_deg) * k), self.low_deg)
        self.stride_high_deg = np.where(ok & (tilt > self.stride_high_deg), tilt, self.stride_high_deg)
        self.stride_low_deg = np.where(ok & (tilt < self.stride_low_deg), tilt, self.stride_low_deg)
        span = self.high_deg - self.low_deg
        span = np.where(span < self.min_tilt_range_deg, self.min_tilt_range_deg, span)
        thr = self.low_deg + self.heel_off_fraction * span
        moving = ok & ((ho_rate >= self.still_rate_dps) | (ho_rate <= -self.still_rate_dps))
        self.t_moving[moving] = t_s
        # the shank has stopped in push-off or swing: the walker has stopped
        stopped = ok & (self.phase != STANCE) & (t_s - self.t_moving > self.still_s)
        self.phase[stopped] = STANCE
        self.aborted[stopped] = True
        ok = ok & ~stopped
        phase = self.phase.copy()
        recovering = ho_rate <= -self.swing_recovery_rate_dps
        # --- stance
        m = ok & (phase == STANCE)
        below = m & (tilt < thr)
        self.ho_armed[below] = True
        ho = (
            m & ~below & self.ho_armed & (ho_rate >= self.heel_off_rate_dps)
            & (ho_rate >= self.heel_off_rate_fraction * self.peak_rate_follower)
            & (t_s - self.t_heel_strike >= self.min_stance_s)
        )
        if ho.any():
            self.ho_armed[ho] = False
            self.phase[ho] = PUSH_OFF
            self.t_heel_off[ho] = t_s
            self._start_peak(ho, t_s, rate)
            events[ho] = _HO
        self._enter_swing(m & ~ho & recovering, t_s, tilt)
        # --- push-off
        m = ok & (phase == PUSH_OFF)
        if m.any():
            due = self._peak_update(m, t_s, rate)
            # the tilt range is not known yet: wait for the rate to fall
            due &= (self.strides_seen >= LEARNING_STRIDES) | (rate <= self.toe_off_rate_fraction * self.peak_rate)
            to = (
                due & (t_s - self.t_heel_off >= self.min_push_s)
                & (tilt >= self.low_deg + self.toe_off_min_level * span)
            )
            self._enter_swing(to, t_s, tilt)
            events[to] = _TO
            rest = m & ~to
            swinging = rest & (ho_rate <= -self.min_swing_rate_dps)  # toe-off missed
            self._enter_swing(swinging, t_s, tilt)
            abort = rest & ~swinging & ((tilt < thr - self.hysteresis_deg) | (t_s - self.t_heel_off > self.max_push_s))
            self.phase[abort] = STANCE
            self.aborted[abort] = True
        # --- swing
        m = ok & (phase == SWING)
        if m.any():
            lower = m & (tilt < self.min_tilt)
            self.min_tilt[lower] = tilt[lower]
            self.t_min[lower] = t_s
            arm = m & (ho_rate <= -self.min_swing_rate_dps)
            self.swing_armed[arm] = True
            hs = (
                m & ~arm & self.swing_armed & (tilt >= self.min_tilt + self.heel_strike_rise_deg)
                & (t_s >= self.t_min + self.lag_s) & (t_s - self.t_toe_off >= self.min_swing_s)
            )
            if hs.any():
                self.peak_rate_follower[hs] += (self.stride_max_rate[hs] - self.peak_rate_follower[hs]) * 0.5
                self.stride_max_rate[hs] = 0.0
                pull = hs & (self.stride_high_deg < self.high_deg)
                self.high_deg[pull] += (self.stride_high_deg[pull] - self.high_deg[pull]) * 0.5
                pull = hs & (self.stride_low_deg > self.low_deg)
                self.low_deg[pull] += (self.stride_low_deg[pull] - self.low_deg[pull]) * 0.5
                self.stride_high_deg[hs] = -math.inf
                self.stride_low_deg[hs] = math.inf
                self.phase[hs] = STANCE
                self.t_heel_strike[hs] = t_s
                self.strides_seen[hs] += 1
                events[hs] = _HS
            lost = m & ~hs & (t_s - self.t_toe_off > self.max_swing_s)
            self.phase[lost] = STANCE
            self.aborted[lost] = True
        return events
