"""Tilt output of a commercial shank tilt sensor: a gated complementary filter on the IMU.

The fusion step is the device estimator's (:func:`fes_sim.tilt_fusion.correct`: the
vector form of Mahony, Hamel & Pflimlin 2008, with the 1/(k + 1) start-up gain), run
with the sensor's own time constant and gate (``SensorConfig.tilt_tau_s``,
``tilt_gate_g``): the correction is frozen while | ‖f‖ − g | exceeds the gate. The output
starts from the accelerometer tilt at the first sample. Its error grows in push-off and
swing, where the shank's own acceleration reaches 1-1.4 g; REFERENCE §6 gives about
5.6° rms at τ = 1 s and 12° at 0.3 s for a complementary filter, and about 30° for the
accelerometer tilt alone (figures of this model: ``tools/validate_sim.py``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import register_jitable

from fes_sim.samples import GRAVITY_MPS2
from fes_sim.tilt_fusion import START_COUNT, accel_tilt_deg, correct, gain_deg, select

# the device estimator's fusion step, compiled here as it is (the estimator runs it as Python)
register_jitable(correct)
register_jitable(select)
register_jitable(accel_tilt_deg)


class TiltFilter:
    """Complementary filter for N sensors, with state carried between calls."""

    def __init__(self, tau_s: float, gate_g: float, sample_rate_hz: float, n: int = 1) -> None:
        dt = 1.0 / sample_rate_hz
        self.dt = dt
        self.k_deg = gain_deg(tau_s, dt)
        self.gate = gate_g * GRAVITY_MPS2
        self.tilt_deg = np.full(n, np.nan)
        self.count = np.full(n, START_COUNT)

    def run(self, acc_x: np.ndarray, acc_y: np.ndarray, gyr_z_dps: np.ndarray, acc_z: np.ndarray | None = None) -> np.ndarray:
        """Filtered tilt (deg), arrays of shape (N, n) in and out (``acc_z`` enters the gate only)."""
        out = np.empty(acc_x.shape)
        start = self._start_deg(acc_x, acc_y, gyr_z_dps)
        _filter_rows(
            acc_x, acc_y, np.zeros(acc_x.shape) if acc_z is None else acc_z, gyr_z_dps, start, self.dt, self.gate, self.k_deg, self.tilt_deg,
            self.count, out,
        )
        return out

    def _start_deg(self, acc_x: np.ndarray, acc_y: np.ndarray, gyr_z_dps: np.ndarray) -> np.ndarray:
        """The accelerometer's own tilt, which starts the estimate where there is none (nan elsewhere):
        in the rows of sensors without an estimate yet or with a rate that is not finite (an
        estimate that becomes nan restarts), numpy's arctan2 for many sensors, ``math.atan2`` for
        one (as the vectorised and the scalar filter had it)."""
        start = np.full(acc_x.shape, np.nan)
        rows = np.flatnonzero(np.isnan(self.tilt_deg) | ~np.isfinite(gyr_z_dps).all(axis=1))
        if rows.size:
            fx, fy = acc_x[rows], acc_y[rows]
            start[rows] = accel_tilt_deg(fx, fy, np.arctan2) if acc_x.shape[0] > 1 else _accel_tilt_rows(fx, fy)
        return start


@numba.njit(cache=True)
def _accel_tilt_rows(acc_x: np.ndarray, acc_y: np.ndarray) -> np.ndarray:
    """:func:`~fes_sim.tilt_fusion.accel_tilt_deg` with ``math.atan2`` at every sample."""
    out = np.empty(acc_x.shape)
    for w in range(acc_x.shape[0]):
        for j in range(acc_x.shape[1]):
            out[w, j] = accel_tilt_deg(acc_x[w, j], acc_y[w, j], math.atan2)
    return out


@numba.njit(cache=True)
def _filter_rows(acc_x, acc_y, acc_z, gyr_z_dps, start, dt, gate, k_deg, tilt_deg, count, out):
    """The filter over (sensors, n) samples, state ``tilt_deg`` and ``count`` (per sensor) carried:
    the gyro prediction over ``dt``, corrected where | ‖f‖ − g | ≤ ``gate``; a sensor with no
    estimate yet starts at ``start`` (the accelerometer's tilt at that sample)."""
    for w in range(acc_x.shape[0]):
        p, c = tilt_deg[w], count[w]
        for j in range(acc_x.shape[1]):
            if p != p:
                p = start[w, j]
            else:
                p += gyr_z_dps[w, j] * dt
                fx, fy, fz = acc_x[w, j], acc_y[w, j], acc_z[w, j]
                if abs(math.sqrt(fx * fx + fy * fy + fz * fz) - GRAVITY_MPS2) <= gate:
                    p, c = correct(p, fx, fy, c, k_deg, math.sin, math.cos, select)
            out[w, j] = p
        tilt_deg[w], count[w] = p, c
