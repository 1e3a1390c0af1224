"""The IMU's compiled noise: xoshiro256++, the ziggurat normals, and each walker's own stream."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import stats

from fes_sim.sensors import normals
from fes_sim.sensors.imu import IMU_CHANNELS, ImuBank, SensorConfig
from fes_sim.sensors.normals import next_u64, seed_states, standard_normal

_MASK = 2**64 - 1
#: white noise only, on a 24-bit converter
_NOISE_ONLY = SensorConfig(acc_bias_sd_mg=0.0, gyro_bias_sd_dps=0.0, acc_bias_walk_mg_rts=0.0, gyro_bias_walk_dps_rts=0.0, adc_bits=24)


@numba.njit
def _normals(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n)
    s = state[0]
    for j in range(n):
        out[j] = standard_normal(s)
    return out


@numba.njit
def _words(state: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, np.uint64)
    s = state[0]
    for j in range(n):
        out[j] = next_u64(s)
    return out


def _xoshiro_reference(state: list[int], n: int) -> list[int]:
    """xoshiro256++ in Python integers, as the authors' C code has it."""
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & _MASK  # noqa: E731
    s = list(state)
    out = []
    for _ in range(n):
        out.append((rotl((s[0] + s[3]) & _MASK, 23) + s[0]) & _MASK)
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def test_generator_is_xoshiro256plusplus():
    state = seed_states([np.random.default_rng(5)])
    expected = _xoshiro_reference([int(w) for w in state[0]], 1000)
    assert _words(state, 1000).tolist() == expected


def test_ziggurat_layers_have_equal_areas_and_close_at_zero():
    """Marsaglia & Tsang's r for 256 layers (3.6541528853610088) and layers of equal area v."""
    x, fx = normals._X, normals._FX
    r = normals._R
    assert r == pytest.approx(3.6541528853610088, rel=1e-15)
    v = r * math.exp(-0.5 * r * r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    np.testing.assert_allclose(x[1:-1] * (fx[2:] - fx[1:-1]), v, rtol=1e-11)
    assert x[1] == r and x[0] * fx[1] == pytest.approx(v, rel=1e-15)  # the base: rectangle to r and the tail
    assert x[-1] == 0.0 and fx[-1] == 1.0


def test_normals_have_the_standard_normal_distribution():
    """Mean, variance, Kolmogorov-Smirnov and the fractions beyond 3 and 4 σ (the ziggurat's
    tail starts at r ≈ 3.65) of 4 million draws, each within 5 standard errors."""
    n = 4_000_000
    z = _normals(seed_states([np.random.default_rng(2024)]), n)
    assert abs(z.mean()) < 5 / math.sqrt(n)
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / n)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(stats.skew(z)) < 5 * math.sqrt(6 / n) and abs(stats.kurtosis(z)) < 5 * math.sqrt(24 / n)
    for k in (3.0, 4.0):
        p = 2 * stats.norm.sf(k)
        assert abs(np.mean(np.abs(z) > k) - p) < 5 * math.sqrt(p * (1 - p) / n), k
    assert np.mean(z > 0) == pytest.approx(0.5, abs=5 * 0.5 / math.sqrt(n))


def _motion(n_w: int, n: int = 200) -> tuple[np.ndarray, ...]:
    """True motion (N, n): a swinging shank with a heel strike at 0.5 s, the same for every walker."""
    t = np.arange(n) / n
    tilt = np.broadcast_to(20.0 * np.sin(2 * np.pi * t), (n_w, n))
    gyr = np.broadcast_to(20.0 * 2 * np.pi * np.cos(2 * np.pi * t), (n_w, n))
    acc = np.broadcast_to(3.0 * np.sin(4 * np.pi * t), (n_w, n))
    since = np.broadcast_to(np.where(t >= 0.5, t - 0.5, np.inf), (n_w, n))
    return acc, -acc, tilt, gyr, since


def _readings(seeds: list[int], blocks: int = 2, config: SensorConfig | None = None) -> list[dict[str, np.ndarray]]:
    bank = ImuBank(config or SensorConfig(), 200.0, np.full(len(seeds), 2.0), [np.random.default_rng(s) for s in seeds])
    return [bank.measure(*_motion(len(seeds))) for _ in range(blocks)]


def test_a_walker_reads_the_same_alone_and_in_any_batch():
    alone = _readings([12])
    for seeds in ([10, 11, 12, 13], [12, 10], [13, 12, 11, 10, 9, 8, 7]):
        batch = _readings(seeds)
        i = seeds.index(12)
        for a, b in zip(alone, batch):
            for name in IMU_CHANNELS:
                np.testing.assert_array_equal(b[name][i], a[name][0])


def test_readings_are_determined_by_the_seeds():
    first, again, other = _readings([3, 4]), _readings([3, 4]), _readings([3, 5])
    for a, b in zip(first, again):
        for name in IMU_CHANNELS:
            np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(first[0]["gyr_x_dps"][1], other[0]["gyr_x_dps"][1])
    np.testing.assert_array_equal(first[0]["gyr_x_dps"][0], other[0]["gyr_x_dps"][0])


def test_the_generator_state_carries_over_blocks():
    """The same motion twice: the second block draws new noise, uncorrelated with the first."""
    one, two = (r["gyr_x_dps"] for r in _readings(list(range(50)), 2, _NOISE_ONLY))
    assert not np.any(np.all(one == two, axis=1))
    assert abs(np.corrcoef(one.ravel(), two.ravel())[0, 1]) < 5 / math.sqrt(one.size)
    fresh = _readings(list(range(50)), 1, _NOISE_ONLY)[0]["gyr_x_dps"]
    np.testing.assert_array_equal(fresh, one)


def test_walkers_draw_uncorrelated_noise():
    gyr = _readings(list(range(40)), 1, _NOISE_ONLY)[0]["gyr_x_dps"]
    c = np.corrcoef(gyr)[np.triu_indices(len(gyr), 1)]
    assert np.max(np.abs(c)) < 5 / math.sqrt(gyr.shape[1])
    assert np.std(gyr) == pytest.approx(0.007 * math.sqrt(100.0), rel=0.04)


def test_bias_steps_once_per_block_by_the_random_walk():
    """Noise off: each walker's out-of-plane gyro ramps linearly over the block from its bias to
    the bias plus one step of SD W·√(1 s), and the next block starts there."""
    walk = 1.0
    sensor = SensorConfig(acc_noise_ug_rthz=0.0, gyro_noise_dps_rthz=0.0, gyro_bias_sd_dps=0.0, gyro_bias_walk_dps_rts=walk, adc_bits=24)
    one, two = (r["gyr_x_dps"] for r in _readings(list(range(4000)), 2, sensor))
    lsb = 2 * sensor.gyro_range_dps / 2**sensor.adc_bits
    step = one[:, -1]
    np.testing.assert_allclose(one, step[:, None] * np.arange(1, 201) / 200, atol=lsb)
    assert np.std(step) == pytest.approx(walk, rel=0.06) and abs(np.mean(step)) < 5 * walk / math.sqrt(step.size)
    second = two[:, -1] - step
    np.testing.assert_allclose(two[:, 0], step + second / 200, atol=lsb)
    assert np.std(second) == pytest.approx(walk, rel=0.06)
    assert abs(np.corrcoef(step, second)[0, 1]) < 5 / math.sqrt(step.size)
