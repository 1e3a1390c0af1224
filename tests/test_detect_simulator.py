"""Detectors and controller in closed loop with the walking simulator.

Hemiparetic and severe drop-foot walkers (with the simulator's variability and
sensor errors) must have their strides detected and stimulated; standing,
weight shifting, sitting down and standing up must never be stimulated.
"""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config.presets import get_preset
from fes_sim.control.limits import StimulatorConfig
from fes_sim.detection.scoring import score_events
from fes_sim.device import DevicePipeline
from fes_sim.samples import GaitEvent

plant_mod = pytest.importorskip("fes_sim.plant", reason="walking simulator not available")

FS = 200.0


def closed_loop(walker: str, scenario: str, controller: str, duration_s: float, seed: int = 1, fs: float = FS):
    from fes_sim.sensors.imu import SensorConfig

    plant = plant_mod.WalkingPlant(get_preset("walker", walker), scenario=get_preset("scenario", scenario),
                                   sensor=SensorConfig(footswitch=True), sample_rate_hz=fs)
    pipe = DevicePipeline(get_preset("controller", controller), StimulatorConfig(), fs)
    s = plant.reset(seed)
    t, env, act, events = [], [], [], []
    for _ in range(int(duration_s * fs)):
        o = pipe.update(s)
        if o.event:
            events.append((o.t_s, o.event))
        t.append(o.t_s)
        env.append(o.envelope)
        act.append(plant.state.activity)
        s = plant.step(o.current_ma, o.pulse_width_us, o.frequency_hz)
    return plant, np.array(t), np.array(env), np.array(act), events


@pytest.mark.parametrize("walker", ["hemiparetic_slow", "drop_foot_severe", "drop_foot_mild"])
def test_pathological_walkers_detected_and_every_stride_stimulated(walker):
    """The issue's goal for stroke recordings (fused tilt plus gyro at 100 Hz): every stride's
    heel strike and toe-off found (>= 98 %), median |error| <= 30 ms. The mild walker's
    Winter-shaped toe-off comes 40 ms early (its rate peak leads toe-off by 100 ms, where
    NONAN's leads by 40 ms), so it is held to 50 ms."""
    plant, t, env, _, events = closed_loop(walker, "walk", "walkaide_tilt", 40.0, fs=100.0)
    scores = score_events(plant.events, events, 0.15, (3.0, 39.0))
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF):
        s = scores[ev]
        assert s.sensitivity >= 0.98 and s.precision >= 0.98, (ev, s.summary())
    assert np.median(np.abs(scores[GaitEvent.HEEL_STRIKE].errors_ms)) <= 30.0
    assert np.median(np.abs(scores[GaitEvent.TOE_OFF].errors_ms)) <= (50.0 if walker == "drop_foot_mild" else 30.0)
    true_to = np.array([e for e, k in plant.events if k == GaitEvent.TOE_OFF])
    for st in plant.strides:
        if st.t_heel_strike_s < 3.0:
            continue
        to = true_to[(true_to > st.t_heel_strike_s)][0]
        before = (t > to - 0.15) & (t <= to)
        assert env[before].min() > 0.0, f"stride at {st.t_heel_strike_s:.2f} s not stimulated 150 ms before toe-off"


@pytest.mark.parametrize("walker", ["hemiparetic_slow", "drop_foot_severe"])
def test_heel_switch_walks_are_detected_and_stimulated(walker):
    """The heel switch gives heel strike and heel-off; the first release of the walk (after
    standing still) is taken for standing and starts the stride count."""
    plant, t, env, _, events = closed_loop(walker, "walk", "heel_switch", 30.0)
    scores = score_events(plant.events, events, 0.15, (4.0, 29.0))
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.HEEL_OFF):
        s = scores[ev]
        assert s.sensitivity >= 0.98 and s.precision >= 0.98, (ev, s.summary())
    true_to = [e for e, k in plant.events if k == GaitEvent.TOE_OFF and 4.0 < e < 29.0]
    assert all(env[(t > to - 0.1) & (t <= to)].min() > 0.0 for to in true_to)


@pytest.mark.parametrize("controller", ["walkaide_tilt", "shank_gyro", "heel_switch"])
@pytest.mark.parametrize("walker", ["hemiparetic_slow", "healthy"])
def test_no_stimulation_while_not_walking(controller, walker):
    _, _, env, act, _ = closed_loop(walker, "false_triggers", controller, 55.0)
    assert set(act) >= {"stand", "weight_shift", "sit", "stand_to_sit", "sit_to_stand"}
    assert env.max() == 0.0


@pytest.mark.parametrize("controller", ["walkaide_tilt", "shank_gyro"])
def test_daily_mix_stimulates_walking_only(controller):
    _, t, env, act, _ = closed_loop("drop_foot_severe", "daily_mix", controller, 110.0)
    walking = np.isin(act, ["walk", "slope_up", "slope_down"])
    assert env[np.isin(act, ["sit", "stand_to_sit", "sit_to_stand"])].max() == 0.0
    # no burst starts outside walking (a stopping leg holds its stance posture); only the
    # tail of the last stride's burst may remain: its extension and ramp down
    onsets = np.flatnonzero((env[1:] > 0) & (env[:-1] == 0)) + 1
    assert walking[onsets].all(), t[onsets[~walking[onsets]]]
    t_walk = t[walking]
    for ti in t[(env > 0) & ~walking]:
        assert ti - t_walk[t_walk <= ti].max() <= 0.5


@pytest.mark.parametrize("walker", ["hemiparetic_slow", "drop_foot_severe"])
def test_imu_at_100_hz_from_the_first_stride(walker):
    """Raw accelerometer + gyro at 100 Hz, scored from t = 0 (the walk starts mid-stride):
    the stance rate plateau of the slow walker must not pass for the pre-swing peak."""
    import dataclasses

    from fes_sim.sensors.imu import SensorConfig

    fs = 100.0
    cfg = get_preset("controller", "walkaide_tilt")
    cfg = dataclasses.replace(cfg, estimator=dataclasses.replace(cfg.estimator, source="imu"))
    plant = plant_mod.WalkingPlant(get_preset("walker", walker), sensor=SensorConfig(tilt_output=False), sample_rate_hz=fs)
    pipe = DevicePipeline(cfg, StimulatorConfig(), fs)
    s = plant.reset(1)
    events = []
    for _ in range(int(40 * fs)):
        o = pipe.update(s)
        if o.event:
            events.append((o.t_s, o.event))
        s = plant.step(o.current_ma, o.pulse_width_us, o.frequency_hz)
    scores = score_events(plant.events, events, 0.15)
    for ev in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF):
        assert scores[ev].sensitivity >= 0.98 and scores[ev].precision >= 0.98, (ev, scores[ev].summary())
