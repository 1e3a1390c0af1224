"""The vectorised paths equal the scalar loop: controller lanes, and the whole lanes engine."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.control.config import StimulationConfig
from fes_sim.control.controller import StimController
from fes_sim.samples import GaitEvent
from fes_sim.tuning import load_study
from fes_sim.tuning.lanes import ControllerLanes
from fes_sim.tuning import lanes_engine
from fes_sim.tuning.lanes_engine import prepare, run_lanes, uses_population
from fes_sim.tuning.loop_engine import run_loop
from fes_sim.tuning.workload import Workload
from tune_helpers import write_study

RATE = 200.0


def _random_configs(rng: np.random.Generator, n: int) -> list:
    base = get_preset("controller", "walkaide_tilt")
    out = []
    for i in range(n):
        ramp_up = float(rng.choice([0.0, 5.0, 40.0, 120.0]))
        ramp_down = float(rng.choice([0.0, 30.0, 80.0]))
        st = StimulationConfig(
            current_ma=float(rng.uniform(10, 60)),
            pulse_width_us=float(rng.uniform(100, 300)),
            frequency_hz=float(rng.choice([20.0, 33.0, 40.0, 200.0])),
            ramp_up_ms=ramp_up,
            ramp_down_ms=ramp_down,
            timing="percent" if i % 3 == 0 else "fixed",
            delay_ms=float(rng.choice([0.0, 30.0, 100.0])),
            extension_ms=float(rng.choice([0.0, 50.0, 150.0])),
            delay_pct=float(rng.choice([0.0, 10.0])),
            extension_pct=float(rng.uniform(0, 30)),
            max_on_time_s=float(rng.choice([0.6, 2.0])),
            min_off_time_ms=float(rng.choice([0.0, 150.0, 400.0])),
        )
        faults = base.faults.replace(fault_ramp_down_ms=float(rng.choice([0.0, 20.0, 50.0])))
        detector = "footswitch" if i % 5 == 4 else "tilt"
        out.append(base.replace(stimulation=st, faults=faults, detector=detector, adaptation_strides=float(rng.uniform(1, 10)),
                                mode="off" if i % 7 == 6 else "gait"))
    return out


def _streams(rng: np.random.Generator, n_lanes: int, n: int) -> tuple[np.ndarray, ...]:
    """Random event, fault and abort streams, with a time jump longer than any gap."""
    t = np.arange(n) / RATE
    t[n // 2:] += 0.3
    u = rng.random((n_lanes, n))
    events = np.select([u < 0.012, u < 0.024, u < 0.036], [GaitEvent.HEEL_OFF, GaitEvent.TOE_OFF, GaitEvent.HEEL_STRIKE], 0).astype(np.int8)
    faults = np.zeros((n_lanes, n), dtype=bool)
    for lane in range(n_lanes):
        for start in rng.integers(0, n - 50, size=2):
            faults[lane, start:start + int(rng.integers(1, 40))] = True
    aborts = rng.random((n_lanes, n)) < 0.004
    return t, events, faults, aborts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_controller_lanes_equal_the_scalar_controller(seed: int) -> None:
    rng = np.random.default_rng(seed)
    configs = _random_configs(rng, 24)
    t, events, faults, aborts = _streams(rng, len(configs), 3000)
    lanes = ControllerLanes(configs, RATE)
    scalars = [StimController(c, RATE, c.faults.max_gap_ms * 1e-3) for c in configs]
    started = np.zeros(len(configs), dtype=bool)
    for k in range(len(t)):
        env = lanes.update(float(t[k]), events[:, k], faults[:, k], aborts[:, k])
        for i, sc in enumerate(scalars):
            e = sc.update(float(t[k]), int(events[i, k]), int(faults[i, k]), bool(aborts[i, k]))
            charge = sc.pulses * sc.current_ma * (configs[i].stimulation.pulse_width_us * 1e-3) if sc.pulses else 0.0
            got = (env[i], lanes.state[i], lanes.current_ma[i], lanes.pulses[i], lanes.charge_uc[i])
            assert got == (e, sc.state, sc.current_ma, sc.pulses, charge), f"lane {i} sample {k}"
        started |= env > 0
    assert started.sum() >= len(configs) - 4  # every gait lane stimulated at some point


@pytest.mark.parametrize("plant_rate_hz", [1000.0, 200.0])
def test_lanes_engine_equals_the_closed_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plant_rate_hz: float) -> None:
    """Per-lane plants (mixed scenario): identical. Vectorised population (walk): within 1e-6. At the
    study's plant rate, 1 kHz or 200 Hz."""
    monkeypatch.setattr(lanes_engine, "BLOCK_SAMPLES", 37)  # bursts across many controller blocks
    scenario = tmp_path / "mix.toml"
    scenario.write_text(
        'name = "mix"\nsegments = [{ activity = "walk", duration_s = 4.0 }, { activity = "weight_shift", duration_s = 3.0 },'
        ' { activity = "stand", duration_s = 2.0 }]\n'
    )
    extra = '\n[[parameters]]\npath = "tilt.heel_off_fraction"\nlo = 0.3\nhi = 0.7\n'
    study = load_study(write_study(tmp_path, extra, scenarios=f'["walk", "{scenario}"]', duration_s=9.0, plant_rate_hz=plant_rate_hz))
    workload = Workload.from_study(study)
    assert workload.plant_rate_hz == plant_rate_hz
    assert [uses_population(workload.walkers, sc) for sc in workload.scenarios] == [True, False]
    sets = [(20.0, 50.0, 0.45), (35.0, 0.0, 0.45), (40.0, 150.0, 0.3), (15.0, 10.0, 0.7)]
    controllers = [workload.space.apply(v) for v in sets]
    prepared = {(w, j): prepare(workload, w, j, workload.space.base) for w in range(2) for j in range(2)}
    lanes = run_lanes(workload, controllers, prepared)
    strides = 0
    for c, records in zip(controllers, lanes):
        for run, (ref, got) in enumerate(zip(run_loop(workload, c), records, strict=True)):
            exact = run % 2 == 1  # walker-major: odd runs are the mixed scenario
            for name in ("toe_drag", "charge_uc", "onset_lead_ms"):
                np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
            assert got.stim_not_walking_s == ref.stim_not_walking_s
            for name in ("mtc_mm", "foot_pitch_ic_deg"):
                if exact:
                    np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
                else:
                    np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=0, atol=1e-6, err_msg=name)
            assert got.fatigue_end == (ref.fatigue_end if exact else pytest.approx(ref.fatigue_end, abs=1e-9))
            strides += len(ref.mtc_mm)
    assert strides > 20
    assert any(math.isfinite(x) for r in lanes[0] for x in r.onset_lead_ms)
    assert any(r.stim_not_walking_s > 0 for rs in lanes for r in rs)  # weight shifts trigger some bursts


def test_prepared_samples_are_the_plants_samples(tmp_path: Path) -> None:
    """prepare builds the sensor output from the plant's blocks without stepping it: same samples, same activity."""
    from fes_sim.gait.scenario import WALKING
    from fes_sim.plant import WalkingPlant
    from fes_sim.samples import SAMPLE_FIELDS

    scenario = tmp_path / "mix.toml"
    scenario.write_text('name = "mix"\nsegments = [{ activity = "walk", duration_s = 2.5 }, { activity = "stand_to_sit", duration_s = 0.8 }]\n')
    workload = Workload.from_study(load_study(write_study(tmp_path, scenarios=f'["{scenario}"]', duration_s=3.3)))
    prep = prepare(workload, 1, 0, workload.space.base)
    plant = WalkingPlant(workload.walkers[1], scenario=workload.scenarios[0], sensor=workload.sensor, sample_rate_hz=RATE)
    sample = plant.reset(workload.seeds[1])
    assert len(prep.walking) == 661
    for k in range(661):
        if k:
            sample = plant.step(0.0, 0.0, 0.0)
        got = [prep.samples[name][k] for name in SAMPLE_FIELDS]
        np.testing.assert_array_equal(got, [getattr(sample, name) for name in SAMPLE_FIELDS], err_msg=f"sample {k}")
        assert prep.walking[k] == (plant.state.activity in WALKING), k
    assert prep.walking.any() and not prep.walking.all()


def test_population_lanes_sharing_a_walker_run_equal_the_unshared_population() -> None:
    from fes_sim.population import Population, sample_walkers

    walkers = sample_walkers(get_preset("walker", "drop_foot_severe"), 2, 3)
    seeds = [21, 22]
    alone = Population(walkers)
    shared = Population([w for w in walkers for _ in range(3)])  # each walker's run in three lanes
    a = alone.reset(0, seeds=seeds)
    b = shared.reset(0, seeds=[s for s in seeds for _ in range(3)])
    rng = np.random.default_rng(4)
    for k in range(1500):
        for name in ("tilt_deg", "gyr_z_dps", "ankle_deg", "toe_height_mm", "fatigue"):
            np.testing.assert_array_equal(np.repeat(a[name], 3), b[name], err_msg=f"{name} at {k}")
        cur = np.where(rng.random(2) < 0.4, 35.0, 0.0)
        a = alone.step(cur, 250.0, 40.0)
        b = shared.step(np.repeat(cur, 3), 250.0, 40.0)
    assert min(len(s) for s in alone.strides) >= 3
    for lane, y in enumerate(shared.strides):
        assert [s.mtc_mm for s in alone.strides[lane // 3]] == [s.mtc_mm for s in y]


def test_tilt_trigger_lanes_equal_the_scalar_pipeline_detection(tmp_path: Path) -> None:
    from fes_sim.tuning.lanes_engine import detect, lane_detections

    scenario = tmp_path / "mix.toml"
    scenario.write_text(
        'name = "mix"\nsegments = [{ activity = "walk", duration_s = 6.0 }, { activity = "weight_shift", duration_s = 3.0 },'
        ' { activity = "stand_to_sit", duration_s = 2.5 }, { activity = "sit", duration_s = 2.0 }]\n'
    )
    study = load_study(write_study(tmp_path, scenarios=f'["{scenario}"]', duration_s=14.0))
    workload = Workload.from_study(study)
    base = workload.space.base
    preps = [prepare(workload, w, 0, base) for w in range(2)]
    # sensor dropouts and a stuck stretch, so the fault path (interrupt once per fault) runs too
    for prep, (a, b) in zip(preps, [(700, 760), (1500, 1520)]):
        for name in prep.samples:
            prep.samples[name][a:b] = np.nan
        prep.samples["tilt_deg"][2200:2500] = prep.samples["tilt_deg"][2200]
        prep.detections.clear()
        prep.fronts.clear()
        detect(prep, base, workload)
    rng = np.random.default_rng(5)
    cfgs = []
    for i in range(16):
        tilt = base.tilt.replace(
            heel_off_fraction=float(rng.uniform(0.2, 0.8)), heel_off_rate_fraction=float(rng.uniform(0, 0.5)),
            hysteresis_deg=float(rng.uniform(0, 10)), toe_off_rate_fraction=float(rng.uniform(0.4, 0.95)),
            toe_off_lag_ms=float(rng.choice([-20.0, 0.0, 25.0])), toe_off_min_level=float(rng.uniform(0.5, 0.95)),
            toe_off_rise_fraction=float(rng.uniform(0.8, 0.98)), toe_off_symmetry=float(rng.uniform(0.5, 1.5)),
            toe_off_rebound_fraction=float(rng.uniform(0.05, 0.3)), min_swing_rate_dps=float(rng.uniform(20, 60)),
            toe_off_drop_fraction=float(rng.uniform(0.85, 1.0)), still_ms=float(rng.choice([100.0, 300.0])),
            heel_off_rate_smoothing_ms=float(rng.choice([0.0, 25.0])), min_stance_ms=float(rng.uniform(100, 400)),
            max_push_off_ms=float(rng.uniform(300, 900)), swing_recovery_rate_dps=float(rng.uniform(50, 200)),
        )
        cfgs.append(base.replace(tilt=tilt, adaptation_strides=float(rng.uniform(2, 12))))
    lanes_preps = [preps[i % 2] for i in range(len(cfgs))]
    events, faults, aborts = lane_detections(lanes_preps, cfgs, workload)
    for lane, (prep, cfg) in enumerate(zip(lanes_preps, cfgs)):
        ref = detect(prep, cfg, workload)
        np.testing.assert_array_equal(events[lane], ref[0], err_msg=f"events of lane {lane}")
        np.testing.assert_array_equal(faults[lane], ref[1])
        np.testing.assert_array_equal(aborts[lane], ref[2], err_msg=f"aborts of lane {lane}")
    assert (events == GaitEvent.HEEL_OFF).sum() > 50 and faults.any() and aborts.any()


def test_the_study_plant_rate_reaches_every_plant(tmp_path: Path) -> None:
    """plant_rate_hz = 200 runs the population and the prepared sensor at 200 Hz (other strides than
    at 1 kHz, a few mm apart), keys its results apart, and must divide by the sensor rate."""
    from fes_sim.errors import ConfigError
    from fes_sim.tuning.store import fingerprint

    mtc, keys = {}, set()
    for rate in (1000.0, 200.0):
        workload = Workload.from_study(load_study(write_study(tmp_path, plant_rate_hz=rate, duration_s=8.0)))
        prepared = {(w, 0): prepare(workload, w, 0, workload.space.base) for w in range(2)}
        records = run_lanes(workload, [workload.space.apply((30.0, 50.0))], prepared)[0]
        mtc[rate] = np.concatenate([r.mtc_mm for r in records])
        keys.add(fingerprint(workload, "lanes"))
    assert len(keys) == 2
    assert mtc[200.0].shape == mtc[1000.0].shape and not np.array_equal(mtc[200.0], mtc[1000.0])
    np.testing.assert_allclose(mtc[200.0], mtc[1000.0], atol=3.0)
    with pytest.raises(ConfigError, match="plant_rate_hz"):
        load_study(write_study(tmp_path, plant_rate_hz=300.0))
