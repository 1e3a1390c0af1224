"""The simulated shank tilt against real walking (NONAN GaitPrint, Wiles et al. 2023)."""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.gait.validation import best_lag, compare_cycles, load_nonan_leg, matched_walker, mean_cycle, plant_heel_strikes
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
    lag, r_aligned = best_lag(sim, real)
    # NONAN's heel strikes come from the Noraxon contact algorithm (not force plates); the
    # young subject's cycle sits 4 % later than Winter's, so the target is checked after
    # an alignment of at most 5 % of the cycle, and the raw correlation must stay high.
    assert r >= 0.9
    assert r_aligned >= 0.95 and abs(lag) <= 0.05
    assert abs(rom - 1.0) <= 0.15
