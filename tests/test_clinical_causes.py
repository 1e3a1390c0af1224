"""The cause of foot drop decides whether peroneal stimulation can help.

Nerve stimulation needs an intact lower motor neuron: a central lesion responds
normally, a peroneal nerve injury in proportion to its surviving axons, and a
muscle disease with little torque that fades fast. Clearance is judged on the
strides the controller actually stimulated, so the tests ask about the body,
not about how often the detector fires.
"""

from __future__ import annotations

import numpy as np
import pytest

from fes_sim.config import get_preset
from fes_sim.plant import WalkingPlant
from fes_sim.session import SessionResult, SimulationSession

DURATION_S = 30.0
SEED = 2
#: the current a clinician sets for these walkers (8.75 uC at 250 us, about half recruitment at
#: their 9 uC); the preset's 30 mA leaves drop_foot_severe's MTC near 9 mm
TITRATED_MA = 35.0


def run(walker, fes: bool, afo: str | None = None) -> SessionResult:
    base = get_preset("controller", "walkaide_tilt")
    controller = base.replace(stimulation=base.stimulation.replace(current_ma=TITRATED_MA)) if fes else None
    orthosis = get_preset("afo", afo).torque_nm if afo else None
    return SimulationSession(walker, controller, orthosis=orthosis).run(DURATION_S, SEED)


def stimulated(result: SessionResult) -> list:
    rows = [r for r in result.rows if np.isfinite(r.t_stim_on_s)]
    assert len(rows) >= 0.5 * len(result.rows), "the controller stimulated too few strides to judge"
    return rows


def complete_peroneal_injury():
    return get_preset("walker", "peroneal_nerve_injury").replace(surviving_axon_fraction=0.0)


def test_fes_on_a_central_lesion_restores_clearance():
    walker = get_preset("walker", "drop_foot_severe")
    assert walker.cause == "central" and walker.surviving_axon_fraction == 1.0
    untreated = run(walker, fes=False)
    assert untreated.summary["toe_drag_strides"] >= 0.8 * untreated.summary["strides"]
    rows = stimulated(run(walker, fes=True))
    assert not any(r.toe_drag for r in rows)
    assert np.median([r.mtc_mm for r in rows]) >= 10.0


def test_fes_on_a_complete_peroneal_nerve_injury_does_not_restore_clearance():
    walker = complete_peroneal_injury()
    untreated = run(walker, fes=False)
    treated = run(walker, fes=True)
    rows = stimulated(treated)
    assert all(r.toe_drag for r in rows)
    # no surviving axons: the stimulated foot moves exactly as the untreated one
    np.testing.assert_allclose([s.mtc_mm for s in treated.plant.strides], [s.mtc_mm for s in untreated.plant.strides])


def test_an_afo_helps_where_fes_cannot():
    walker = complete_peroneal_injury()
    assert run(walker, fes=False, afo="hinged").summary["toe_drag_strides"] == 0
    assert run(walker, fes=True, afo="hinged").summary["toe_drag_strides"] == 0


def test_partial_denervation_gives_clearance_in_proportion_to_surviving_axons():
    base = get_preset("walker", "peroneal_nerve_injury")
    mtc = [np.median([r.mtc_mm for r in stimulated(run(base.replace(surviving_axon_fraction=f), fes=True))]) for f in (0.0, 0.4, 1.0)]
    assert mtc[0] < mtc[1] < mtc[2], mtc
    assert mtc[2] > 5.0


def _constant_train(walker, seconds: float) -> tuple[float, float]:
    """Peak evoked torque (N·m) and fitness left after ``seconds`` of steady 40 Hz stimulation."""
    plant = WalkingPlant(walker, scenario=get_preset("scenario", "stand"))
    plant.reset(1)
    peak = 0.0
    for _ in range(int(seconds * plant.sample_rate_hz)):
        plant.step(60.0, 300.0, 40.0)
        peak = max(peak, plant.state.torque_nm)
    return peak, plant.state.fatigue


def test_muscle_disease_has_low_evoked_torque_and_fatigues_faster():
    central = get_preset("walker", "drop_foot_severe")
    muscle = get_preset("walker", "muscle_disease")
    assert muscle.cause == "muscle" and muscle.surviving_axon_fraction == 1.0
    peak_central, fit_central = _constant_train(central, 10.0)
    peak_muscle, fit_muscle = _constant_train(muscle, 10.0)
    assert peak_muscle < 0.6 * peak_central
    assert fit_muscle < fit_central


@pytest.mark.parametrize("name", ["drop_foot_severe", "hemiparetic_slow"])
def test_central_lesion_walkers_keep_a_normal_nerve(name):
    w = get_preset("walker", name)
    assert w.cause == "central" and w.surviving_axon_fraction == 1.0


def test_a_central_lesion_may_carry_spasticity_and_contracture():
    w = get_preset("walker", "hemiparetic_slow")
    assert w.spasticity_gain_nms_per_deg > 0.0 and w.contracture_deg > 0.0
