"""WalkAide-like tilt trigger with adaptive thresholds.

Dai et al. (1996) trigger peroneal stimulation when the shank tilt rises through a
per-patient threshold in late stance; the WalkAide learns those thresholds from a
clinician-marked walk. Here the on-threshold sits at a fraction of each walker's
own tilt range (envelope followers of the tilt extremes), so it follows changes of
speed and amplitude: a new extreme is taken at once, the followers relax slowly per
degree of shank rotation (so standing still does not erode them), and at each
confirmed heel strike they move half-way in to a stride that stayed inside them (a
walker who slows down and shortens the swing is followed within a few strides). The
peak forward rate that the heel-off rate condition scales with is learnt the same way. Toe-off and heel strike come from the
shape of the tilt rate (REFERENCE §2, Winter 2009): the pre-swing rate peaks
35–40 ms before toe-off and toe-off falls where it has dropped to about 0.6–0.8 of
that peak; heel strike follows the terminal-swing tilt minimum by about 36 ms.
"""

from __future__ import annotations

import math

from fes_sim.control.config import TiltTriggerConfig
from fes_sim.detection.preswing import PreSwingPeak, toe_off_rules
from fes_sim.samples import GaitEvent

STANCE, PUSH_OFF, SWING = 0, 1, 2
#: shank rotation per stride of Winter's walker (up and down its 75° range)
DEG_PER_STRIDE = 150.0
#: strides before the learnt tilt range gates toe-off: the first push-off sets the range itself,
#: and a stream that starts while walking needs a stride for the fused tilt to settle
LEARNING_STRIDES = 2
PHASE_LABELS = ("stance", "push_off", "swing")

_NONE = GaitEvent.NONE
_HO = GaitEvent.HEEL_OFF
_TO = GaitEvent.TOE_OFF
_HS = GaitEvent.HEEL_STRIKE


class TiltTriggerDetector:
    """Causal heel-off / toe-off / heel-strike detector on shank tilt and its rate.

    Parameters
    ----------
    config : TiltTriggerConfig
        Thresholds and timing rules.
    adaptation_strides : float
        Time constant of the tilt-extreme followers, in strides' worth of shank
        rotation (150° each), so standing still does not erode the thresholds.

    Attributes
    ----------
    phase : int
        ``STANCE``, ``PUSH_OFF`` or ``SWING``.
    aborted : bool
        True on the one sample where a heel-off turned out not to be one
        (the tilt fell back, or no toe-off came in time): stimulation should stop.
    threshold_deg : float
        The current on-threshold.
    """

    def __init__(self, config: TiltTriggerConfig, adaptation_strides: float = 8.0) -> None:
        self.peak = PreSwingPeak(*toe_off_rules(config))
        self.apply_config(config, adaptation_strides)
        self.reset()

    def apply_config(self, config: TiltTriggerConfig, adaptation_strides: float = 8.0) -> None:
        """Use new rules from the next sample on, keeping the learnt tilt range, peak
        rate and the stride in progress (``heel_off_tilt_deg`` and
        ``initial_peak_rate_dps`` only take effect at the next :meth:`reset`)."""
        self.config = config
        self.adapt_per_deg = 1.0 / (adaptation_strides * DEG_PER_STRIDE)
        self.min_stance_s = config.min_stance_ms * 1e-3
        self.min_swing_s = config.min_swing_ms * 1e-3
        self.min_push_s = config.min_push_off_ms * 1e-3
        self.max_push_s = config.max_push_off_ms * 1e-3
        self.max_swing_s = config.max_swing_ms * 1e-3
        self.lag_s = config.heel_strike_lag_ms * 1e-3
        self.ho_tau_s = config.heel_off_rate_smoothing_ms * 1e-3
        self.still_s = config.still_ms * 1e-3
        self.peak.configure(*toe_off_rules(config))

    def reset(self) -> None:
        """Back to stance with the configured initial threshold."""
        c = self.config
        self.phase = STANCE
        self.aborted = False
        self.threshold_deg = c.heel_off_tilt_deg
        # followers start so that low + fraction*(high-low) equals the initial threshold, with
        # the smallest accepted span, so the first strides widen it at once
        span = c.min_tilt_range_deg
        self.low_deg = c.heel_off_tilt_deg - c.heel_off_fraction * span
        self.high_deg = self.low_deg + span
        self.t_prev = math.nan
        self.prev_tilt = math.nan
        self.t_heel_strike = -math.inf
        self.t_heel_off = -math.inf
        self.t_toe_off = -math.inf
        self.peak_rate_follower = c.initial_peak_rate_dps
        self.strides_seen = 0  # confirmed heel strikes since reset
        self.stride_max_rate = 0.0
        self.stride_low_deg = math.inf
        self.stride_high_deg = -math.inf
        self.ho_rate = 0.0
        self.t_moving = -math.inf  # last sample with the shank turning at least still_rate_dps
        self.min_tilt = math.inf
        self.t_min = 0.0
        self.swing_armed = False
        self.ho_armed = False

    def interrupt(self) -> None:
        """Forget the stride in progress (after a sensor fault), keep the learnt thresholds."""
        self.phase = STANCE
        self.ho_armed = False
        self.swing_armed = False
        self.prev_tilt = math.nan
        self.t_prev = math.nan
        self.t_heel_strike = -math.inf
        self.stride_max_rate = 0.0
        self.stride_low_deg = math.inf
        self.stride_high_deg = -math.inf

    def update(self, t_s: float, tilt_deg: float, rate_dps: float, footswitch: float = math.nan) -> GaitEvent:
        """One sample; returns the event detected at it or ``GaitEvent.NONE`` (``footswitch`` unused)."""
        self.aborted = False
        prev = self.prev_tilt
        self.prev_tilt = tilt_deg
        tp = self.t_prev
        self.t_prev = t_s
        c = self.config
        dt = t_s - tp if t_s > tp else 0.0
        # envelope followers of the tilt extremes relax per degree of shank rotation,
        # so they adapt while walking and hold still while standing or sitting
        move = tilt_deg - prev
        k = (move if move > 0.0 else -move) * self.adapt_per_deg if move == move else 0.0
        ho_rate = self.ho_rate
        if rate_dps == rate_dps:  # the first tilt-channel sample has no rate yet
            self.ho_rate = ho_rate = ho_rate + (rate_dps - ho_rate) * (dt / (dt + self.ho_tau_s) if dt > 0.0 else 1.0)
        if tilt_deg > self.high_deg:
            self.high_deg = tilt_deg
        else:
            self.high_deg -= (self.high_deg - tilt_deg) * k
        if ho_rate > self.stride_max_rate:
            self.stride_max_rate = ho_rate
        elif ho_rate < self.peak_rate_follower:
            # the peak-rate follower relaxes per degree too, so a walker slower than
            # its starting value is learnt even before the first heel strike
            self.peak_rate_follower -= (self.peak_rate_follower - (ho_rate if ho_rate > 0.0 else 0.0)) * k
        if tilt_deg < self.low_deg:
            self.low_deg = tilt_deg
        else:
            self.low_deg += (tilt_deg - self.low_deg) * k
        if tilt_deg > self.stride_high_deg:
            self.stride_high_deg = tilt_deg
        if tilt_deg < self.stride_low_deg:
            self.stride_low_deg = tilt_deg
        span = self.high_deg - self.low_deg
        if span < c.min_tilt_range_deg:
            span = c.min_tilt_range_deg
        thr = self.low_deg + c.heel_off_fraction * span
        self.threshold_deg = thr

        if ho_rate >= c.still_rate_dps or ho_rate <= -c.still_rate_dps:
            self.t_moving = t_s
        phase = self.phase
        if phase != STANCE and t_s - self.t_moving > self.still_s:
            self.phase = STANCE  # the shank has stopped in push-off or swing: the walker has stopped
            self.aborted = True
            return _NONE
        if phase == STANCE:
            if tilt_deg < thr:
                self.ho_armed = True  # a heel-off needs the tilt to have been below the threshold
            elif (
                self.ho_armed
                and ho_rate >= c.heel_off_rate_dps
                and ho_rate >= c.heel_off_rate_fraction * self.peak_rate_follower
                and t_s - self.t_heel_strike >= self.min_stance_s
            ):
                self.ho_armed = False
                self.phase = PUSH_OFF
                self.t_heel_off = t_s
                self.peak.start(t_s, rate_dps)
                return _HO
            if ho_rate <= -c.swing_recovery_rate_dps:
                self._enter_swing(t_s, tilt_deg)
            return _NONE
        if phase == PUSH_OFF:
            due = self.peak.update(t_s, rate_dps)
            if self.strides_seen < LEARNING_STRIDES:  # the tilt range is not known yet: wait for the rate to fall
                due = due and rate_dps <= c.toe_off_rate_fraction * self.peak.peak_dps
            if due and t_s - self.t_heel_off >= self.min_push_s and tilt_deg >= self.low_deg + c.toe_off_min_level * span:
                self._enter_swing(t_s, tilt_deg)
                return _TO
            if ho_rate <= -c.min_swing_rate_dps:
                self._enter_swing(t_s, tilt_deg)  # after a heel-off, backward rotation means swing: toe-off was missed
            elif tilt_deg < thr - c.hysteresis_deg or t_s - self.t_heel_off > self.max_push_s:
                self.phase = STANCE
                self.aborted = True
            return _NONE
        # SWING
        if tilt_deg < self.min_tilt:
            self.min_tilt = tilt_deg
            self.t_min = t_s
        if ho_rate <= -c.min_swing_rate_dps:
            self.swing_armed = True
        elif (
            self.swing_armed
            and tilt_deg >= self.min_tilt + c.heel_strike_rise_deg
            and t_s >= self.t_min + self.lag_s
            and t_s - self.t_toe_off >= self.min_swing_s
        ):
            # walking confirmed: learn half of the way to this stride's peak forward rate, and
            # pull the tilt extremes half-way in to a stride that stayed inside them (a new
            # extreme is taken at once), so a slower, smaller stride is followed in a few strides
            self.peak_rate_follower += (self.stride_max_rate - self.peak_rate_follower) * 0.5
            self.stride_max_rate = 0.0
            if self.stride_high_deg < self.high_deg:
                self.high_deg += (self.stride_high_deg - self.high_deg) * 0.5
            if self.stride_low_deg > self.low_deg:
                self.low_deg += (self.stride_low_deg - self.low_deg) * 0.5
            self.stride_high_deg = -math.inf
            self.stride_low_deg = math.inf
            self.phase = STANCE
            self.t_heel_strike = t_s
            self.strides_seen += 1
            return _HS
        if t_s - self.t_toe_off > self.max_swing_s:
            self.phase = STANCE
            self.aborted = True  # no heel strike came: not a stride, so stimulation stops
        return _NONE

    def _enter_swing(self, t_s: float, tilt_deg: float) -> None:
        self.phase = SWING
        self.t_toe_off = t_s
        self.min_tilt = tilt_deg
        self.t_min = t_s
        self.swing_armed = False
