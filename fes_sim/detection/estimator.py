"""Shank tilt estimation: a gated complementary filter, or a ready tilt channel.

Complementary filter (REFERENCE §6): ψ̂ₖ = α(ψ̂ₖ₋₁ + ωₖΔt) + (1 − α)ψ_acc,ₖ with
α = τ/(τ + Δt) and ψ_acc = atan2(−f_y, f_x) in the frame of :mod:`fes_sim.samples`.
The accelerometer correction is frozen while |‖f‖ − g| exceeds a gate, because
push-off and swing accelerations of 1–1.4 g make accelerometer tilt tens of
degrees wrong. A commercial tilt sensor delivers ψ directly; then the rate is the
gyro when present, else a lightly smoothed difference of the tilt.
"""

from __future__ import annotations

import math

from fes_sim.control.config import EstimatorConfig
from fes_sim.samples import GRAVITY_MPS2, ShankSample

_DEG = 180.0 / math.pi
_isfinite = math.isfinite
_atan2 = math.atan2
_sqrt = math.sqrt


class TiltEstimator:
    """Streaming tilt ψ (deg) and tilt rate dψ/dt (deg/s) from one shank sensor.

    Parameters
    ----------
    config : EstimatorConfig
        Source selection, filter time constant and accelerometer gate.
    sample_rate_hz : float
        Nominal sample rate; the filter uses the nominal Δt so that a jittery or
        broken clock cannot destabilise it (time faults are handled upstream).

    Attributes
    ----------
    tilt_deg, rate_dps : float
        Latest estimate; ``nan`` while the selected input is missing.
    use_tilt_channel : bool or None
        Which input is used; ``None`` until the first valid sample (``source="auto"``).
    """

    def __init__(self, config: EstimatorConfig, sample_rate_hz: float = 200.0) -> None:
        self.config = config
        self.dt_s = 1.0 / sample_rate_hz
        self.alpha = config.tau_s / (config.tau_s + self.dt_s)
        self.rate_alpha = self.dt_s / (config.rate_smoothing_ms * 1e-3 + self.dt_s)
        self.gate_mps2 = config.acc_gate_g * GRAVITY_MPS2
        self.reset()

    def reset(self) -> None:
        """Forget the state; the next valid sample restarts the estimate."""
        src = self.config.source
        self.use_tilt_channel: bool | None = None if src == "auto" else src == "tilt"
        self.rate_from_gyro: bool | None = None
        self.tilt_deg = math.nan
        self.rate_dps = math.nan
        self._prev_tilt = math.nan

    def update(self, s: ShankSample) -> float:
        """Take one sample; return the tilt estimate in degrees (``nan`` if no input)."""
        use_tilt = self.use_tilt_channel
        if use_tilt is None:
            if _isfinite(s.tilt_deg):
                use_tilt = self.use_tilt_channel = True
            elif _isfinite(s.acc_x_mps2) and _isfinite(s.gyr_z_dps):
                use_tilt = self.use_tilt_channel = False
            else:
                return math.nan
        if use_tilt:
            tilt = s.tilt_deg
            if self.rate_from_gyro is None and _isfinite(tilt):
                self.rate_from_gyro = _isfinite(s.gyr_z_dps)
            if self.rate_from_gyro:
                self.rate_dps = s.gyr_z_dps
            else:
                prev = self._prev_tilt
                if prev == prev:  # not nan
                    raw = (tilt - prev) / self.dt_s
                    rate = self.rate_dps
                    self.rate_dps = raw if rate != rate else rate + self.rate_alpha * (raw - rate)
                self._prev_tilt = tilt
            self.tilt_deg = tilt
            return tilt
        gz = s.gyr_z_dps
        fx = s.acc_x_mps2
        fy = s.acc_y_mps2
        self.rate_dps = gz
        prev = self.tilt_deg
        if prev != prev:  # first sample: start from the accelerometer
            self.tilt_deg = _atan2(-fy, fx) * _DEG
            return self.tilt_deg
        pred = prev + gz * self.dt_s
        norm = _sqrt(fx * fx + fy * fy + (s.acc_z_mps2 if _isfinite(s.acc_z_mps2) else 0.0) ** 2)
        if abs(norm - GRAVITY_MPS2) <= self.gate_mps2:
            a = self.alpha
            pred = a * pred + (1.0 - a) * _atan2(-fy, fx) * _DEG
        self.tilt_deg = pred
        return pred
