"""The shank IMU model: noise density, quantisation, bias random walk, mounting point, misalignment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.plant import WalkingPlant
from fes_sim.samples import GRAVITY_MPS2
from fes_sim.sensors.imu import SensorConfig

#: an ideal sensor: no noise, no bias, no impact, 24-bit converter
IDEAL = dict(
    acc_noise_ug_rthz=0.0, gyro_noise_dps_rthz=0.0, acc_bias_sd_mg=0.0, gyro_bias_sd_dps=0.0, acc_bias_walk_mg_rts=0.0,
    gyro_bias_walk_dps_rts=0.0, impact_peak_g=0.0, adc_bits=24,
)


def _record(walker, sensor: SensorConfig, seconds: float, fs: float = 200.0, scenario: str = "walk", seed: int = 1) -> dict:
    p = WalkingPlant(walker, scenario=get_preset("scenario", scenario), sensor=sensor, sample_rate_hz=fs, plant_rate_hz=1000.0)
    p.reset(seed)
    names = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_z_dps")
    rows = []
    for _ in range(int(seconds * fs)):
        s = p.step(0.0, 0.0, 0.0)
        rows.append([getattr(s, n) for n in names] + [p.state.true_tilt_deg])
    a = np.array(rows)
    return {**{n: a[:, k] for k, n in enumerate(names)}, "tilt": a[:, -1]}


def test_white_noise_follows_the_noise_density():
    """σ = ND·√(f_s/2) per sample (REFERENCE §6), on the out-of-plane channels (noise only)."""
    fs = 200.0
    sensor = SensorConfig(**{**IDEAL, "acc_noise_ug_rthz": 400.0, "gyro_noise_dps_rthz": 0.05})
    r = _record(get_preset("walker", "healthy"), sensor, 20.0, fs, "stand")
    assert np.std(r["gyr_x_dps"]) == pytest.approx(0.05 * math.sqrt(fs / 2), rel=0.1)
    assert np.std(r["acc_z_mps2"]) == pytest.approx(400e-6 * GRAVITY_MPS2 * math.sqrt(fs / 2), rel=0.1)


def test_readings_are_quantised_to_the_converter_step():
    bits, rng = 10, 500.0
    lsb = 2 * rng / 2**bits
    sensor = SensorConfig(**{**IDEAL, "gyro_noise_dps_rthz": 0.05, "adc_bits": bits, "gyro_range_dps": rng})
    gyr = _record(get_preset("walker", "healthy"), sensor, 3.0)["gyr_z_dps"]
    np.testing.assert_allclose(gyr / lsb, np.rint(gyr / lsb), atol=1e-9)
    assert len(np.unique(gyr)) > 50


def test_gyro_bias_walks_at_its_rate():
    """Bias random walk W: the bias changes by W·√(1 s) from one second to the next (noise off)."""
    walk = 1.0
    sensor = SensorConfig(**{**IDEAL, "gyro_bias_walk_dps_rts": walk})
    gyr_x = _record(get_preset("walker", "healthy"), sensor, 150.0, 200.0, "stand")["gyr_x_dps"]
    ends = gyr_x[199::200]  # the bias at the end of each 1 s block
    assert np.std(np.diff(ends)) == pytest.approx(walk, rel=0.2)


def test_per_walker_bias_has_its_spread():
    sensor = SensorConfig(**{**IDEAL, "gyro_bias_sd_dps": 2.0})
    means = [np.mean(_record(get_preset("walker", "healthy"), sensor, 0.5, 200.0, "stand", seed)["gyr_x_dps"]) for seed in range(30)]
    assert np.std(means) == pytest.approx(2.0, rel=0.35)


def test_mounting_point_adds_the_rigid_body_terms():
    """A sensor Δd further down the shank reads Δd·ψ̈ less along y (forward) and Δd·ψ̇² more along x
    (towards the knee): the tangential and centripetal acceleration of a rotating segment."""
    fs = 1000.0
    walker = get_preset("walker", "healthy")
    near = _record(walker.replace(sensor_below_knee_m=0.05), SensorConfig(**IDEAL), 4.0, fs)
    far = _record(walker.replace(sensor_below_knee_m=0.35), SensorConfig(**IDEAL), 4.0, fs)
    rate = np.gradient(np.radians(near["tilt"]), 1.0 / fs)
    accel = np.gradient(rate, 1.0 / fs)
    core = slice(200, -200)
    dy = (far["acc_y_mps2"] - near["acc_y_mps2"])[core]
    dx = (far["acc_x_mps2"] - near["acc_x_mps2"])[core]
    assert np.polyfit(accel[core], dy, 1)[0] == pytest.approx(-0.30, rel=0.05)
    assert np.polyfit(rate[core] ** 2, dx, 1)[0] == pytest.approx(0.30, rel=0.05)


def test_misalignment_rotates_the_accelerometer_axes():
    phi = math.radians(10.0)
    walker = get_preset("walker", "healthy")
    aligned = _record(walker, SensorConfig(**IDEAL), 3.0)
    tilted = _record(walker.replace(sensor_misalignment_deg=10.0), SensorConfig(**IDEAL), 3.0)
    ax, ay = aligned["acc_x_mps2"], aligned["acc_y_mps2"]
    np.testing.assert_allclose(tilted["acc_x_mps2"], ax * math.cos(phi) + ay * math.sin(phi), atol=1e-4)
    np.testing.assert_allclose(tilted["acc_y_mps2"], ay * math.cos(phi) - ax * math.sin(phi), atol=1e-4)
    np.testing.assert_allclose(tilted["gyr_z_dps"], aligned["gyr_z_dps"], atol=1e-4)
