"""The stimulation controller over many lanes at once (one compiled pass over lanes and samples).

:class:`ControllerLanes` is :class:`fes_sim.control.controller.StimController` in
gait mode, with the state of every lane held in arrays: lane ``i`` runs the
controller built from ``configs[i]``. Its step (:func:`_advance`, compiled with
numba) executes the same floating-point operations in the same order as the scalar
state machine, so envelopes, currents, pulse counts and charges are identical
(``tests/test_tune_lanes.py`` checks this sample by sample). Test bursts, the hand
switch and exercise mode are interactive features outside tuning; a lane whose mode
is ``off`` never stimulates.

The controller reads only detected events, fault flags and aborts, never the
plant, so :meth:`ControllerLanes.run` advances every lane over a whole block of
samples in one call.
"""

from __future__ import annotations

import math
from typing import Sequence

import numba
import numpy as np

from fes_sim.control.config import ControllerConfig
from fes_sim.control.controller import DELAY, EXTENSION, FAULT, IDLE, ON, RAMP_DOWN, RAMP_UP
from fes_sim.errors import ConfigError
from fes_sim.samples import GaitEvent

_HS, _HO, _TO = int(GaitEvent.HEEL_STRIKE), int(GaitEvent.HEEL_OFF), int(GaitEvent.TOE_OFF)
_FAST = 1e12  # as in the scalar controller: a ramp of 0 ms
_EPS_S = 1e-9  # the scalar controller's timer slack

#: per-lane settings, rows of ``ControllerLanes.P`` (floats)
(P_MAX_GAP_S, P_UP_RATE, P_DOWN_RATE, P_FAULT_STEP, P_ON_LIMIT_S, P_ON_LIMIT_N, P_PERIOD_S, P_MAX_PULSES, P_PEAK_MA,
 P_CHARGE_PER_PULSE_UC, P_MIN_OFF_S, P_ACTIVE, P_PERCENT, P_DELAY_MS, P_DELAY_PCT, P_EXTENSION_MS, P_EXTENSION_PCT, P_K_ADAPT,
 P_STANCE_ON_HEEL_OFF) = range(19)
#: per-lane state, rows of ``ControllerLanes.S`` (floats; state, counters and flags as whole numbers)
(S_STATE, S_ENVELOPE, S_CURRENT_MA, S_CHARGE_UC, S_PULSES, S_T_PREV, S_T_START, S_T_OFF, S_T_UNTIL, S_N_ON, S_PENDING,
 S_NEXT_PULSE_T, S_AVG_STANCE_S, S_AVG_SWING_S, S_T_HS, S_T_TO) = range(16)


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
        self.n = len(configs)
        self.dt_s = 1.0 / sample_rate_hz
        P = self.P = np.zeros((19, self.n))
        for i, c in enumerate(configs):
            s, gap_s = c.stimulation, c.faults.max_gap_ms * 1e-3
            on_limit_s = s.max_on_time_s - s.ramp_down_ms * 1e-3 - 2.0 * max(gap_s, self.dt_s)
            P[:, i] = (
                gap_s,
                1000.0 / s.ramp_up_ms if s.ramp_up_ms > 0 else _FAST,
                1000.0 / s.ramp_down_ms if s.ramp_down_ms > 0 else _FAST,
                1.0 / max(1, math.ceil(c.faults.fault_ramp_down_ms * 1e-3 * sample_rate_hz)),
                on_limit_s,
                int(on_limit_s * sample_rate_hz),
                1.0 / s.frequency_hz,
                int(self.dt_s * s.frequency_hz) + 1,
                s.current_ma,
                s.pulse_width_us * 1e-3,
                s.min_off_time_ms * 1e-3,
                c.mode != "off",
                s.timing == "percent",
                s.delay_ms,
                s.delay_pct,
                s.extension_ms,
                s.extension_pct,
                1.0 / c.adaptation_strides,
                c.detector == "footswitch",
            )
        self.reset()

    def reset(self) -> None:
        """Idle, zero output, running averages back to their defaults (as ``StimController.reset``)."""
        S = self.S = np.zeros((16, self.n))
        S[S_STATE] = IDLE
        S[S_T_PREV] = math.nan
        S[S_T_START] = -math.inf
        S[S_T_OFF] = -math.inf
        S[S_NEXT_PULSE_T] = math.nan
        S[S_AVG_STANCE_S] = 0.6
        S[S_AVG_SWING_S] = 0.4
        S[S_T_HS] = math.nan
        S[S_T_TO] = math.nan

    state = property(lambda self: self.S[S_STATE].astype(np.int8))
    envelope = property(lambda self: self.S[S_ENVELOPE].copy())
    current_ma = property(lambda self: self.S[S_CURRENT_MA].copy())
    charge_uc = property(lambda self: self.S[S_CHARGE_UC].copy())
    pulses = property(lambda self: self.S[S_PULSES].astype(np.int64))

    def run(
        self, t_s: np.ndarray, events: np.ndarray, faults: np.ndarray, aborts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every lane over the samples taken at ``t_s``.

        ``events`` (GaitEvent codes), ``faults`` (bool: any sensor fault active) and
        ``aborts`` (bool: the detector withdrew its heel-off) are (lanes, samples).
        Returns envelope, current (mA) and charge (µC) of each sample period, each
        (samples, lanes).
        """
        shape = (len(t_s), self.n)
        env, cur, charge = np.empty(shape), np.empty(shape), np.empty(shape)
        _advance(
            np.asarray(t_s, float), np.asarray(events, np.int8), np.asarray(faults, np.bool_), np.asarray(aborts, np.bool_),
            self.dt_s, self.P, self.S, env, cur, charge,
        )
        return env, cur, charge

    def update(self, t_s: float, event: np.ndarray, fault: np.ndarray, abort: np.ndarray) -> np.ndarray:
        """Advance every lane by one sample taken at ``t_s``; return the envelopes."""
        col = lambda x: np.asarray(x).reshape(-1, 1)  # noqa: E731
        return self.run(np.array([t_s]), col(event), col(fault), col(abort))[0][0]


@numba.njit(cache=True)
def _start(P, S, i, t_s, dt_s):
    """Begin a burst in lane ``i``: first ramp step over one nominal period; returns (state, envelope)."""
    S[S_T_START, i] = t_s
    S[S_N_ON, i] = 1
    env = dt_s * P[P_UP_RATE, i]
    return (ON, 1.0) if env >= 1.0 else (RAMP_UP, env)


@numba.njit(cache=True)
def _fault_ramp(env, step):
    """State and envelope one sample into a sensor fault: down by ``step`` per sample, then FAULT."""
    if env <= 0.0:
        return FAULT, env
    env -= step
    return (FAULT, 0.0) if env <= 1e-12 else (RAMP_DOWN, env)


@numba.njit(cache=True)
def _timing(P, S, i, pct_row, ms_row, avg_row):
    """Delay or extension (s) of lane ``i``: % of the running average in ``avg_row`` or fixed ms."""
    if P[P_PERCENT, i]:
        return P[pct_row, i] * 0.01 * S[avg_row, i]
    return P[ms_row, i] * 1e-3


@numba.njit(cache=True)
def _advance(t, events, faults, aborts, dt_s, P, S, env_out, cur_out, charge_out):  # noqa: C901 - one state machine
    """Every lane through samples ``t``: :meth:`StimController.update` and ``_emit`` in gait mode."""
    for i in range(S.shape[1]):
        for k in range(t.size):
            t_s = t[k]
            state = int(S[S_STATE, i])
            env = S[S_ENVELOPE, i]
            event = events[i, k]
            abort = aborts[i, k]
            if faults[i, k]:
                S[S_T_PREV, i] = math.nan
                state, env = _fault_ramp(env, P[P_FAULT_STEP, i])
                S[S_N_ON, i] = 0
                S[S_T_OFF, i] = -math.inf
            else:
                tp = S[S_T_PREV, i]
                dt = t_s - tp if tp == tp else 0.0
                if dt > P[P_MAX_GAP_S, i]:
                    dt = P[P_MAX_GAP_S, i]
                elif tp == tp and dt < dt_s:
                    dt = dt_s  # a slow clock must not stretch a ramp
                S[S_T_PREV, i] = t_s
                # running averages of stance and swing (percent timing)
                if event == _HS:
                    if S[S_T_TO, i] == S[S_T_TO, i] and S[S_T_TO, i] > S[S_T_HS, i]:
                        S[S_AVG_SWING_S, i] += (t_s - S[S_T_TO, i] - S[S_AVG_SWING_S, i]) * P[P_K_ADAPT, i]
                    S[S_T_HS, i] = t_s
                elif event == _TO or (event == _HO and P[P_STANCE_ON_HEEL_OFF, i]):
                    if S[S_T_HS, i] == S[S_T_HS, i]:
                        S[S_AVG_STANCE_S, i] += (t_s - S[S_T_HS, i] - S[S_AVG_STANCE_S, i]) * P[P_K_ADAPT, i]
                    S[S_T_TO, i] = t_s
                if state == IDLE or state == FAULT:
                    if state == FAULT:
                        state = IDLE
                        S[S_T_OFF, i] = t_s
                    if P[P_ACTIVE, i]:
                        if event == _HO:
                            S[S_PENDING, i] = 1
                        elif event == _HS or abort:
                            S[S_PENDING, i] = 0
                        if t_s - S[S_T_OFF, i] >= P[P_MIN_OFF_S, i] and S[S_PENDING, i]:
                            S[S_PENDING, i] = 0
                            delay = _timing(P, S, i, P_DELAY_PCT, P_DELAY_MS, S_AVG_STANCE_S)
                            if delay > 0.0:
                                state = DELAY
                                S[S_T_UNTIL, i] = t_s + delay
                            else:
                                state, env = _start(P, S, i, t_s, dt_s)
                elif state == DELAY:
                    if event == _HS or abort:
                        state = IDLE
                    elif t_s >= S[S_T_UNTIL, i] - _EPS_S:
                        state, env = _start(P, S, i, t_s, dt_s)
                elif state == RAMP_DOWN:
                    env -= dt * P[P_DOWN_RATE, i]
                    if env <= 1e-12:
                        env = 0.0
                        state = IDLE
                        S[S_T_OFF, i] = t_s
                else:  # RAMP_UP, ON, EXTENSION
                    S[S_N_ON, i] += 1
                    if t_s - S[S_T_START, i] >= P[P_ON_LIMIT_S, i] or S[S_N_ON, i] >= P[P_ON_LIMIT_N, i]:
                        state = RAMP_DOWN
                    elif abort:
                        state = RAMP_DOWN
                    elif state != EXTENSION and event == _HS:
                        S[S_T_UNTIL, i] = t_s + _timing(P, S, i, P_EXTENSION_PCT, P_EXTENSION_MS, S_AVG_SWING_S)
                        state = EXTENSION
                    elif state == EXTENSION and t_s >= S[S_T_UNTIL, i] - _EPS_S:
                        state = RAMP_DOWN
                    if state == RAMP_DOWN:
                        env -= dt * P[P_DOWN_RATE, i]
                        if env < 0.0:
                            env = 0.0
                    elif env < 1.0:
                        env += dt * P[P_UP_RATE, i]
                        if env >= 1.0:
                            env = 1.0
                            if state == RAMP_UP:
                                state = ON
            # output of the coming sample period (StimController._emit)
            S[S_STATE, i] = state
            S[S_ENVELOPE, i] = env
            cur, n, charge = 0.0, 0, 0.0
            if env > 0.0:
                cur = env * P[P_PEAK_MA, i]
                nxt = S[S_NEXT_PULSE_T, i]
                if not nxt >= t_s:
                    nxt = t_s
                end = t_s + dt_s
                while nxt < end and n < P[P_MAX_PULSES, i]:
                    nxt += P[P_PERIOD_S, i]
                    n += 1
                S[S_NEXT_PULSE_T, i] = nxt
                if n > 0:
                    charge = n * cur * P[P_CHARGE_PER_PULSE_UC, i]
            else:
                S[S_NEXT_PULSE_T, i] = math.nan
            S[S_CURRENT_MA, i] = cur
            S[S_PULSES, i] = n
            S[S_CHARGE_UC, i] = charge
            env_out[k, i] = env
            cur_out[k, i] = cur
            charge_out[k, i] = charge
