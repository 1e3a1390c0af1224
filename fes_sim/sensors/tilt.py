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
from fes_sim.trig import sincos_rad

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
        rows, start = self._start_deg(acc_x, acc_y, gyr_z_dps)
        start_row = np.full(acc_x.shape[0], -1)
        start_row[rows] = np.arange(rows.size)
        _filter_rows(
            acc_x, acc_y, np.zeros(acc_x.shape) if acc_z is None else acc_z, gyr_z_dps, start, start_row, self.dt, self.gate, self.k_deg,
            self.tilt_deg, self.count, out,
        )
        return out

    def _start_deg(self, acc_x: np.ndarray, acc_y: np.ndarray, gyr_z_dps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sensors without an estimate yet or with a rate that is not finite (an estimate that
        becomes nan restarts), and the accelerometer's own tilt in their rows, which starts the
        estimate: numpy's arctan2 for many sensors, ``math.atan2`` for one (as the vectorised and
        the scalar filter had it)."""
        rows = np.flatnonzero(np.isnan(self.tilt_deg) | ~np.isfinite(gyr_z_dps).all(axis=1))
        if not rows.size:
            return rows, np.empty((0, acc_x.shape[1]))
        fx, fy = acc_x[rows], acc_y[rows]
        return rows, accel_tilt_deg(fx, fy, np.arctan2) if acc_x.shape[0] > 1 else _accel_tilt_rows(fx, fy)


@numba.njit(cache=True)
def _accel_tilt_rows(acc_x: np.ndarray, acc_y: np.ndarray) -> np.ndarray:
    """:func:`~fes_sim.tilt_fusion.accel_tilt_deg` with ``math.atan2`` at every sample."""
    out = np.empty(acc_x.shape)
    for w in range(acc_x.shape[0]):
        for j in range(acc_x.shape[1]):
            out[w, j] = accel_tilt_deg(acc_x[w, j], acc_y[w, j], math.atan2)
    return out


#: sensors filtered side by side: the compiler runs the step for all of them in vector registers
#: (a lane count below 16 is not vectorised); a chunk's last lanes may hold no sensor
_LANES = 32
#: rows of a chunk's sample in :func:`_filter_rows`' work array: the inputs, then the filter's state
_FX, _FY, _FZ, _RATE, _START, _TILT, _COUNT = range(7)


@register_jitable
def _sin_rad(r):
    return sincos_rad(r)[0]


@register_jitable
def _cos_rad(r):
    return sincos_rad(r)[1]


@numba.njit(cache=True, error_model="numpy")
def _filter_rows(acc_x, acc_y, acc_z, gyr_z_dps, start, start_row, dt, gate, k_deg, tilt_deg, count, out):
    """The filter over (sensors, n) samples, state ``tilt_deg`` and ``count`` (per sensor) carried:
    the gyro prediction over ``dt``, corrected where | ‖f‖ − g | ≤ ``gate``; a sensor with no
    estimate yet starts at the accelerometer's tilt at that sample, row ``start_row[w]`` of ``start``
    (−1: a sensor with an estimate).

    :data:`_LANES` sensors at a time, their samples copied into one work array (sample, row,
    lane) whose step ``j`` reads the state of step ``j − 1``: one array with fixed offsets, so
    the compiler needs no alias checks, and the branches are selects with the error model of
    numpy (no division check), so the loop over the lanes vectorises. The sines are
    :func:`~fes_sim.trig.sincos_rad` (no library call). About 10 ns a sample with the copies
    in and out (the step itself about 3), against 20 with ``math.sin``, ``math.cos`` and a
    branch per sample."""
    n_w, n = acc_x.shape
    buf = np.zeros((n + 1, _COUNT + 1, _LANES))
    for w0 in range(0, n_w, _LANES):
        m = min(_LANES, n_w - w0)
        for lane in range(m):
            w = w0 + lane
            first = start_row[w]
            for j in range(n):  # (indexed in place: a view per sample would count references)
                buf[j + 1, _FX, lane], buf[j + 1, _FY, lane], buf[j + 1, _FZ, lane] = acc_x[w, j], acc_y[w, j], acc_z[w, j]
                buf[j + 1, _RATE, lane] = gyr_z_dps[w, j]
                buf[j + 1, _START, lane] = start[first, j] if first >= 0 else math.nan
            buf[0, _TILT, lane], buf[0, _COUNT, lane] = tilt_deg[w], count[w]
        for j in range(1, n + 1):
            for lane in range(_LANES):
                p, c = buf[j - 1, _TILT, lane], buf[j - 1, _COUNT, lane]
                fx, fy, fz = buf[j, _FX, lane], buf[j, _FY, lane], buf[j, _FZ, lane]
                pred = p + buf[j, _RATE, lane] * dt
                accepted = abs(math.sqrt(fx * fx + fy * fy + fz * fz) - GRAVITY_MPS2) <= gate
                corrected, c_corrected = correct(pred, fx, fy, c, k_deg, _sin_rad, _cos_rad, select)
                fresh = p != p
                buf[j, _TILT, lane] = buf[j, _START, lane] if fresh else (corrected if accepted else pred)
                buf[j, _COUNT, lane] = c if fresh or not accepted else c_corrected
        for lane in range(m):
            w = w0 + lane
            for j in range(n):
                out[w, j] = buf[j + 1, _TILT, lane]
            tilt_deg[w], count[w] = buf[n, _TILT, lane], buf[n, _COUNT, lane]
