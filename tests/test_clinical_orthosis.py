"""Ankle-foot orthoses: the torque model, its presets, and what a brace does to the walk."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fes_sim.body.orthosis import PRESETS, OrthosisConfig
from fes_sim.compare import late_stance_ranges_deg
from fes_sim.config import get_preset
from fes_sim.config.schema import from_mapping
from fes_sim.errors import ConfigError
from fes_sim.session import SimulationSession


def walk(walker, afo: OrthosisConfig | None, duration_s: float = 30.0, seed: int = 3):
    orthosis = afo.torque_nm if afo is not None else None
    return SimulationSession(walker, None, orthosis=orthosis).run(duration_s, seed)


def test_rigid_afo_resists_both_ways_and_hinged_leaves_dorsiflexion_free():
    rigid, hinged = PRESETS["rigid"], PRESETS["hinged"]
    assert rigid.torque_nm(10.0, 0.0) == pytest.approx(-10.0 * rigid.dorsiflexion_stiffness_nm_per_deg)
    assert rigid.torque_nm(-10.0, 0.0) == pytest.approx(10.0 * rigid.plantarflexion_stiffness_nm_per_deg)
    assert hinged.torque_nm(10.0, 0.0) == 0.0
    assert hinged.torque_nm(-10.0, 0.0) > 0.0


def test_neutral_angle_shifts_the_spring_and_damping_opposes_motion():
    afo = OrthosisConfig(neutral_deg=5.0, dorsiflexion_stiffness_nm_per_deg=1.0, plantarflexion_stiffness_nm_per_deg=2.0, damping_nms_per_deg=0.01)
    assert afo.torque_nm(5.0, 0.0) == 0.0
    assert afo.torque_nm(0.0, 0.0) == pytest.approx(10.0)
    assert afo.torque_nm(5.0, 100.0) == pytest.approx(-1.0)


@given(
    st.floats(-40, 40), st.floats(-40, 40), st.floats(-20, 20),
    st.floats(0, 20), st.floats(0, 20),
)
def test_afo_is_passive_a_spring_that_pulls_towards_neutral(a_deg, b_deg, neutral_deg, k_df, k_pf):
    """Torque is never away from neutral, and never rises with dorsiflexion (so push-off has one solution)."""
    afo = OrthosisConfig(neutral_deg=neutral_deg, dorsiflexion_stiffness_nm_per_deg=k_df, plantarflexion_stiffness_nm_per_deg=k_pf, damping_nms_per_deg=0.0)
    lo, hi = sorted((a_deg, b_deg))
    assert afo.torque_nm(hi, 0.0) <= afo.torque_nm(lo, 0.0) + 1e-9
    assert afo.torque_nm(a_deg, 0.0) * (a_deg - neutral_deg) <= 0.0


def test_presets_order_by_stiffness_and_out_of_range_is_an_error():
    assert PRESETS["hinged"].dorsiflexion_stiffness_nm_per_deg == 0.0
    assert PRESETS["hinged_spring"].plantarflexion_stiffness_nm_per_deg < PRESETS["carbon"].plantarflexion_stiffness_nm_per_deg
    assert PRESETS["carbon"].plantarflexion_stiffness_nm_per_deg < PRESETS["hinged"].plantarflexion_stiffness_nm_per_deg
    assert PRESETS["hinged"].plantarflexion_stiffness_nm_per_deg < PRESETS["rigid"].plantarflexion_stiffness_nm_per_deg
    assert 0.58 <= PRESETS["carbon"].plantarflexion_stiffness_nm_per_deg <= 3.66  # Shuman et al. 2021
    with pytest.raises(ConfigError, match="dorsiflexion_stiffness_nm_per_deg"):
        from_mapping(OrthosisConfig, {"dorsiflexion_stiffness_nm_per_deg": -1.0}, "my_afo.toml")
    with pytest.raises(ConfigError, match="unknown key"):
        from_mapping(OrthosisConfig, {"stiffness": 2.0}, "my_afo.toml")
    assert get_preset("afo", "rigid") is PRESETS["rigid"]


def test_rigid_afo_clears_the_toe_in_severe_drop_foot_but_costs_push_off():
    walker = get_preset("walker", "drop_foot_severe")
    bare = walk(walker, None)
    braced = walk(walker, PRESETS["rigid"])
    assert bare.summary["toe_drag_strides"] >= 0.8 * bare.summary["strides"]
    assert braced.summary["toe_drag_strides"] == 0
    assert braced.summary["mtc_mm"]["p5"] > 5.0
    pf_bare = np.median([s.push_off_pf_deg for s in bare.plant.strides])
    pf_braced = np.median([s.push_off_pf_deg for s in braced.plant.strides])
    assert pf_braced < pf_bare - 5.0
    assert np.median(late_stance_ranges_deg(braced)) < np.median(late_stance_ranges_deg(bare)) - 5.0


def test_stiffer_orthosis_restricts_push_off_more_without_diverging():
    """Push-off with a brace stiffer than the walker's own push-off stiffness must still settle."""
    walker = get_preset("walker", "drop_foot_severe")
    peaks = []
    for k in (0.5, 2.0, 5.0, 10.0, 20.0):
        afo = OrthosisConfig(dorsiflexion_stiffness_nm_per_deg=k, plantarflexion_stiffness_nm_per_deg=k)
        peaks.append(np.median([s.push_off_pf_deg for s in walk(walker, afo, duration_s=12.0).plant.strides]))
    assert all(b < a for a, b in zip(peaks, peaks[1:])), peaks
    assert 0.0 <= peaks[-1] < 5.0


def _stance_trace(walker, afo: OrthosisConfig | None, seconds: float = 12.0):
    from fes_sim.plant import WalkingPlant

    p = WalkingPlant(walker, orthosis=afo.torque_nm if afo is not None else None)
    p.reset(3)
    rows = []
    for _ in range(int(200 * seconds)):
        p.step(0.0, 0.0, 0.0)
        st = p.state
        rows.append((st.t_s, st.ankle_deg, st.foot_pitch_deg, st.in_swing))
    return p, np.array(rows)


def test_the_brace_acts_through_stance_without_a_step_at_heel_off():
    """The rigid shell works from foot-flat on, so the ankle moves smoothly into push-off (it
    stepped by 2.5 deg at heel-off, where the brace used to start), and resisting the
    dorsiflexion of late mid-stance it lifts the heel before the free foot's heel-off."""
    walker = get_preset("walker", "drop_foot_severe")
    p, r = _stance_trace(walker, PRESETS["rigid"])
    free, rf = _stance_trace(walker, None)
    t, ankle, pitch, swing = r.T
    for s in p.strides[1:]:
        around = (t > s.t_heel_off_s - 0.05) & (t < s.t_heel_off_s + 0.05)
        assert np.abs(np.diff(ankle[around])).max() < 1.0, s.t_heel_off_s
        late_mid = (t > s.t_heel_off_s - 0.08) & (t < s.t_heel_off_s - 0.02)  # the same instants in both runs
        assert pitch[late_mid].max() < rf[late_mid, 2].min() - 1.0


def test_rigid_shell_restricts_push_off_more_than_the_hinged_stop():
    walker = get_preset("walker", "drop_foot_severe")
    pf = {name: np.median([s.push_off_pf_deg for s in walk(walker, PRESETS[name] if name != "none" else None, 20.0).plant.strides])
          for name in ("none", "hinged", "rigid")}
    assert pf["rigid"] < pf["hinged"] < pf["none"] - 5.0, pf
