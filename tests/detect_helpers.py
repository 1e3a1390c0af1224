"""Synthetic shank signals for detector and controller tests (Winter 2009 shank tilt series).

The shank tilt ψ(φ) is the 6-harmonic Fourier fit of REFERENCE §2; the phase is
warped piecewise-linearly so toe-off lands at ``stance`` of the stride. Heel
strike is φ = 0. These are test fixtures, independent of the simulator.
"""

from __future__ import annotations

import numpy as np

from fes_sim.samples import GRAVITY_MPS2, GaitEvent, ShankSample

A = (-26.36, -8.08, 0.41, -0.69, 0.02, 0.19)
B = (-12.46, 9.98, 1.91, 0.79, 0.58, 0.18)
A0 = 15.26
WINTER_TOE_OFF = 0.609


def winter_tilt(phase: np.ndarray) -> np.ndarray:
    """Shank tilt (deg) of Winter's normative stride at phase 0..1 (heel strike at 0)."""
    out = np.full_like(phase, A0, dtype=float)
    for k, (a, b) in enumerate(zip(A, B), start=1):
        out += a * np.cos(2 * np.pi * k * phase) + b * np.sin(2 * np.pi * k * phase)
    return out


def walk(
    n_strides: int = 30,
    stride_s: float = 1.0,
    stance: float = 0.61,
    scale: float = 1.0,
    offset_deg: float = 0.0,
    cv: float = 0.0,
    noise_deg: float = 0.0,
    fs: float = 200.0,
    t0: float = 0.0,
    seed: int = 0,
):
    """Tilt, gyro and accelerometer samples of a walk, with the true events.

    Returns ``(t, tilt, gyr_z, acc_x, acc_y, events)`` where events is a list of
    ``(t_s, GaitEvent)`` (heel strikes and toe-offs).
    """
    rng = np.random.default_rng(seed)
    durations = stride_s * (1 + cv * rng.standard_normal(n_strides))
    edges = np.concatenate([[0.0], np.cumsum(durations)])
    t = np.arange(0.0, edges[-1], 1.0 / fs)
    idx = np.searchsorted(edges, t, side="right") - 1
    local = (t - edges[idx]) / durations[idx]
    # warp: [0, stance] -> [0, 0.609], [stance, 1] -> [0.609, 1]
    warped = np.where(local < stance, local * WINTER_TOE_OFF / stance,
                      WINTER_TOE_OFF + (local - stance) * (1 - WINTER_TOE_OFF) / (1 - stance))
    tilt = offset_deg + scale * (winter_tilt(warped) - A0) + A0 * scale
    gyr = np.gradient(tilt, t)
    tilt = tilt + noise_deg * rng.standard_normal(t.size)
    rad = np.radians(tilt)
    acc_x = GRAVITY_MPS2 * np.cos(rad)
    acc_y = -GRAVITY_MPS2 * np.sin(rad)
    events = [(float(e + t0), GaitEvent.HEEL_STRIKE) for e in edges[1:]]
    events += [(float(edges[i] + stance * durations[i] + t0), GaitEvent.TOE_OFF) for i in range(n_strides)]
    events.sort(key=lambda e: e[0])
    return t + t0, tilt, gyr, acc_x, acc_y, events


def samples(t, tilt=None, gyr=None, acc_x=None, acc_y=None, footswitch=None):
    """Fresh ShankSample objects for the given channels (others nan)."""
    out = []
    for i in range(len(t)):
        s = ShankSample(float(t[i]))
        if tilt is not None:
            s.tilt_deg = float(tilt[i])
        if gyr is not None:
            s.gyr_z_dps = float(gyr[i])
        if acc_x is not None:
            s.acc_x_mps2 = float(acc_x[i])
            s.acc_y_mps2 = float(acc_y[i])
            s.acc_z_mps2 = 0.0
        if footswitch is not None:
            s.footswitch = float(footswitch[i])
        out.append(s)
    return out


def run(pipe, sample_list):
    """Feed samples; return (detected events, envelope array, states, outputs as dicts)."""
    events, env, states, faults = [], [], [], []
    for s in sample_list:
        o = pipe.update(s)
        if o.event:
            events.append((o.t_s, o.event))
        env.append(o.envelope)
        states.append(o.state)
        faults.append(o.faults)
    return events, np.array(env), states, faults
