"""The simulated shank tilt against real walking (NONAN GaitPrint, Wiles et al. 2023)."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.gait.validation import compare_cycles, load_nonan_leg, matched_walker, mean_cycle, plant_heel_strikes
from fes_sim.plant import WalkingPlant


@pytest.mark.parametrize("name", ["healthy_young", "healthy_middle"])
def test_shank_tilt_cycle_matches_recording(nonan_dir, name):
    rec = load_nonan_leg(nonan_dir / f"{name}.csv", "rt")
    assert rec.tilt_deg.max() > 30  # sign flipped: positive around toe-off
    p = WalkingPlant(matched_walker(rec, get_preset("walker", "healthy")))
    p.reset(1)
    t, tilt = [], []
    for _ in range(200 * 30):
        p.step(0.0, 0.0, 0.0)
        t.append(p.t_s)
        tilt.append(p.state.true_tilt_deg)
    sim = mean_cycle(np.array(t), np.array(tilt), plant_heel_strikes(p.events))
    real = mean_cycle(rec.t_s, rec.tilt_deg, rec.heel_strikes_s)
    r, rom = compare_cycles(sim, real)
    assert r >= 0.95
    assert abs(rom - 1.0) <= 0.15
