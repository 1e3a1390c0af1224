"""The single plant's compiled step (one lane of the population kernel) against its Python
reference path (``plant.compiled = False``): the same walker, run and stimulation give the
same samples, truth, events and strides."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.plant import WalkingPlant

SEVERE = get_preset("walker", "drop_foot_severe")
TRUTH = ("ankle_deg", "foot_pitch_deg", "toe_height_mm", "torque_nm", "fatigue", "activation", "true_tilt_deg", "in_swing")


def _run(plant: WalkingPlant, compiled: bool, seconds: float, switch: tuple[float, object] | None = None) -> tuple[np.ndarray, list, list]:
    """Samples and truth of every step under bursts of changing amplitude; events; strides."""
    plant.compiled = compiled
    plant.reset(5)
    rng = np.random.default_rng(2)
    steps = int(seconds * plant.sample_rate_hz)
    current = np.where((np.arange(steps) // int(0.35 * plant.sample_rate_hz)) % 3 == 0, rng.uniform(20.0, 60.0, steps), 0.0)
    rows = []
    for k in range(steps):
        if switch is not None and k == int(switch[0] * plant.sample_rate_hz):
            plant.set_walker(switch[1])  # type: ignore[arg-type]
        s = plant.step(float(current[k]), 300.0, 40.0)
        rows.append([s.acc_x_mps2, s.gyr_z_dps, s.tilt_deg, *(float(getattr(plant.state, name)) for name in TRUTH)])
    return np.array(rows), list(plant.events), list(plant.strides)


def _assert_same(a: tuple, b: tuple) -> None:
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-9)
    assert [e for _, e in a[1]] == [e for _, e in b[1]] and len(a[1]) > 10
    np.testing.assert_allclose([t for t, _ in a[1]], [t for t, _ in b[1]], rtol=0, atol=1e-12)
    assert len(a[2]) == len(b[2]) > 3
    for x, y in zip(a[2], b[2]):
        for name in x.__dataclass_fields__:
            assert getattr(x, name) == pytest.approx(getattr(y, name), abs=1e-9, nan_ok=True), name


@pytest.mark.parametrize(
    "walker, scenario, rates",
    [
        (SEVERE, "walk", (200.0, 1000.0)),
        (get_preset("walker", "hemiparetic_slow"), "walk", (200.0, 1000.0)),  # spastic, asymmetric
        (SEVERE.replace(spasticity_gain_nms_per_deg=0.15, spasticity_delay_ms=0.0, emd_ms=0.0), "walk", (500.0, 1000.0)),
        (SEVERE.replace(recruitment="hmed2018", contracture_deg=10.0), "slopes", (100.0, 500.0)),
        (get_preset("walker", "healthy").replace(recruitment="ding2007"), "daily_mix", (200.0, 1000.0)),
    ],
)
def test_compiled_step_equals_the_python_reference(walker, scenario, rates) -> None:
    runs = [
        _run(WalkingPlant(walker, scenario=get_preset("scenario", scenario), sample_rate_hz=rates[0], plant_rate_hz=rates[1]), compiled, 24.0)
        for compiled in (True, False)
    ]
    _assert_same(*runs)


def test_compiled_step_follows_a_walker_changed_mid_run() -> None:
    """set_walker: new muscle constants, delay lines of another length, new timing."""
    other = get_preset("walker", "hemiparetic_slow").replace(height_m=SEVERE.height_m, sensor_below_knee_m=SEVERE.sensor_below_knee_m,
                                                            sensor_misalignment_deg=SEVERE.sensor_misalignment_deg, emd_ms=SEVERE.emd_ms + 20.0)
    runs = [_run(WalkingPlant(SEVERE), compiled, 30.0, switch=(12.0, other)) for compiled in (True, False)]
    _assert_same(*runs)
