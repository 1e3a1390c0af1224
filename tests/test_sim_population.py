"""Population mode: the compiled step's bookkeeping (periods run ahead, shared rows, stride
tables) and the compiled prescribed motion against the numbers it replaced."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.body.block import SENSOR_CHANNELS, BlockBuilder
from fes_sim.body.strides import STRIDE_FIELDS
from fes_sim.config import get_preset
from fes_sim.gait import kinematics
from fes_sim.gait.scenario import Scenario
from fes_sim.plant import WalkingPlant
from fes_sim.population import SAMPLES_PER_CALL, Population, sample_walkers, seed_of
from fes_sim.sensors.imu import SensorConfig


def _walkers() -> list:
    base = get_preset("walker", "drop_foot_severe")
    return [
        base, get_preset("walker", "hemiparetic_slow"), base.replace(spasticity_gain_nms_per_deg=0.1),
        base.replace(emd_ms=0.0, recruitment="hmed2018"), base.replace(recruitment="ding2007", contracture_deg=12.0),
    ]


def _bursts(steps: int, n: int) -> np.ndarray:
    """Currents (steps, n): bursts of changing amplitude, each walker at its own phase."""
    rng = np.random.default_rng(1)
    on = (np.arange(steps)[:, None] // 30 + np.arange(n)) % 3 == 0
    return np.where(on, rng.uniform(20.0, 60.0, (steps, n)), 0.0)


def test_periods_run_ahead_equal_periods_one_at_a_time() -> None:
    """advance_many over more periods than a block and than one compiled call holds gives what
    as many advance calls give: drive per period, delay lines and block changes carried."""
    walkers = _walkers()
    n, steps = len(walkers), 450
    assert steps > 200 and steps > SAMPLES_PER_CALL
    cur = _bursts(steps, n)
    one, ahead = Population(walkers), Population(walkers)
    one.reset(4)
    ahead.reset(4)
    for k in range(steps):
        one.advance(cur[k], 300.0, 40.0)
    ahead.advance_many(cur, np.full(n, 300.0), 40.0)
    np.testing.assert_array_equal(one.fatigue, ahead.fatigue)
    assert one.events == ahead.events and sum(map(len, one.events)) > 20
    for a, b in zip(one.stride_table(), ahead.stride_table()):
        np.testing.assert_array_equal(a, b)
    r1, r2 = one.step(cur[0], 300.0, 40.0), ahead.step(cur[0], 300.0, 40.0)
    for name in ("ankle_deg", "toe_height_mm", "torque_nm", "gyr_z_dps"):
        np.testing.assert_array_equal(r1[name], r2[name])


def test_stride_table_holds_the_stride_outcomes() -> None:
    walkers = _walkers()
    pop = Population(walkers)
    pop.reset(2)
    pop.advance_many(_bursts(200 * 8, len(walkers)), 300.0, 40.0)
    walker, rows = pop.stride_table()
    strides = pop.strides
    assert rows.shape == (sum(map(len, strides)), len(STRIDE_FIELDS)) and all(len(s) >= 4 for s in strides)
    for w, per_walker in enumerate(strides):
        expected = np.array([[float(getattr(s, f)) for f in STRIDE_FIELDS] for s in per_walker])
        np.testing.assert_array_equal(rows[walker == w], expected)
    assert pop.strides is strides and len(pop.strides[0]) == len(strides[0])  # built once, then kept


def test_spastic_and_undelayed_walkers_equal_their_single_runs() -> None:
    """The compiled reflex (decays computed once) and a zero-length delay line follow the single plant."""
    base = get_preset("walker", "drop_foot_severe")
    walkers = [base.replace(spasticity_gain_nms_per_deg=0.15, spasticity_delay_ms=0.0), base.replace(spasticity_gain_nms_per_deg=0.1, emd_ms=0.0)]
    n, steps = len(walkers), 200 * 8
    cur = _bursts(steps, n)
    pop = Population(walkers)
    rows = [pop.reset(6)] + [pop.step(cur[k], 300.0, 40.0) for k in range(steps)]
    for i, w in enumerate(walkers):
        p = WalkingPlant(w)
        p.reset(seed_of(6, i))
        for k in range(1, steps + 1):
            p.step(cur[k - 1, i], 300.0, 40.0)
            assert p.state.ankle_deg == pytest.approx(rows[k]["ankle_deg"][i], abs=1e-9)
            assert p.state.torque_nm == pytest.approx(rows[k]["torque_nm"][i], abs=1e-9)
        assert [s.t_end_s for s in p.strides] == pytest.approx([s.t_end_s for s in pop.strides[i]], abs=1e-12)
        assert [s.mtc_mm for s in p.strides] == pytest.approx([s.mtc_mm for s in pop.strides[i]], abs=1e-9)


def test_lanes_repeating_a_walker_share_its_block_rows() -> None:
    base = get_preset("walker", "drop_foot_severe")
    walkers = sample_walkers(base, 3, 1)
    lanes = [w for w in walkers for _ in range(4)]
    pop = Population(lanes)
    pop.reset(0, seeds=[seed_of(0, i // 4) for i in range(len(lanes))])
    assert pop._builder.n == 3 and pop._row.tolist() == [i // 4 for i in range(12)]


def test_compiled_fourier_series_equals_the_basis_product() -> None:
    """kinematics.evaluate_all (compiled) against the basis rows times the coefficient matrix, and
    against the series written with numpy's cosine and sine of every harmonic."""
    phase = np.random.default_rng(3).uniform(-0.2, 1.2, 5000)
    values = kinematics.evaluate_all(phase)
    product = kinematics.basis(phase) @ kinematics.COEFF_MATRIX
    k = np.arange(1, kinematics.N_HARMONICS + 1)
    for j, name in enumerate(kinematics.SIGNALS):
        a0, a, b = kinematics.COEFFS[name]
        series = a0 + np.cos(2 * np.pi * np.outer(phase, k)) @ np.array(a) + np.sin(2 * np.pi * np.outer(phase, k)) @ np.array(b)
        np.testing.assert_allclose(values[name], product[:, j], rtol=0, atol=1e-12)
        np.testing.assert_allclose(values[name], series, rtol=0, atol=1e-9)


def test_compiled_block_keeps_the_numbers_of_the_numpy_block() -> None:
    """Weighted sums of block 2 of four walkers, recorded from the numpy block builder this one
    replaced (same numbers up to the order of summation). The sensor sums are of a sensor
    without noise and biases (recorded from the compiled block while it drew numpy's normals
    and kept the numpy block's noisy sums), so that they do not depend on the random numbers."""
    base = get_preset("walker", "drop_foot_severe")
    walkers = [base, get_preset("walker", "hemiparetic_slow")] + sample_walkers(base, 2, 4)
    quiet = SensorConfig(
        acc_noise_ug_rthz=0.0, gyro_noise_dps_rthz=0.0, acc_bias_sd_mg=0.0, gyro_bias_sd_dps=0.0, acc_bias_walk_mg_rts=0.0, gyro_bias_walk_dps_rts=0.0,
    )
    builder = BlockBuilder(walkers, Scenario(), quiet, 200.0, 5, [11, 12, 13, 14])
    blk = [builder.build(k) for k in range(3)][-1]
    recorded = {
        "psi_a": 144.13603615680552, "alpha_ref_dot": -208.71952049898778, "tau_ff": 23551.781263052904, "knee": 32762.463332819636,
        "acc_x": -2682.0042474351403, "ankle_z": 190.8716616318408, "tilt": 22313.627986552012,
    }
    for name, value in recorded.items():
        v = np.asarray(getattr(blk, name))
        assert float(np.sum(v * np.arange(1, v.shape[1] + 1) / v.shape[1])) == pytest.approx(value, rel=1e-12), name
    assert float(np.sum(blk.sensor["acc_x_mps2"])) == pytest.approx(7431.546886486816, rel=1e-12)
    assert float(np.sum(blk.sensor["acc_y_mps2"])) == pytest.approx(-2337.7751154296875, rel=1e-12)
    assert float(np.sum(blk.sensor["gyr_z_dps"])) == pytest.approx(-14552.780151367188, rel=1e-12)
    assert float(np.sum(blk.sensor["tilt_deg"])) == pytest.approx(11625.558314452963, rel=1e-12)
    cols = np.arange(blk.zone.shape[1])
    assert int(np.sum(blk.zone * cols)) == 1237980 and int(np.sum(blk.event.astype(int) * cols)) == 7836


def test_reused_block_memory_gives_the_same_blocks() -> None:
    """BlockBuilder(reuse=True), as the population builds: every block equals a fresh build, in the
    same memory (the previous block is overwritten), and the record is cache-line aligned."""
    walkers = sample_walkers(get_preset("walker", "drop_foot_severe"), 3, 6)
    fresh, reused = (BlockBuilder(walkers, Scenario(), SensorConfig(), 200.0, 5, [1, 2, 3], reuse=r) for r in (False, True))
    records = []
    for k in range(3):
        a, b = fresh.build(k), reused.build(k)
        for name in ("record", "zone", "event", "pushoff", "quiet"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (k, name)
        assert all(np.array_equal(a.sensor[c], b.sensor[c], equal_nan=True) for c in a.sensor)
        assert b.record.ctypes.data % 64 == 0
        records.append(b.record)
    assert records[0] is records[2] and np.array_equal(records[0], b.record)


def test_population_without_sensor_output_steps_the_same_plant() -> None:
    """sensor_output=False (fes tune's population) leaves the sensor channels out and changes
    nothing else: the same events, strides, fatigue and truth, bit for bit."""
    walkers = _walkers()
    n, steps = len(walkers), 450
    cur = _bursts(steps, n)
    full, plant_only = Population(walkers), Population(walkers, sensor_output=False)
    out_full, out_plant = full.reset(5), plant_only.reset(5)
    assert "gyr_z_dps" in out_full and not set(out_plant) & {"acc_x_mps2", "gyr_z_dps", "tilt_deg", "footswitch"}
    full.advance_many(cur, 300.0, 40.0)
    plant_only.advance_many(cur, 300.0, 40.0)
    np.testing.assert_array_equal(full.fatigue, plant_only.fatigue)
    assert full.events == plant_only.events and sum(map(len, full.events)) > 20
    for a, b in zip(full.stride_table(), plant_only.stride_table()):
        np.testing.assert_array_equal(a, b)
    r1, r2 = full.step(cur[0], 300.0, 40.0), plant_only.step(cur[0], 300.0, 40.0)
    assert set(r2) == set(r1) - {"acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps", "tilt_deg", "footswitch"}
    for name in r2:
        np.testing.assert_array_equal(r1[name], r2[name])


@pytest.mark.parametrize("plant_rate_hz", [1000.0, 200.0])
def test_periods_held_back_by_advance_give_what_step_gives(plant_rate_hz: float) -> None:
    """advance() holds periods back and runs them together; sensors() reads the sensor without
    running them, and every read of the plant (fatigue, events, strides, step's truth) runs
    them first: the same numbers as stepping every period, and the same stride table."""
    walkers = _walkers()
    n, steps = len(walkers), 260
    cur = _bursts(steps, n)
    stepped, held = (Population(walkers, plant_rate_hz=plant_rate_hz) for _ in range(2))
    stepped.reset(6)
    held.reset(6)
    fatigue_mid = None
    for k in range(steps):
        out = stepped.step(cur[k], 300.0, 40.0)
        held.advance(cur[k], np.full(n, 300.0), 40.0)
        sensors = held.sensors()
        assert set(sensors) == {*SENSOR_CHANNELS, "t_s"}
        for name in sensors:
            np.testing.assert_array_equal(sensors[name], out[name])
        if k == 45:  # a read of the plant between calls of the compiled step
            fatigue_mid = held.fatigue
            np.testing.assert_array_equal(fatigue_mid, stepped.fatigue)
    assert held._pending > 0  # periods were held back at the end
    assert held.events == stepped.events and sum(map(len, held.events)) > 5
    np.testing.assert_array_equal(held.fatigue, stepped.fatigue)
    for a, b in zip(held.stride_table(), stepped.stride_table()):
        np.testing.assert_array_equal(a, b)
    last = held.step(cur[0], 300.0, 40.0)
    ref = stepped.step(cur[0], 300.0, 40.0)
    for name in ref:
        np.testing.assert_array_equal(last[name], ref[name])


def test_an_interrupted_flush_keeps_the_periods_not_run() -> None:
    """Ctrl-C between two calls of the compiled step while held-back periods run: those not run
    stay held, and reading again gives what an uninterrupted run gives."""
    walkers = _walkers()[:2]
    n = len(walkers)
    cur = _bursts(190, n)
    calm, hit = Population(walkers), Population(walkers)
    calm.reset(8)
    hit.reset(8)
    for k in range(190):
        calm.advance(cur[k], 300.0, 40.0)
        hit.advance(cur[k], 300.0, 40.0)
    advance, calls = hit._lanes.advance, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return advance(*args)

    hit._lanes.advance = interrupted
    with pytest.raises(KeyboardInterrupt):
        hit.fatigue
    assert hit._pending > 0
    np.testing.assert_array_equal(hit.fatigue, calm.fatigue)
    assert hit.events == calm.events
    for a, b in zip(hit.stride_table(), calm.stride_table()):
        np.testing.assert_array_equal(a, b)


def test_the_stride_table_does_not_depend_on_how_the_periods_ran() -> None:
    """A compiled call leaves its strides walker by walker; the table orders them by completion
    (then walker), so periods held back, run ahead or stepped one by one give the same table."""
    walkers = _walkers()[:4]
    n, steps = len(walkers), 1400
    cur = _bursts(steps, n)
    held, read, ahead = (Population(walkers, plant_rate_hz=200.0) for _ in range(3))
    for p in (held, read, ahead):
        p.reset(4)
    for k in range(steps):
        held.advance(cur[k], 300.0, 40.0)
        read.advance(cur[k], 300.0, 40.0)
        read.fatigue  # a read of the plant each period: one period a call
    ahead.advance_many(cur, 300.0, 40.0)
    walker, rows = read.stride_table()
    assert len(rows) > 12 and np.all(np.diff(rows[:, STRIDE_FIELDS.index("t_end_s")]) >= 0)
    for other in (held, ahead):
        for a, b in zip(other.stride_table(), (walker, rows)):
            np.testing.assert_array_equal(a, b)
