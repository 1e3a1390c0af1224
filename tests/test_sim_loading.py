"""Loading response after heel strike: heel rocker, foot slap and the stimulation extension."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fes_sim.body.foot import FootBody
from fes_sim.body.loading import HeelRocker, heel_rocker_step
from fes_sim.config import get_preset
from fes_sim.plant import WalkingPlant


def _heel_first(strides):
    return [s for s in strides if not math.isnan(s.foot_flat_velocity_dps)]


def _walk(name: str, seconds: float = 30.0, **changes) -> list:
    p = WalkingPlant(get_preset("walker", name).replace(**changes))
    p.reset(1)
    for _ in range(int(200 * seconds)):
        p.step(0.0, 0.0, 0.0)
    return p.strides


def _closed_loop(extension_ms: float | None, seconds: float = 30.0, walker: str = "drop_foot_severe") -> list:
    """walkaide_tilt with the given extension (``None``: stimulation off)."""
    from fes_sim.device import DevicePipeline
    from fes_sim.loop import ClosedLoop

    base = get_preset("controller", "walkaide_tilt")
    ctrl = base.off() if extension_ms is None else base.replace(stimulation=base.stimulation.replace(extension_ms=extension_ms))
    loop = ClosedLoop(WalkingPlant(get_preset("walker", walker)), DevicePipeline(ctrl, get_preset("stimulator", "default"), sample_rate_hz=200.0))
    loop.run(seconds, 1)
    return loop.plant.strides


def test_healthy_lowers_the_foot_without_slap():
    strides = _heel_first(_walk("healthy"))
    assert len(strides) > 20
    assert not any(s.foot_slap for s in strides)
    assert np.median([s.foot_flat_velocity_dps for s in strides]) < 40.0


def test_weak_dorsiflexors_slap_in_most_heel_first_strides():
    strides = _heel_first(_walk("drop_foot_severe", drop_foot_severity=0.9))
    assert len(strides) > 10
    assert np.mean([s.foot_slap for s in strides]) >= 0.9


def test_absent_dorsiflexors_land_toe_first():
    """With no dorsiflexion left the plantarflexed foot meets the floor toe first (no heel rocker,
    no slap; Perry & Burnfield 2010: forefoot or foot-flat initial contact)."""
    strides = _walk("drop_foot_severe")
    assert len(strides) > 15
    assert len(_heel_first(strides)) <= 0.2 * len(strides)
    assert np.median([s.foot_pitch_ic_deg for s in strides]) < 0.0


def test_stronger_dorsiflexors_lower_the_foot_more_slowly():
    weak = np.median([s.foot_flat_velocity_dps for s in _heel_first(_walk("drop_foot_severe", 20.0, drop_foot_severity=0.9))])
    partly = np.median([s.foot_flat_velocity_dps for s in _heel_first(_walk("drop_foot_severe", 20.0, drop_foot_severity=0.6))])
    assert partly < 0.5 * weak


def test_extension_after_heel_strike_prevents_slap_and_zero_extension_does_not():
    """The default controller's extension keeps the tibialis anterior on through loading
    response; without it the foot comes down faster and slaps more often."""
    with_ext = _heel_first(_closed_loop(100.0))
    without = _heel_first(_closed_loop(0.0))
    assert len(with_ext) > 15 and len(without) > 15
    assert np.mean([s.foot_slap for s in with_ext]) <= 0.05
    v_with = np.median([s.foot_flat_velocity_dps for s in with_ext])
    v_without = np.median([s.foot_flat_velocity_dps for s in without])
    assert v_without > 1.4 * v_with
    assert np.mean([s.foot_slap for s in without]) > np.mean([s.foot_slap for s in with_ext])


def test_stimulation_does_not_add_slap_to_residual_voluntary_control():
    """drop_foot_mild (30 % voluntary dorsiflexion left) lowers its foot without slap; the
    default controller's stimulation adds to that control and must not make it slap (it did,
    35 %, while the voluntary drive cancelled the evoked torque and tracked underdamped)."""
    off = _heel_first(_closed_loop(None, walker="drop_foot_mild"))
    stim = _heel_first(_closed_loop(100.0, walker="drop_foot_mild"))
    assert len(off) > 15 and len(stim) > 15
    assert np.mean([s.foot_slap for s in stim]) <= np.mean([s.foot_slap for s in off])
    assert np.median([s.foot_flat_velocity_dps for s in stim]) < 0.8 * get_preset("walker", "drop_foot_mild").slap_velocity_dps


def test_heel_rocker_step_same_on_floats_and_arrays():
    w = get_preset("walker", "drop_foot_mild")
    foot = FootBody.of(w.height_m, w.mass_kg, w.shoe_mass_kg, w.foot_inertia_kgm2)
    scalar = HeelRocker.of(lambda n: getattr(w, n), foot, 0.065, 0.059)
    arr_foot = FootBody.of(np.full(3, w.height_m), np.full(3, w.mass_kg), np.full(3, w.shoe_mass_kg), np.full(3, w.foot_inertia_kgm2))
    vector = HeelRocker.of(lambda n: np.full(3, float(getattr(w, n))), arr_foot, np.full(3, 0.065), np.full(3, 0.059))
    args = (0.3, -2.0, 0.02, 3.0, 0.0, 0.25, -3.0, -0.4, 4.0, 10.0)
    a, ad = heel_rocker_step(scalar, *args[:5], 0.0, 0.0, *args[5:], 0.001)
    va, vad = heel_rocker_step(vector, *(np.full(3, x) for x in args[:5] + (0.0, 0.0) + args[5:]), 0.001, exp=np.exp)
    assert va == pytest.approx(a, abs=1e-12) and vad == pytest.approx(ad, abs=1e-9)


def test_body_load_plantarflexes_an_unresisted_foot():
    w = get_preset("walker", "drop_foot_severe")
    foot = FootBody.of(w.height_m, w.mass_kg, w.shoe_mass_kg, w.foot_inertia_kgm2)
    p = HeelRocker.of(lambda n: getattr(w, n), foot, 0.065, 0.059)
    _, ad_loaded = heel_rocker_step(p, 0.2, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.2, 0.0, -0.4, 0.0, 5.0, 0.001)
    _, ad_early = heel_rocker_step(p, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.0, -0.4, 0.0, 5.0, 0.001)
    _, ad_held = heel_rocker_step(p, 0.2, 0.0, 0.1, 12.0, 0.0, 0.0, 0.0, 0.2, 0.0, -0.4, 0.0, 5.0, 0.001)
    assert ad_loaded < ad_early and ad_held > ad_loaded
