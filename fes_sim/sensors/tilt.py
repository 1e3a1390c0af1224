"""Tilt output of a commercial shank tilt sensor: a gated complementary filter on the IMU.

ψ̂ₖ = α(ψ̂ₖ₋₁ + ωₖΔt) + (1 − α)ψ_acc,ₖ with α = τ/(τ + Δt), ψ_acc = atan2(−f_y, f_x),
and the accelerometer correction frozen while | ‖f‖ − g | exceeds a gate (REFERENCE §6).
Its error grows in push-off and swing, where the shank's own acceleration reaches 1-1.4 g,
as in real devices (about 5 ° rms at τ = 1 s).
"""

from __future__ import annotations

import math

import numpy as np

from fes_sim.samples import GRAVITY_MPS2


class TiltFilter:
    """Complementary filter with state carried between calls."""

    def __init__(self, tau_s: float, gate_g: float, sample_rate_hz: float) -> None:
        dt = 1.0 / sample_rate_hz
        self.dt = dt
        self.alpha = tau_s / (tau_s + dt)
        self.gate = gate_g * GRAVITY_MPS2
        self.tilt_deg: float | None = None

    def run(self, acc_x: np.ndarray, acc_y: np.ndarray, gyr_z_dps: np.ndarray) -> np.ndarray:
        """Filtered tilt (deg) for each sample."""
        acc_tilt = np.degrees(np.arctan2(-acc_y, acc_x)).tolist()
        trust = (np.abs(np.hypot(acc_x, acc_y) - GRAVITY_MPS2) <= self.gate).tolist()
        rate = (np.asarray(gyr_z_dps) * self.dt).tolist()
        out = np.empty(len(acc_tilt))
        a, psi = self.alpha, self.tilt_deg
        for k, (at, ok, dpsi) in enumerate(zip(acc_tilt, trust, rate)):
            if psi is None or math.isnan(psi):
                psi = at
            else:
                psi += dpsi
                if ok:
                    psi = a * psi + (1.0 - a) * at
            out[k] = psi
        self.tilt_deg = psi
        return out
