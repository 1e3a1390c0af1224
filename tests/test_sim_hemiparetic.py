"""Hemiparetic timing (Wang et al. 2020, Int J Rehabil Res 43:69) and the consistency of the cause of foot drop."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.config.schema import from_mapping
from fes_sim.errors import ConfigError
from fes_sim.gait import kinematics
from fes_sim.gait.validation import mean_cycle, plant_heel_strikes
from fes_sim.gait.walker import WalkerConfig
from fes_sim.samples import GaitEvent
from sim_helpers import walk_truth

#: Wang 2020, patients vs speed-matched controls (s, mean ± SD)
PARETIC_SWING, CONTROL_SWING = (0.45, 0.12), (0.39, 0.07)
NONPARETIC_STANCE, NONPARETIC_SWING, DOUBLE_STANCE = (1.01, 0.41), (0.35, 0.07), (0.27, 0.13)
CONTROL_STRIDE_S = 0.83 + 0.39


def _walk(walker, seconds: float = 40.0):
    p, r = walk_truth(walker, seconds, 3, ("true_tilt_deg",))
    return p, r["t_s"], r["true_tilt_deg"]


def within(value: float, mean_sd: tuple[float, float]) -> bool:
    return abs(value - mean_sd[0]) <= mean_sd[1]


def _lifting(name: str = "hemiparetic_slow") -> WalkerConfig:
    """The preset with its foot lifted (no drop foot), so contact is the heel strike; with its drop
    foot the toe lands early in terminal swing, the trip a stimulator or brace prevents."""
    return get_preset("walker", name).replace(drop_foot_severity=0.0)


def test_hemiparetic_timing_matches_wang_2020():
    w = _lifting()
    p, _, _ = _walk(w)
    strides = p.strides
    assert len(strides) > 20
    stride_s = np.median([s.t_end_s - s.t_heel_strike_s for s in strides])
    paretic_swing = np.median([s.t_end_s - s.t_toe_off_s for s in strides])
    paretic_stance = stride_s - paretic_swing
    # the other leg, from its stance fraction and this leg's stride (equal double supports)
    nonparetic_stance = w.contralateral_stance_fraction * stride_s
    double_stance = (w.stance_fraction + w.contralateral_stance_fraction - 1.0) / 2.0 * stride_s
    assert within(paretic_swing, PARETIC_SWING) and paretic_swing > CONTROL_SWING[0]
    assert within(nonparetic_stance, NONPARETIC_STANCE) and nonparetic_stance > paretic_stance
    assert within(stride_s - nonparetic_stance, NONPARETIC_SWING) and stride_s - nonparetic_stance < paretic_swing
    assert within(double_stance, DOUBLE_STANCE)
    assert 120.0 / stride_s < 120.0 / CONTROL_STRIDE_S  # lower cadence


def test_the_other_heel_strike_starts_the_paretic_pre_swing():
    """With the other heel strike at 46.5 % of the stride, the paretic shank reaches its pre-swing
    tilt (Winter's value at 50 %) there, not at 50 % as in the symmetric walker; heel-off comes earlier."""
    asym = _lifting()
    sym = asym.replace(contralateral_stance_fraction=0.0)
    assert asym.contralateral_strike == pytest.approx(0.465) and sym.contralateral_strike == 0.5
    rom = float(kinematics.rom_scale(asym.speed_mps))
    a0 = kinematics.COEFFS["shank"][0]
    pre_swing_tilt = a0 + rom * (float(kinematics.evaluate("shank", 0.5)) - a0)
    g = np.linspace(0.0, 1.0, 1001)
    heel_off = {}
    for name, w in (("asym", asym), ("sym", sym)):
        p, t, tilt = _walk(w, 30.0)
        hs = plant_heel_strikes(p.events)
        cycle = mean_cycle(t, tilt, hs, g.size)
        at_strike = np.interp(w.contralateral_strike, g, cycle)
        assert at_strike == pytest.approx(pre_swing_tilt, abs=1.5), name
        ho = [e for e, ev in p.events if ev == GaitEvent.HEEL_OFF]
        heel_off[name] = np.median([(h - hs[hs <= h][-1]) for h in ho if np.any(hs <= h)])
        if name == "asym":
            assert abs(np.interp(0.5, g, cycle) - pre_swing_tilt) > 2.0
    assert heel_off["asym"] < heel_off["sym"] - 0.02


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"cause": "central", "surviving_axon_fraction": 0.0}, "surviving_axon_fraction"),
        ({"cause": "muscle", "surviving_axon_fraction": 0.5}, "surviving_axon_fraction"),
        ({"cause": "peroneal_nerve", "surviving_axon_fraction": 0.2, "spasticity_gain_nms_per_deg": 0.02}, "spasticity_gain_nms_per_deg"),
        ({"cause": "muscle", "spasticity_gain_nms_per_deg": 0.02}, "spasticity_gain_nms_per_deg"),
        ({"stance_fraction": 0.6, "contralateral_stance_fraction": 0.38}, "contralateral_stance_fraction"),
    ],
)
def test_inconsistent_cause_is_a_config_error_naming_the_field(changes, field):
    with pytest.raises(ConfigError, match=field):
        from_mapping(WalkerConfig, changes, "my_walker.toml")


def test_consistent_causes_are_accepted():
    WalkerConfig(cause="peroneal_nerve", surviving_axon_fraction=0.0)  # complete denervation
    WalkerConfig(cause="peroneal_nerve", surviving_axon_fraction=1.0)  # conduction block, axons intact
    WalkerConfig(cause="central", spasticity_gain_nms_per_deg=0.05, contracture_deg=10.0)
    WalkerConfig(cause="muscle", contracture_deg=10.0, max_evoked_torque_nm=5.0)
