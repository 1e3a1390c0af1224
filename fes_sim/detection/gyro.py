"""Shank-gyro gait-event detector with amplitude-adaptive thresholds.

In the project's sign (``gyr_z_dps`` = dψ/dt) the shank rate rises to a positive
pre-swing peak (about +190 °/s in Winter's data), crosses zero as the shank
starts to swing and reaches a large negative mid-swing peak (about −350 °/s),
then rises through zero at the terminal-swing tilt minimum, shortly before heel
contact (Aminian et al. 2002; Catalfamo et al. 2010). Heel-off is the rise of
the pre-swing rate, toe-off its fall from the peak (:mod:`fes_sim.detection.preswing`); every threshold is a
fraction of the walker's own peak rates, followed by envelope followers that relax
per degree of shank rotation (so they adapt while walking, not while standing). A fast backward rotation puts
the detector into swing even when heel-off or toe-off was missed.
"""

from __future__ import annotations

import math

from fes_sim.control.config import GyroDetectorConfig
from fes_sim.detection.preswing import PreSwingPeak, toe_off_rules
from fes_sim.detection.tilt_trigger import DEG_PER_STRIDE, LEARNING_STRIDES
from fes_sim.samples import GaitEvent

STANCE, PUSH_OFF, SWING = 0, 1, 2

_NONE = GaitEvent.NONE
_HO = GaitEvent.HEEL_OFF
_TO = GaitEvent.TOE_OFF
_HS = GaitEvent.HEEL_STRIKE


class ShankGyroDetector:
    """Causal detector on the sagittal shank rate (deg/s).

    Parameters
    ----------
    config : GyroDetectorConfig
        Fractions and timing rules.
    adaptation_strides : float
        Follower time constant in strides' worth (150°) of shank rotation.
    """

    def __init__(self, config: GyroDetectorConfig, adaptation_strides: float = 8.0) -> None:
        self.peak = PreSwingPeak(*toe_off_rules(config))
        self.apply_config(config, adaptation_strides)
        self.reset()

    def apply_config(self, config: GyroDetectorConfig, adaptation_strides: float = 8.0) -> None:
        """Use new rules from the next sample on, keeping the learnt peaks and the
        stride in progress (the ``initial_*`` peaks only take effect at :meth:`reset`)."""
        self.config = config
        self.adapt_per_deg = 1.0 / (adaptation_strides * DEG_PER_STRIDE)
        self.min_stance_s = config.min_stance_ms * 1e-3
        self.min_swing_s = config.min_swing_ms * 1e-3
        self.max_push_s = config.max_push_off_ms * 1e-3
        self.max_swing_s = config.max_swing_ms * 1e-3
        self.max_stance_s = config.max_stance_ms * 1e-3
        self.lag_s = config.heel_strike_lag_ms * 1e-3
        self.peak.configure(*toe_off_rules(config))

    def reset(self) -> None:
        """Back to stance with the initial peak estimates."""
        c = self.config
        self.phase = STANCE
        self.aborted = False
        self.pre_peak_dps = c.initial_pre_swing_peak_dps
        self.swing_peak_dps = c.initial_peak_dps
        self.prev_rate = math.nan
        self.t_prev = math.nan
        self.t_heel_strike = -math.inf
        self.t_heel_off = -math.inf
        self.t_toe_off = -math.inf
        self.swing_armed = False
        self.t_cross = math.inf
        self.rotation_deg = 0.0  # forward shank rotation since heel strike
        self.stance_rotation_deg = c.initial_stance_rotation_deg
        self.stance_rate_dps = 0.0  # mean forward rate from heel strike to toe-off, learnt at each toe-off
        self.strides_seen = 0

    def interrupt(self) -> None:
        """Forget the stride in progress (after a sensor fault), keep the learnt peaks."""
        self.phase = STANCE
        self.swing_armed = False
        self.prev_rate = math.nan
        self.t_prev = math.nan
        self.t_heel_strike = -math.inf

    def update(self, t_s: float, tilt_deg: float, rate_dps: float, footswitch: float = math.nan) -> GaitEvent:
        """One sample; returns the event detected at it or ``GaitEvent.NONE`` (``footswitch`` unused)."""
        self.aborted = False
        prev = self.prev_rate
        self.prev_rate = rate_dps
        tp = self.t_prev
        self.t_prev = t_s
        c = self.config
        if rate_dps != rate_dps:
            return _NONE
        dt = t_s - tp if t_s > tp else 0.0
        k = (rate_dps if rate_dps > 0.0 else -rate_dps) * dt * self.adapt_per_deg
        if rate_dps > self.pre_peak_dps:
            self.pre_peak_dps = rate_dps
        else:
            self.pre_peak_dps -= (self.pre_peak_dps - max(rate_dps, 0.0)) * k
        if -rate_dps > self.swing_peak_dps:
            self.swing_peak_dps = -rate_dps
        else:
            self.swing_peak_dps -= (self.swing_peak_dps - max(-rate_dps, 0.0)) * k
        phase = self.phase
        if phase != SWING:
            self.rotation_deg += rate_dps * dt
        if phase == STANCE:
            thr = c.heel_off_fraction * self.pre_peak_dps
            since_hs = t_s - self.t_heel_strike
            # a slow walker's stance rate can stay flat from loading to push-off, never rising
            # through the threshold: then the rotation the shank has made since heel strike tells
            rotated = (
                self.strides_seen > 0 and since_hs <= self.max_stance_s and rate_dps > 0.0
                and rate_dps >= prev and rate_dps >= c.rotation_min_rate_fraction * self.stance_rate_dps and self.rotation_deg >= c.heel_off_rotation_fraction * self.stance_rotation_deg
            )
            if (prev < thr <= rate_dps or rotated) and since_hs >= self.min_stance_s:
                self.phase = PUSH_OFF
                self.t_heel_off = t_s
                self.peak.start(t_s, rate_dps)
                return _HO
            if rate_dps <= -c.swing_recovery_rate_dps:
                self._enter_swing(t_s)  # heel-off missed
            return _NONE
        if phase == PUSH_OFF:
            due = self.peak.update(t_s, rate_dps)
            if self.strides_seen < LEARNING_STRIDES:  # the stance rotation is not known yet: wait for the rate to fall
                due = due and rate_dps <= c.toe_off_rate_fraction * self.peak.peak_dps
            elif self.rotation_deg < c.toe_off_min_rotation * self.stance_rotation_deg:
                due = False  # a bump on a flat stance rate, well before the end of the stance rotation
            if due:
                self._enter_swing(t_s)
                return _TO
            if rate_dps <= -c.swing_recovery_rate_dps:
                self._enter_swing(t_s)  # toe-off missed; the foot is in swing
                return _NONE
            if t_s - self.t_heel_off > self.max_push_s:
                self.phase = STANCE
                self.t_heel_strike = -math.inf  # not a stride: the rotation rule waits for a heel strike
                self.aborted = True
            return _NONE
        # SWING
        if rate_dps <= -c.swing_fraction * self.swing_peak_dps:
            self.swing_armed = True
            self.t_cross = math.inf
        elif self.swing_armed:
            if self.t_cross == math.inf and prev < c.heel_strike_rate_dps <= rate_dps:
                self.t_cross = t_s
            if t_s >= self.t_cross + self.lag_s and t_s - self.t_toe_off >= self.min_swing_s:
                self.phase = STANCE
                self.t_heel_strike = t_s
                self.rotation_deg = 0.0
                self.strides_seen += 1
                return _HS
        if t_s - self.t_toe_off > self.max_swing_s:
            self.phase = STANCE
            self.aborted = True  # no heel strike came: not a stride, so stimulation stops
        return _NONE

    def _enter_swing(self, t_s: float) -> None:
        if self.phase == PUSH_OFF and self.t_heel_strike > -math.inf:  # learn the stance rotation of this stride
            self.stance_rotation_deg += (self.rotation_deg - self.stance_rotation_deg) * 0.5
            mean_rate = self.rotation_deg / max(t_s - self.t_heel_strike, self.min_stance_s, 1e-3)
            self.stance_rate_dps += (mean_rate - self.stance_rate_dps) * 0.5
        self.phase = SWING
        self.t_toe_off = t_s
        self.swing_armed = False
        self.t_cross = math.inf
