"""The simulated shank tilt against real walking (NONAN GaitPrint, Wiles et al. 2023)."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.gait.validation import compare_cycles, kinematic_toe_off, load_nonan_leg, matched_walker, mean_cycle, plant_heel_strikes
from sim_helpers import walk_truth


def _tilt_cycle(walker, seconds: float = 30.0):
    p, r = walk_truth(walker, seconds, 1, ("true_tilt_deg", "foot_pitch_deg"))
    return r["t_s"], r["true_tilt_deg"], r["foot_pitch_deg"], plant_heel_strikes(p.events)


@pytest.mark.parametrize("name", ["healthy_young", "healthy_middle"])
@pytest.mark.parametrize("leg", ["lt", "rt"])
def test_shank_tilt_cycle_matches_recording(nonan_dir, name, leg):
    """Issue 3's target, r ≥ 0.95 and ROM within 15 %, on the time-normalised mean cycles with
    no shift: the walker gets the recording's stride time and its kinematic toe-off (the flags'
    toe-off is 25-40 ms early; with it the young subject gave r = 0.946)."""
    rec = load_nonan_leg(nonan_dir / f"{name}.csv", leg)
    assert rec.tilt_deg.max() > 30  # sign flipped: positive around toe-off
    t, tilt, _, hs = _tilt_cycle(matched_walker(rec, get_preset("walker", "healthy")))
    r, rom = compare_cycles(mean_cycle(t, tilt, hs), mean_cycle(rec.t_s, rec.tilt_deg, rec.heel_strikes_s))
    assert r >= 0.95, r
    assert abs(rom - 1.0) <= 0.15, rom


def test_contact_flags_put_toe_off_early(nonan_dir):
    rec = load_nonan_leg(nonan_dir / "healthy_young.csv", "rt")
    assert 0.02 <= rec.stance_fraction_kinematic - rec.stance_fraction <= 0.05


@pytest.mark.parametrize("stance_fraction", [0.58, 0.61, 0.66])
def test_kinematic_toe_off_recovers_the_simulated_toe_off(stance_fraction):
    """The landmark estimator is unbiased where the truth is known: the plant's own tilt and foot pitch."""
    walker = get_preset("walker", "healthy").replace(stance_fraction=stance_fraction)
    t, tilt, foot, hs = _tilt_cycle(walker, 15.0)
    assert np.median(kinematic_toe_off(t, tilt, foot, hs)) == pytest.approx(stance_fraction, abs=0.01)
