"""The simulated commercial tilt sensor: the device estimator's fusion step with its own constants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.control.config import EstimatorConfig
from fes_sim.detection.estimator import TiltEstimator
from fes_sim.plant import WalkingPlant
from fes_sim.samples import GRAVITY_MPS2, ShankSample
from fes_sim.sensors.imu import SensorConfig
from fes_sim.sensors.tilt import TiltFilter
from fes_sim.tilt_fusion import START_COUNT, accel_tilt_deg, correct, gain_deg


def _walk(sensor: SensorConfig, seconds: float = 20.0, name: str = "healthy"):
    p = WalkingPlant(get_preset("walker", name), sensor=sensor)
    s = p.reset(3)
    samples, truth = [], []
    for _ in range(int(200 * seconds)):
        samples.append((s.t_s, s.acc_x_mps2, s.acc_y_mps2, s.acc_z_mps2, s.gyr_z_dps, s.tilt_deg))
        truth.append(p.state.true_tilt_deg)
        s = p.step(0.0, 0.0, 0.0)
    return np.array(samples), np.array(truth)


@pytest.mark.parametrize("tau_s,gate_g", [(1.0, 2.0), (0.3, 1.0)])
def test_tilt_channel_is_the_estimator_fusion_with_the_sensor_constants(tau_s, gate_g):
    """Fed the same IMU samples, the device estimator configured with the sensor's τ and
    gate reproduces the sensor's tilt channel: one fusion step, not two."""
    rows, _ = _walk(SensorConfig(tilt_tau_s=tau_s, tilt_gate_g=gate_g), 5.0)
    est = TiltEstimator(EstimatorConfig(source="imu", tau_s=tau_s, acc_gate_g=gate_g), 200.0)
    s = ShankSample(0.0)
    out = []
    for t, ax, ay, az, gz, _ in rows:
        s.t_s, s.acc_x_mps2, s.acc_y_mps2, s.acc_z_mps2, s.gyr_z_dps = t, ax, ay, az, gz
        out.append(est.update(s))
    np.testing.assert_allclose(out, rows[:, 5], rtol=0, atol=1e-9)


def test_tilt_channel_error_against_the_true_tilt():
    """REFERENCE §6: about 5.6° rms at τ = 1 s for a complementary filter; no large bias;
    a stream that starts while walking settles within a second."""
    rows, truth = _walk(SensorConfig(), 30.0)
    err = rows[:, 5] - truth
    t = rows[:, 0]
    steady = err[t >= 5.0]
    assert np.sqrt(np.mean(steady**2)) < 6.0
    assert abs(steady.mean()) < 2.0
    assert np.sqrt(np.mean(err[(t >= 1.0) & (t < 2.0)] ** 2)) < 7.0


def _reference_filter(ax, ay, az, gz, tau_s, gate_g, sample_rate_hz):
    """The filter sample by sample in plain Python: the fusion step with ``math``'s sines, a
    sensor without an estimate starting from the accelerometer's tilt."""
    dt = 1.0 / sample_rate_hz
    k_deg, gate = gain_deg(tau_s, dt), gate_g * GRAVITY_MPS2
    out = np.empty(ax.shape)
    for i in range(ax.shape[0]):
        p, count = math.nan, START_COUNT
        for j in range(ax.shape[1]):
            fx, fy, fz = ax[i, j], ay[i, j], az[i, j]
            if p != p:
                p = accel_tilt_deg(fx, fy)
            else:
                p += gz[i, j] * dt
                if abs(math.sqrt(fx * fx + fy * fy + fz * fz) - GRAVITY_MPS2) <= gate:
                    p, count = correct(p, fx, fy, count, k_deg)
            out[i, j] = p
    return out


@pytest.mark.parametrize("n", [1, 3, 70])
def test_the_filter_of_many_sensors_is_the_fusion_step_of_each(n):
    """The filter runs 32 sensors side by side: with 70, the last chunk holds 6; one sensor's rate
    is not finite for a while (its estimate restarts from the accelerometer's tilt); the state
    carries over two calls. Against the fusion step sample by sample in plain Python."""
    rng = np.random.default_rng(0)
    ax = 9.8 + rng.standard_normal((n, 300))
    ay = 3.0 * rng.standard_normal((n, 300))
    az = 0.5 * rng.standard_normal((n, 300))
    gz = 50.0 * rng.standard_normal((n, 300))
    gz[n - 1, 160:170] = np.nan
    many = TiltFilter(1.0, 0.2, 200.0, n)
    together = np.hstack([many.run(ax[:, :150], ay[:, :150], gz[:, :150], az[:, :150]), many.run(ax[:, 150:], ay[:, 150:], gz[:, 150:], az[:, 150:])])
    np.testing.assert_allclose(together, _reference_filter(ax, ay, az, gz, 1.0, 0.2, 200.0), rtol=0, atol=1e-9)
    assert np.isnan(together[n - 1, 160:170]).any() and np.isfinite(together[n - 1, 170:]).all()
    assert np.isfinite(together[: n - 1]).all()
