"""Shank IMU model: specific force and angular rate at the mounting point, with noise,
bias, bias random walk, 16-bit quantisation, range saturation and the heel-strike
impact (REFERENCE §6), in the sensor frame of :mod:`fes_sim.samples`.

The accelerometer reads f = a − g (gravity (0, −g) in the world frame x forward, z up)
projected on the shank axes ``x`` (ankle → knee) = (sin ψ, cos ψ) and ``y`` (forward)
= (cos ψ, −sin ψ), rotated by the mounting misalignment. Noise per sample is
σ = ND·√(f_s/2). Out-of-plane channels carry noise and bias only (planar model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

from fes_sim.config.schema import Config, param
from fes_sim.errors import ConfigError
from fes_sim.exponential import exp_written_out
from fes_sim.samples import GRAVITY_MPS2
from fes_sim.sensors.normals import seed_states, standard_normal, standard_normals
from fes_sim.trig import sincos_rad, sincos_turns

_RAD = math.pi / 180.0  # numpy.radians multiplies by this

#: IMU channels in the sensor frame of :mod:`fes_sim.samples`
IMU_CHANNELS: tuple[str, ...] = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps")

FaultKind = Literal["dropout", "stuck", "saturation", "nan"]
Channel = Literal["all", "acc", "gyr", "tilt"]


@dataclass(frozen=True)
class SensorFault(Config):
    """A fault injected into the sensor output for tests."""

    kind: FaultKind = param("dropout", doc="dropout (all channels nan), stuck (hold), saturation (full scale), nan")
    start_s: float = param(10.0, unit="s", lo=0, hi=1e6, doc="fault onset")
    duration_s: float = param(1.0, unit="s", lo=0, hi=1e6, doc="fault duration")
    channels: Channel = param("all", doc="channels affected (dropout always hits all)")


@dataclass(frozen=True)
class SensorConfig(Config):
    """Shank IMU and tilt-sensor output (defaults: BMI160-class IMU, REFERENCE §6)."""

    acc_noise_ug_rthz: float = param(180.0, unit="ug/sqrt(Hz)", lo=0, hi=5000, doc="accelerometer noise density (BMI160 150-180, MPU-6050 400)")
    gyro_noise_dps_rthz: float = param(0.007, unit="deg/s/sqrt(Hz)", lo=0, hi=1, doc="gyro noise density")
    acc_bias_sd_mg: float = param(40.0, unit="mg", lo=0, hi=200, doc="per-walker accelerometer offset SD")
    gyro_bias_sd_dps: float = param(1.5, unit="deg/s", lo=0, hi=30, doc="per-walker gyro offset SD")
    acc_bias_walk_mg_rts: float = param(0.5, unit="mg/sqrt(s)", lo=0, hi=50, doc="accelerometer bias random walk")
    gyro_bias_walk_dps_rts: float = param(0.02, unit="deg/s/sqrt(s)", lo=0, hi=5, doc="gyro bias random walk")
    acc_range_g: float = param(8.0, unit="g", lo=2, hi=32, doc="accelerometer full scale (saturation)")
    gyro_range_dps: float = param(500.0, unit="deg/s", lo=125, hi=4000, doc="gyro full scale (saturation)")
    adc_bits: int = param(16, lo=8, hi=24, doc="converter resolution")
    impact_peak_g: float = param(2.5, unit="g", lo=0, hi=10, doc="heel-strike transient amplitude along the shank (1-5 g, assumption)")
    impact_freq_hz: float = param(25.0, unit="Hz", lo=5, hi=100, doc="heel-strike transient frequency (15-40 Hz)")
    impact_tau_ms: float = param(15.0, unit="ms", lo=1, hi=100, doc="heel-strike transient decay (10-20 ms)")
    imu: bool = param(True, doc="deliver acc/gyr channels (False: a tilt-only sensor)")
    tilt_output: bool = param(True, doc="deliver a fused tilt channel like a commercial tilt sensor")
    tilt_tau_s: float = param(1.0, unit="s", lo=0.05, hi=20, doc="complementary filter time constant of the tilt output")
    tilt_gate_g: float = param(2.0, unit="g", lo=0.01, hi=2, doc="freeze the accelerometer correction when | |f| - g | exceeds this (2 = only at impacts; 0.1-0.2 biases the output here)")
    footswitch: bool = param(False, doc="deliver a heel-switch channel")
    faults: tuple[SensorFault, ...] = param(factory=tuple, doc="injected faults")

    def check(self) -> None:
        if not (self.imu or self.tilt_output or self.footswitch):
            raise ConfigError("imu: a sensor must deliver at least one of imu, tilt_output, footswitch")


@numba.njit(cache=True)
def _readings(out, state, sigma, acc_world_x, acc_world_z, tilt_deg, misalign_rad, gyro_dps, since_s, impact, bias, step, lsb, lo, hi):
    """Into ``out`` (N, 6, n): white noise·σ + true signal + bias, quantised to ``lsb`` and clipped
    to [lo, hi] per channel. The normals come from each walker's generator ``state[w]``
    (:mod:`~fes_sim.sensors.normals`): per channel, the bias random-walk step over the block
    (``step`` standard deviation) and then the noise of each sample. The bias is interpolated
    from ``bias`` to its new value, which ``bias`` keeps.

    The true specific force is the world acceleration plus g projected on the shank axes, with
    the heel-strike transient ``impact`` = (peak m/s², frequency Hz, decay s) ``since_s`` after
    the last heel strike (none where that is inf), in one pass without temporary arrays. The
    transient's exponential is :func:`~fes_sim.exponential.exp_written_out`: the compiler takes
    it at every sample, transient or not, and the C library's costs 6-8 ns there."""
    n_w, n_ch, n = out.shape
    peak, freq_hz, tau_s = impact
    true = np.zeros((n_ch, n))  # the true signal of each channel of one walker (0 for the out-of-plane ones)
    for w in range(n_w):
        for j in range(n):
            sp, cp = sincos_rad(tilt_deg[w, j] * _RAD + misalign_rad[w])
            fx, fz = acc_world_x[w, j], acc_world_z[w, j] + GRAVITY_MPS2
            true[0, j], true[1, j], true[5, j] = fx * sp + fz * cp, fx * cp - fz * sp, gyro_dps[w, j]
        for j in range(n):
            d = since_s[w, j]
            if d < math.inf:
                true[0, j] += peak * exp_written_out(-d / tau_s) * sincos_turns(freq_hz * d)[0]
        s = state[w]
        for ch in range(n_ch):
            b0 = bias[w, ch]
            db = standard_normal(s) * step[ch]
            sd, q, v_lo, v_hi = sigma[ch], lsb[ch], lo[ch], hi[ch]
            o, tr = out[w, ch], true[ch]
            standard_normals(s, o)
            for j in range(n):  # apart from the draws, so that it vectorises
                v = o[j] * sd + tr[j] + (b0 + db * ((j + 1) / n))
                v = np.rint(v / q) * q
                o[j] = min(max(v, v_lo), v_hi)
            bias[w, ch] = b0 + db


class ImuBank:
    """IMU readings of N walkers from their true shank motion, carrying biases between blocks.

    Parameters
    ----------
    config
        Noise, ranges and impact parameters (shared).
    sample_rate_hz
        Output rate (100-1000 Hz).
    misalignment_deg
        Sagittal rotation of each sensor on its shank, shape (N,).
    rngs
        One sensor generator per walker, which draws its bias and seeds its compiled
        generator (:func:`~fes_sim.sensors.normals.seed_states`) on construction;
        walker i's readings depend on ``rngs[i]`` only.
    """

    def __init__(self, config: SensorConfig, sample_rate_hz: float, misalignment_deg: np.ndarray, rngs: list[np.random.Generator]) -> None:
        self.config = config
        self.fs = sample_rate_hz
        self.misalign_rad = np.radians(np.asarray(misalignment_deg, float))[:, None]
        c = config
        g = GRAVITY_MPS2
        draws = np.array([r.standard_normal(6) for r in rngs])
        #: each walker's bias (N, 6), acc x, y, z (m/s²) then gyr x, y, z (°/s)
        self.bias = draws * np.array([c.acc_bias_sd_mg * 1e-3 * g] * 3 + [c.gyro_bias_sd_dps] * 3)
        self._state = seed_states(rngs)
        self.acc_sigma = c.acc_noise_ug_rthz * 1e-6 * g * math.sqrt(sample_rate_hz / 2)
        self.gyr_sigma = c.gyro_noise_dps_rthz * math.sqrt(sample_rate_hz / 2)
        self.acc_full = c.acc_range_g * g
        self.acc_lsb = 2 * self.acc_full / 2**c.adc_bits
        self.gyr_lsb = 2 * c.gyro_range_dps / 2**c.adc_bits
        dt = 1.0 / sample_rate_hz
        acc_step = c.acc_bias_walk_mg_rts * 1e-3 * g * math.sqrt(dt)
        gyr_step = c.gyro_bias_walk_dps_rts * math.sqrt(dt)
        per = lambda a, b: np.array([a] * 3 + [b] * 3)  # noqa: E731
        self._sigma = per(self.acc_sigma, self.gyr_sigma)[:, None]
        self._step = per(acc_step, gyr_step)
        self._lsb = per(self.acc_lsb, self.gyr_lsb)[:, None]
        self._lo = per(-self.acc_full, -c.gyro_range_dps)[:, None]
        self._hi = per(self.acc_full - self.acc_lsb, c.gyro_range_dps - self.gyr_lsb)[:, None]

    def measure(
        self, acc_world_x: np.ndarray, acc_world_z: np.ndarray, tilt_deg: np.ndarray, gyro_dps: np.ndarray, since_heel_strike_s: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Readings from the true acceleration (m/s², world), tilt (deg) and rate (°/s), each (N, n);
        ``since_heel_strike_s`` (inf when none) shapes the impact transient."""
        c = self.config
        n_w, n = tilt_deg.shape
        # acc x, y, z then gyr x, y, z. White noise per sample; the bias random walk steps once
        # per call (block) and is interpolated linearly over it (its power lies far below 1 Hz).
        out = np.empty((n_w, 6, n))
        impact = (c.impact_peak_g * GRAVITY_MPS2, c.impact_freq_hz, c.impact_tau_ms * 1e-3)
        _readings(
            out, self._state, self._sigma[:, 0], acc_world_x, acc_world_z, tilt_deg, self.misalign_rad[:, 0], gyro_dps, since_heel_strike_s, impact,
            self.bias, self._step * math.sqrt(n), self._lsb[:, 0], self._lo[:, 0], self._hi[:, 0],
        )
        return {name: out[:, k] for k, name in enumerate(IMU_CHANNELS)}
