"""Stimulation timing controller: the state machine that turns gait events into output.

States (REFERENCE §8): ``idle → delay → ramp_up → on → (heel strike) extension →
ramp_down → idle``. A burst is forced into ramp-down, and the ``max_on_time``
flag raised, early enough that the envelope is zero before ``max_on_time_s``
after it rose (the margin covers the ramp and two of the largest accepted time
steps).
``min_off_time_ms`` separates bursts; a heel-off inside it starts the burst when
it has passed (unless heel strike or an abort comes first). A sensor fault ramps the envelope to zero
in at most ``ceil(fault_ramp_down_ms · f_s / 1000)`` samples, counted in samples
because the clock may be what failed, and holds state ``fault`` until the
sensor recovers.

Timing is either fixed (``delay_ms``, ``extension_ms``) or, L300-style, a
percentage of the running averages: the onset delay of the average stance (heel
strike → toe-off, or → heel-off when the detector reports no toe-off), the extension
of the average swing (toe-off, or heel-off, → heel strike), so both scale with the
walker's speed. Besides gait, the controller runs
a test burst, exercise mode (cyclic bursts for a set time) and a manual
(hand-switch) trigger.

Ramps advance by the sample's time step, but by at least one nominal period, so a
clock that runs slow (or stalls) cannot hold the output up: a ramp-down ends within
``ramp_down_ms`` worth of samples, and the on-time is also bounded in samples.

Pulses: the amplitude follows the envelope (``current = envelope · current_ma``)
at a constant pulse width and rate; pulses are laid on an absolute time grid
that starts at the burst onset. With a ``pulse_sink`` list, each pulse is
appended as a :class:`Pulse`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from fes_sim.control.config import ControllerConfig
from fes_sim.detection.faults import MAX_ON_TIME
from fes_sim.samples import GaitEvent

IDLE, DELAY, RAMP_UP, ON, EXTENSION, RAMP_DOWN, FAULT = range(7)
STATE_LABELS: tuple[str, ...] = ("idle", "delay", "ramp_up", "on", "extension", "ramp_down", "fault")

_HS = GaitEvent.HEEL_STRIKE
_HO = GaitEvent.HEEL_OFF
_TO = GaitEvent.TOE_OFF
_FAST = 1e12  # ramp rate (1/s) standing for "no ramp"
_EPS_S = 1e-9  # timers compare with this slack so float sums of sample periods do not slip a sample


class Pulse(NamedTuple):
    """One delivered biphasic pulse: onset time, primary-phase amplitude and width."""

    t_s: float
    current_ma: float
    pulse_width_us: float


class StimController:
    """Streaming stimulation controller.

    Parameters
    ----------
    config : ControllerConfig
        Timing, output and mode (already checked against the stimulator's limits
        by :class:`fes_sim.device.DevicePipeline`).
    sample_rate_hz : float
        Nominal sample rate: the output of a sample lasts one nominal period.
    max_gap_s : float
        Largest time step accepted as valid; sets the max-on-time margin.
    pulse_sink : list or None
        When given, every pulse is appended to it as a :class:`Pulse`.

    Attributes
    ----------
    state : int
        Index into :data:`STATE_LABELS`.
    envelope, current_ma : float
        Output of the latest sample.
    pulses : int
        Pulses delivered in the latest sample period.
    flags : int
        Controller fault bits (``MAX_ON_TIME``).
    avg_stance_s, avg_swing_s : float
        Running averages from the detected events.
    """

    def __init__(
        self,
        config: ControllerConfig,
        sample_rate_hz: float = 200.0,
        max_gap_s: float = 0.05,
        pulse_sink: list | None = None,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.dt_s = 1.0 / sample_rate_hz
        self.pulse_sink = pulse_sink
        self.apply_config(config, max_gap_s)
        self.reset()

    def apply_config(self, config: ControllerConfig, max_gap_s: float = 0.05) -> None:
        """Use new timing and output settings from the next sample on, keeping the
        running averages and timers. Call it while idle: a burst in progress would
        change amplitude and ramps mid-way (:meth:`fes_sim.device.DevicePipeline.retune`
        waits for idle)."""
        st = config.stimulation
        sample_rate_hz = self.sample_rate_hz
        self.config = config
        self.max_gap_s = max_gap_s
        self.up_rate = 1000.0 / st.ramp_up_ms if st.ramp_up_ms > 0 else _FAST
        self.down_rate = 1000.0 / st.ramp_down_ms if st.ramp_down_ms > 0 else _FAST
        fault_ms = config.faults.fault_ramp_down_ms
        self.fault_samples = max(1, math.ceil(fault_ms * 1e-3 * sample_rate_hz))
        self.fault_step = 1.0 / self.fault_samples
        # force ramp-down this long after onset so the envelope is zero by max_on_time_s
        # (the forcing sample and the last ramp sample may each come one accepted step late)
        self.on_limit_s = st.max_on_time_s - st.ramp_down_ms * 1e-3 - 2.0 * max(max_gap_s, self.dt_s)
        self.on_limit_n = int(self.on_limit_s * sample_rate_hz)
        self.period_s = 1.0 / st.frequency_hz
        self.max_pulses = int(self.dt_s * st.frequency_hz) + 1  # per sample period
        self.peak_ma = st.current_ma
        self.min_off_s = st.min_off_time_ms * 1e-3
        self.gait = config.mode == "gait"
        self.exercise = config.mode == "exercise"

    def reset(self) -> None:
        """Idle, zero output, averages back to their defaults."""
        self.state = IDLE
        self.envelope = 0.0
        self.current_ma = 0.0
        self.pulses = 0
        self.flags = 0
        self.t_prev = math.nan
        self.t_start = -math.inf
        self.t_off = -math.inf
        self.t_until = 0.0
        self.n_on = 0
        self.next_pulse_t = math.nan
        self.held = False  # burst started by manual / test / exercise rather than gait
        self.pending = False  # a heel-off waiting for the minimum off-time
        self.manual = False
        self.burst_requested = False
        self.burst_until = -math.inf
        self.t_first = math.nan
        self.avg_stance_s = 0.6
        self.avg_swing_s = 0.4
        self.t_hs = math.nan
        self.t_to = math.nan
        self.t_ho = math.nan

    # ----- external inputs -------------------------------------------------------------
    def test_burst(self) -> None:
        """Deliver one test burst of ``test_burst_ms`` starting at the next sample."""
        self.burst_requested = True

    def set_manual(self, pressed: bool) -> None:
        """Clinician hand switch: stimulate while pressed (max on-time still applies)."""
        self.manual = bool(pressed)

    # ----- timing helpers --------------------------------------------------------------
    def _delay_s(self) -> float:
        st = self.config.stimulation
        if st.timing == "percent":
            return st.delay_pct * 0.01 * self.avg_stance_s
        return st.delay_ms * 1e-3

    def _extension_s(self) -> float:
        st = self.config.stimulation
        if st.timing == "percent":
            return st.extension_pct * 0.01 * self.avg_swing_s
        return st.extension_ms * 1e-3

    def _track(self, t: float, event: int) -> None:
        """Running averages of stance and swing from the event sequence."""
        k = 1.0 / self.config.adaptation_strides
        if event == _HS:
            if self.t_to == self.t_to and self.t_to > self.t_hs:
                self.avg_swing_s += (t - self.t_to - self.avg_swing_s) * k
            self.t_hs = t
        elif event == _TO or (event == _HO and self.config.detector == "footswitch"):
            if self.t_hs == self.t_hs:
                self.avg_stance_s += (t - self.t_hs - self.avg_stance_s) * k
            self.t_to = t

    def _hold_request(self, t: float) -> bool:
        """Whether a manual, test-burst or exercise burst wants output now."""
        if self.burst_requested:
            self.burst_requested = False
            self.burst_until = t + self.config.stimulation.test_burst_ms * 1e-3 - self.config.stimulation.ramp_down_ms * 1e-3
        if self.manual or t < self.burst_until:
            return True
        if self.exercise:
            ex = self.config.exercise
            if self.t_first != self.t_first:
                self.t_first = t
            el = t - self.t_first
            if el < ex.total_s:
                pos = el % (ex.on_s + ex.off_s)
                return pos < ex.on_s - self.config.stimulation.ramp_down_ms * 1e-3
        return False

    # ----- the state machine -----------------------------------------------------------
    def update(self, t_s: float, event: int, fault: int, abort: bool) -> float:
        """Advance one sample; return the envelope (0..1) for the coming period.

        Parameters
        ----------
        t_s : float
            Sample time (only trusted when ``fault`` is 0).
        event : int
            ``GaitEvent`` detected at this sample.
        fault : int
            Active sensor fault bits; non-zero ramps the output down.
        abort : bool
            The detector withdrew its last heel-off (ramp down if stimulating).
        """
        state = self.state
        env = self.envelope
        if fault:
            self.t_prev = math.nan
            if env > 0.0:
                env -= self.fault_step
                if env <= 1e-12:
                    env = 0.0
                    state = FAULT
                else:
                    state = RAMP_DOWN
            else:
                state = FAULT
            self.held = False
            self.n_on = 0
            self.t_off = -math.inf
            self.state = state
            return self._emit(t_s, env)
        tp = self.t_prev
        dt = t_s - tp if tp == tp else 0.0
        if dt > self.max_gap_s:
            dt = self.max_gap_s
        elif tp == tp and dt < self.dt_s:
            dt = self.dt_s  # a slow clock must not stretch a ramp: each sample moves it one nominal period at least
        self.t_prev = t_s
        if event:
            self._track(t_s, event)
        hold = (self.manual or self.exercise or self.burst_requested or t_s < self.burst_until) and self._hold_request(t_s)

        if state == IDLE or state == FAULT:
            if state == FAULT:
                state = IDLE
                self.t_off = t_s
            if self.gait:
                # a heel-off inside the minimum off-time waits for it, until heel strike or abort
                if event == _HO:
                    self.pending = True
                elif event == _HS or abort:
                    self.pending = False
            if self.config.mode != "off" and t_s - self.t_off >= self.min_off_s:
                if hold:
                    self.held = True
                    state, env = self._start(t_s)
                elif self.pending:
                    self.pending = False
                    self.held = False
                    delay = self._delay_s()
                    if delay > 0.0:
                        state = DELAY
                        self.t_until = t_s + delay
                    else:
                        state, env = self._start(t_s)
        elif state == DELAY:
            if event == _HS or abort:
                state = IDLE
            elif t_s >= self.t_until - _EPS_S:
                state, env = self._start(t_s)
        elif state == RAMP_DOWN:
            env -= dt * self.down_rate
            if env <= 1e-12:
                env = 0.0
                state = IDLE
                self.t_off = t_s
                self.held = False
        else:  # RAMP_UP, ON, EXTENSION
            self.n_on += 1
            if t_s - self.t_start >= self.on_limit_s or self.n_on >= self.on_limit_n:
                state = RAMP_DOWN
                self.flags |= MAX_ON_TIME
            elif self.held:
                if not hold:
                    state = RAMP_DOWN
            elif abort:
                state = RAMP_DOWN
            elif state != EXTENSION and event == _HS:
                self.t_until = t_s + self._extension_s()
                state = EXTENSION
            elif state == EXTENSION and t_s >= self.t_until - _EPS_S:
                state = RAMP_DOWN
            if state == RAMP_DOWN:
                env -= dt * self.down_rate
                if env < 0.0:
                    env = 0.0
            elif env < 1.0:
                env += dt * self.up_rate
                if env >= 1.0:
                    env = 1.0
                    if state == RAMP_UP:
                        state = ON
        self.state = state
        return self._emit(t_s, env)

    def _start(self, t_s: float) -> tuple[int, float]:
        """Begin a burst: first ramp step over one nominal period; clears the on-time flag."""
        self.t_start = t_s
        self.n_on = 1
        self.flags &= ~MAX_ON_TIME
        env = self.dt_s * self.up_rate
        return (ON, 1.0) if env >= 1.0 else (RAMP_UP, env)

    def _emit(self, t_s: float, env: float) -> float:
        """Store the envelope, the current and the pulses of the coming sample period."""
        self.envelope = env
        if env <= 0.0:
            self.current_ma = 0.0
            self.pulses = 0
            self.next_pulse_t = math.nan
            return env
        cur = env * self.peak_ma
        self.current_ma = cur
        nxt = self.next_pulse_t
        if not nxt >= t_s:  # onset, a time jump, or nan
            nxt = t_s
        end = t_s + self.dt_s
        n = 0
        sink = self.pulse_sink
        while nxt < end and n < self.max_pulses:  # the bound also guards against huge t_s
            if sink is not None:
                sink.append(Pulse(nxt, cur, self.config.stimulation.pulse_width_us))
            nxt += self.period_s
            n += 1
        self.next_pulse_t = nxt
        self.pulses = n
        return env
