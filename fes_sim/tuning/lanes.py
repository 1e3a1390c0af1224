"""The stimulation controller over many lanes at once (one numpy pass per sample).

:class:`ControllerLanes` is :class:`fes_sim.control.controller.StimController` in
gait mode, with the state of every lane held in arrays: lane ``i`` runs the
controller built from ``configs[i]``. It executes the same floating-point
operations in the same order as the scalar state machine, so envelopes, currents,
pulse counts and charges are identical (``tests/test_tune_lanes.py`` checks this
sample by sample). Test bursts, the hand switch and exercise mode are interactive
features outside tuning; a lane whose mode is ``off`` never stimulates.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from fes_sim.control.config import ControllerConfig
from fes_sim.control.controller import DELAY, EXTENSION, FAULT, IDLE, ON, RAMP_DOWN, RAMP_UP
from fes_sim.errors import ConfigError
from fes_sim.samples import GaitEvent

_HS, _HO, _TO = int(GaitEvent.HEEL_STRIKE), int(GaitEvent.HEEL_OFF), int(GaitEvent.TOE_OFF)
_FAST = 1e12  # as in the scalar controller: a ramp of 0 ms
_EPS_S = 1e-9  # the scalar controller's timer slack


class ControllerLanes:
    """Many gait-mode stimulation controllers stepped together.

    Parameters
    ----------
    configs : sequence of ControllerConfig
        One per lane (already checked against the stimulator's limits).
    sample_rate_hz : float
        Nominal sample rate.

    Attributes
    ----------
    state : ndarray of int8
        Controller state of each lane (index into ``STATE_LABELS``).
    envelope, current_ma, charge_uc : ndarray of float
        Output of the latest sample per lane; ``charge_uc`` is the charge delivered
        over the coming sample period (pulses × current × pulse width).
    pulses : ndarray of int
        Pulses in the coming sample period.
    """

    def __init__(self, configs: Sequence[ControllerConfig], sample_rate_hz: float = 200.0) -> None:
        if not configs:
            raise ConfigError("configs: at least one lane is needed")
        for c in configs:
            if c.mode == "exercise":
                raise ConfigError("mode: exercise mode is not a tuning target (use gait or off)")
        st = [c.stimulation for c in configs]
        arr = lambda xs: np.array(xs, dtype=float)  # noqa: E731
        self.n = len(configs)
        self.dt_s = 1.0 / sample_rate_hz
        self.max_gap_s = arr([c.faults.max_gap_ms * 1e-3 for c in configs])
        self.up_rate = arr([1000.0 / s.ramp_up_ms if s.ramp_up_ms > 0 else _FAST for s in st])
        self.down_rate = arr([1000.0 / s.ramp_down_ms if s.ramp_down_ms > 0 else _FAST for s in st])
        fault_n = [max(1, math.ceil(c.faults.fault_ramp_down_ms * 1e-3 * sample_rate_hz)) for c in configs]
        self.fault_step = arr([1.0 / n for n in fault_n])
        self.on_limit_s = arr([
            s.max_on_time_s - s.ramp_down_ms * 1e-3 - 2.0 * max(c.faults.max_gap_ms * 1e-3, self.dt_s) for s, c in zip(st, configs)
        ])
        self.on_limit_n = np.array([int(x * sample_rate_hz) for x in self.on_limit_s], dtype=np.int64)
        self.period_s = arr([1.0 / s.frequency_hz for s in st])
        self.max_pulses = np.array([int(self.dt_s * s.frequency_hz) + 1 for s in st], dtype=np.int64)
        self.peak_ma = arr([s.current_ma for s in st])
        self.charge_per_pulse_uc = arr([s.pulse_width_us * 1e-3 for s in st])
        self.min_off_s = arr([s.min_off_time_ms * 1e-3 for s in st])
        self.active = np.array([c.mode != "off" for c in configs])
        self.percent = np.array([s.timing == "percent" for s in st])
        self.delay_ms = arr([s.delay_ms for s in st])
        self.delay_pct = arr([s.delay_pct for s in st])
        self.extension_ms = arr([s.extension_ms for s in st])
        self.extension_pct = arr([s.extension_pct for s in st])
        self.k_adapt = arr([1.0 / c.adaptation_strides for c in configs])
        self.stance_on_heel_off = np.array([c.detector == "footswitch" for c in configs])
        self.reset()

    def reset(self) -> None:
        """Idle, zero output, running averages back to their defaults (as ``StimController.reset``)."""
        n = self.n
        self.state = np.full(n, IDLE, dtype=np.int8)
        self.envelope = np.zeros(n)
        self.current_ma = np.zeros(n)
        self.charge_uc = np.zeros(n)
        self.pulses = np.zeros(n, dtype=np.int64)
        self.t_prev = np.full(n, math.nan)
        self.t_start = np.full(n, -math.inf)
        self.t_off = np.full(n, -math.inf)
        self.t_until = np.zeros(n)
        self.n_on = np.zeros(n, dtype=np.int64)
        self.pending = np.zeros(n, dtype=bool)  # a heel-off waiting for the minimum off-time
        self.next_pulse_t = np.full(n, math.nan)
        self.avg_stance_s = np.full(n, 0.6)
        self.avg_swing_s = np.full(n, 0.4)
        self.t_hs = np.full(n, math.nan)
        self.t_to = np.full(n, math.nan)

    def _timing(self, pct: np.ndarray, ms: np.ndarray, m: np.ndarray, avg_s: np.ndarray) -> np.ndarray:
        """Delay or extension (s) of the lanes in mask ``m``: % of the average ``avg_s`` or fixed ms."""
        return np.where(self.percent[m], pct[m] * 0.01 * avg_s[m], ms[m] * 1e-3)

    def _start(self, m: np.ndarray, t_s: float, state: np.ndarray, env: np.ndarray) -> None:
        """Begin a burst in the lanes of mask ``m``: first ramp step over one nominal period."""
        self.t_start[m] = t_s
        self.n_on[m] = 1
        e = self.dt_s * self.up_rate[m]
        full = e >= 1.0
        state[m] = np.where(full, ON, RAMP_UP)
        env[m] = np.where(full, 1.0, e)

    def update(self, t_s: float, event: np.ndarray, fault: np.ndarray, abort: np.ndarray) -> np.ndarray:
        """Advance every lane by one sample taken at ``t_s``; return the envelopes.

        ``event`` (GaitEvent codes), ``fault`` (bool: any sensor fault active) and
        ``abort`` (bool: the detector withdrew its heel-off) have one value per lane.
        """
        state = self.state.copy()
        env = self.envelope.copy()
        s0 = self.state
        # --- sensor fault: ramp down in samples, hold FAULT
        f = fault
        if f.any():
            self.t_prev[f] = math.nan
            fe = env[f] - self.fault_step[f]
            was_on = env[f] > 0.0
            zero = was_on & (fe <= 1e-12)
            env[f] = np.where(was_on, np.where(zero, 0.0, fe), env[f])
            state[f] = np.where(was_on & ~zero, RAMP_DOWN, FAULT)
            self.n_on[f] = 0
            self.t_off[f] = -math.inf
        ok = ~f
        tp = self.t_prev
        dt = np.where(tp == tp, t_s - tp, 0.0)
        dt = np.where(dt > self.max_gap_s, self.max_gap_s, np.where((tp == tp) & (dt < self.dt_s), self.dt_s, dt))
        self.t_prev = np.where(ok, t_s, self.t_prev)
        # --- running average stance and swing (percent timing)
        hs = ok & (event == _HS)
        swing_end = hs & (self.t_to == self.t_to) & (self.t_to > self.t_hs)
        self.avg_swing_s[swing_end] += (t_s - self.t_to[swing_end] - self.avg_swing_s[swing_end]) * self.k_adapt[swing_end]
        stance_end = ok & ((event == _TO) | ((event == _HO) & self.stance_on_heel_off))
        if stance_end.any():
            upd = stance_end & (self.t_hs == self.t_hs)
            self.avg_stance_s[upd] += (t_s - self.t_hs[upd] - self.avg_stance_s[upd]) * self.k_adapt[upd]
            self.t_to[stance_end] = t_s
        self.t_hs[hs] = t_s
        # --- idle or recovering from a fault
        m = ok & ((s0 == IDLE) | (s0 == FAULT))
        if m.any():
            rec = m & (s0 == FAULT)
            state[rec] = IDLE
            self.t_off[rec] = t_s
            gait = m & self.active
            self.pending[gait & (event == _HO)] = True
            self.pending[gait & (event != _HO) & ((event == _HS) | abort)] = False
            go = gait & (t_s - self.t_off >= self.min_off_s) & self.pending
            if go.any():
                self.pending[go] = False
                delay = np.zeros(self.n)
                delay[go] = self._timing(self.delay_pct, self.delay_ms, go, self.avg_stance_s)
                wait = go & (delay > 0.0)
                state[wait] = DELAY
                self.t_until[wait] = t_s + delay[wait]
                now = go & ~wait
                if now.any():
                    self._start(now, t_s, state, env)
        # --- waiting for the onset delay
        m = ok & (s0 == DELAY)
        if m.any():
            cancel = m & ((event == _HS) | abort)
            state[cancel] = IDLE
            due = m & ~cancel & (t_s >= self.t_until - _EPS_S)
            if due.any():
                self._start(due, t_s, state, env)
        # --- ramping down
        m = ok & (s0 == RAMP_DOWN)
        if m.any():
            env[m] -= dt[m] * self.down_rate[m]
            done = m & (env <= 1e-12)
            env[done] = 0.0
            state[done] = IDLE
            self.t_off[done] = t_s
        # --- stimulating: ramp up, on, extension
        m = ok & ((s0 == RAMP_UP) | (s0 == ON) | (s0 == EXTENSION))
        if m.any():
            self.n_on[m] += 1
            limit = m & ((t_s - self.t_start >= self.on_limit_s) | (self.n_on >= self.on_limit_n))
            rest = m & ~limit
            stop = limit | (rest & abort)
            rest &= ~abort
            ext = rest & (s0 != EXTENSION) & (event == _HS)
            if ext.any():
                self.t_until[ext] = t_s + self._timing(self.extension_pct, self.extension_ms, ext, self.avg_swing_s)
            ext_end = rest & ~ext & (s0 == EXTENSION) & (t_s >= self.t_until - _EPS_S)
            stop |= ext_end
            state[ext] = EXTENSION
            state[stop] = RAMP_DOWN
            down = stop
            env[down] -= dt[down] * self.down_rate[down]
            env[down & (env < 0.0)] = 0.0
            up = m & ~down & (env < 1.0)
            env[up] += dt[up] * self.up_rate[up]
            full = up & (env >= 1.0)
            env[full] = 1.0
            state[full & (state == RAMP_UP)] = ON
        self.state = state
        self._emit(t_s, env)
        return env

    def _emit(self, t_s: float, env: np.ndarray) -> None:
        """Envelope, current, pulses and charge of the coming sample period (as ``StimController._emit``)."""
        self.envelope = env
        on = env > 0.0
        cur = np.where(on, env * self.peak_ma, 0.0)
        self.current_ma = cur
        nxt = np.where(on & (self.next_pulse_t >= t_s), self.next_pulse_t, t_s)
        end = t_s + self.dt_s
        n = np.zeros(self.n, dtype=np.int64)
        due = on & (nxt < end)
        while due.any():
            nxt[due] += self.period_s[due]
            n[due] += 1
            due &= (nxt < end) & (n < self.max_pulses)
        self.next_pulse_t = np.where(on, nxt, math.nan)
        self.pulses = n
        self.charge_uc = np.where(n > 0, n * cur * self.charge_per_pulse_uc, 0.0)
