"""WalkingPlant.set_walker: a new walker mid-run without restarting, and the viewer's use of it."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.errors import ConfigError
from fes_sim.plant import WalkingPlant

SEVERE = get_preset("walker", "drop_foot_severe")
FASTER_MILDER = SEVERE.replace(speed_mps=1.1, cadence_spm=105.0, stance_fraction=0.62, drop_foot_severity=0.3)


def _run(plant: WalkingPlant, seconds: float, switch_at_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    t, gyro = [], []
    for k in range(int(200 * seconds)):
        if switch_at_s is not None and k == int(200 * switch_at_s):
            plant.set_walker(FASTER_MILDER)
        s = plant.step(0.0, 0.0, 0.0)
        t.append(s.t_s)
        gyro.append(s.gyr_z_dps)
    return np.array(t), np.array(gyro)


def test_new_walker_takes_effect_without_restart_and_sensor_stays_continuous():
    p = WalkingPlant(SEVERE)
    p.reset(1)
    t, gyro = _run(p, 40.0, switch_at_s=20.0)
    assert np.all(np.diff(t) > 0) and t[-1] == pytest.approx(40.0)
    before = [s for s in p.strides if s.t_end_s < 20.0]
    after = [s for s in p.strides if s.t_heel_strike_s > 23.0]
    assert np.median([s.t_end_s - s.t_heel_strike_s for s in before]) == pytest.approx(SEVERE.stride_s, rel=0.06)
    assert np.median([s.t_end_s - s.t_heel_strike_s for s in after]) == pytest.approx(FASTER_MILDER.stride_s, rel=0.06)
    assert np.mean([s.toe_drag for s in before]) > 0.8 and np.mean([s.toe_drag for s in after]) < 0.2
    stance = [(s.t_toe_off_s - s.t_heel_strike_s) / (s.t_end_s - s.t_heel_strike_s) for s in after]
    assert np.median(stance) == pytest.approx(0.62, abs=0.01)
    jump = np.abs(np.diff(gyro))
    assert jump[3900:4500].max() < 1.5 * jump[:3900].max()  # no spike at the switch
    assert p.walker is FASTER_MILDER


def test_same_walker_set_mid_run_changes_nothing():
    a, b = WalkingPlant(SEVERE), WalkingPlant(SEVERE)
    a.reset(3)
    b.reset(3)
    _, ga = _run(a, 8.0)
    for k in range(int(200 * 8.0)):
        if k == 600:
            b.set_walker(SEVERE)
        b.step(0.0, 0.0, 0.0)
    assert b.sample.gyr_z_dps == ga[-1]
    assert [s.t_end_s for s in a.strides] == pytest.approx([s.t_end_s for s in b.strides])


def test_fields_that_need_a_new_plant_are_config_errors():
    p = WalkingPlant(SEVERE)
    with pytest.raises(RuntimeError):
        p.set_walker(FASTER_MILDER)
    p.reset(1)
    with pytest.raises(ConfigError, match="height_m"):
        p.set_walker(SEVERE.replace(height_m=1.6))


def test_viewer_source_retunes_walker_without_restarting():
    from fes_sim.config import resolve
    from fes_sim.viewer.buffer import ViewerBuffer
    from fes_sim.viewer.sim_source import SimulationSource

    src = SimulationSource(ViewerBuffer(), SEVERE, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"))
    src._open()
    for _ in range(400):
        src._advance()
    plant = src.loop.plant
    src._retune("walker", FASTER_MILDER)
    for _ in range(400):
        src._advance()
    assert src.loop.plant is plant and src._t_offset_s == 0.0
    assert plant.t_s == pytest.approx(4.0) and plant.walker is FASTER_MILDER and src.walker is FASTER_MILDER
