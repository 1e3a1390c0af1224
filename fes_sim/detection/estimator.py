"""Shank tilt estimation: a gated complementary filter, or a ready tilt channel.

Complementary filter (REFERENCE §6) in the vector form of Mahony, Hamel & Pflimlin
(2008, IEEE TAC 53:1203); the fusion step itself is :func:`fes_sim.tilt_fusion.correct`,
shared with the simulated commercial tilt sensor: the gyro prediction
ψₚ = ψ̂ₖ₋₁ + ωₖΔt is corrected by ψ̂ₖ = ψₚ − (1 − α)·h/g, α = τ/(τ + Δt), where
h = f_x sin ψₚ + f_y cos ψₚ is the forward (world) component of the specific force
seen with the predicted tilt, in the frame of :mod:`fes_sim.samples`. For a still shank h/g = sin(ψₚ − ψ), so this is
the classic filter ψ̂ = αψₚ + (1 − α)ψ_acc to first order. Unlike the angle
ψ_acc = atan2(−f_y, f_x), h is linear in the shank's own acceleration, whose mean
over a stride is zero, so stance and swing accelerations (tens of degrees of
accelerometer-tilt error while ‖f‖ stays near g) average out instead of biasing the
estimate. The correction is frozen while |‖f‖ − g| exceeds a gate; a tight gate
(0.1–0.2 g) keeps a non-representative subset of samples and biases the estimate,
so the default gate (1 g) only removes heel-strike impacts and saturation.
A stream may start while walking, when the first accelerometer tilt can be 30° off:
the correction gain starts at 1/2 and falls as 1/(k + 1) over the first accepted
samples until it reaches 1 − α, so the start-up estimate is the running mean of the
corrections instead of a transient lasting several τ.
A commercial tilt sensor delivers ψ directly; then the rate is the gyro when
present, else a lightly smoothed difference of the tilt.
"""

from __future__ import annotations

import math

from fes_sim.control.config import EstimatorConfig
from fes_sim.samples import GRAVITY_MPS2, ShankSample
from fes_sim.tilt_fusion import START_COUNT, accel_tilt_deg, correct, gain_deg

_isfinite = math.isfinite
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
        self.dt_s = 1.0 / sample_rate_hz
        self.apply_config(config)
        self.reset()

    def apply_config(self, config: EstimatorConfig) -> None:
        """Use new filter constants from the next sample on, keeping the estimate
        (a change of ``source`` takes effect at the next :meth:`reset`)."""
        self.config = config
        self.alpha = config.tau_s / (config.tau_s + self.dt_s)
        # correction per unit h, in degrees per (m/s²)
        self.gain_deg = gain_deg(config.tau_s, self.dt_s)
        self.rate_alpha = self.dt_s / (config.rate_smoothing_ms * 1e-3 + self.dt_s)
        self.gate_mps2 = config.acc_gate_g * GRAVITY_MPS2

    def reset(self) -> None:
        """Forget the state and the input choice; the next valid sample restarts the estimate."""
        src = self.config.source
        self.use_tilt_channel: bool | None = None if src == "auto" else src == "tilt"
        self.rate_from_gyro: bool | None = None
        self.restart()

    def restart(self) -> None:
        """Forget the estimate but keep the input choice (after a sensor fault: the next
        valid sample starts again from the accelerometer, with the start-up gain)."""
        self.tilt_deg = math.nan
        self.rate_dps = math.nan
        self._prev_tilt = math.nan
        self._n_corrections = START_COUNT  # start-up gain 1/(n + 1) while it exceeds the filter's own

    def choose_input(self, s: ShankSample) -> bool | None:
        """Settle ``source="auto"`` on the first sample with a usable input, and with a tilt
        channel whether the rate comes from the gyro; return the input choice."""
        if self.use_tilt_channel is None:
            if _isfinite(s.tilt_deg):
                self.use_tilt_channel = True
            elif _isfinite(s.acc_x_mps2) and _isfinite(s.gyr_z_dps):
                self.use_tilt_channel = False
        if self.use_tilt_channel and self.rate_from_gyro is None and _isfinite(s.tilt_deg):
            self.rate_from_gyro = _isfinite(s.gyr_z_dps)
        return self.use_tilt_channel

    @property
    def decided(self) -> bool:
        """True once the inputs are chosen (tilt channel or IMU, and the tilt rate's source)."""
        return self.use_tilt_channel is False or (self.use_tilt_channel is True and self.rate_from_gyro is not None)

    def update(self, s: ShankSample) -> float:
        """Take one sample; return the tilt estimate in degrees (``nan`` if no input).

        A non-finite gyro or accelerometer reading leaves the filter state as it was
        and returns ``nan``; the estimate is kept within (−180°, 180°].
        """
        use_tilt = self.use_tilt_channel
        if use_tilt is None or (use_tilt and self.rate_from_gyro is None):
            use_tilt = self.choose_input(s)
            if use_tilt is None:
                return math.nan
        if use_tilt:
            tilt = s.tilt_deg
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
        if not (_isfinite(gz) and _isfinite(fx) and _isfinite(fy)):
            return math.nan
        self.rate_dps = gz
        prev = self.tilt_deg
        if prev != prev:  # first sample: start from the accelerometer
            self.tilt_deg = accel_tilt_deg(fx, fy)
            return self.tilt_deg
        pred = prev + gz * self.dt_s
        if not -180.0 < pred <= 180.0:
            pred = wrap_deg(pred)
        fz = s.acc_z_mps2 if _isfinite(s.acc_z_mps2) else 0.0
        norm = _sqrt(fx * fx + fy * fy + fz * fz)
        if abs(norm - GRAVITY_MPS2) <= self.gate_mps2:
            pred, self._n_corrections = correct(pred, fx, fy, self._n_corrections, self.gain_deg)
        self.tilt_deg = pred
        return pred


def wrap_deg(angle_deg: float) -> float:
    """The same angle within (−180°, 180°]."""
    w = math.fmod(angle_deg + 180.0, 360.0)
    return (w + 360.0 if w <= 0.0 else w) - 180.0
