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

import numpy as np

from fes_sim.samples import GRAVITY_MPS2
from fes_sim.tilt_fusion import START_COUNT, accel_tilt_deg, correct, gain_deg


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
        sq = acc_x * acc_x + acc_y * acc_y + (0.0 if acc_z is None else acc_z * acc_z)
        accepted = np.abs(np.sqrt(sq) - GRAVITY_MPS2) <= self.gate
        rate = gyr_z_dps * self.dt
        out = np.empty(acc_x.shape)
        k = self.k_deg
        if acc_x.shape[0] == 1:  # one sensor: a float loop is far quicker than numpy on 1-element arrays
            p, c = float(self.tilt_deg[0]), float(self.count[0])
            row = out[0]
            for j, (ok, dpsi, fx, fy) in enumerate(zip(accepted[0].tolist(), rate[0].tolist(), acc_x[0].tolist(), acc_y[0].tolist())):
                if p != p:  # first sample
                    p = accel_tilt_deg(fx, fy)
                else:
                    p += dpsi
                    if ok:
                        p, c = correct(p, fx, fy, c, k)
                row[j] = p
            self.tilt_deg[0], self.count[0] = p, c
            return out
        psi, count = self.tilt_deg, self.count
        for j in range(acc_x.shape[1]):
            fx, fy, ok = acc_x[:, j], acc_y[:, j], accepted[:, j]
            start = np.isnan(psi)
            pred = np.where(start, accel_tilt_deg(fx, fy, np.arctan2), psi + rate[:, j])
            new, new_count = correct(pred, fx, fy, count, k, np.sin, np.cos, np.where)
            use = ok & ~start
            psi = np.where(use, new, pred)
            count = np.where(use, new_count, count)
            out[:, j] = psi
        self.tilt_deg, self.count = psi, count
        return out

