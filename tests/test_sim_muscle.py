"""The stimulated tibialis anterior: recruitment models, the Ding force models, and the evoked torque."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fes_sim.body import muscle
from fes_sim.body.ding import DING2007, Ding2003, Ding2003State
from fes_sim.config import get_preset
from fes_sim.plant import WalkingPlant


def _standing(walker, stim, seconds: float, sample_rate_hz: float = 1000.0):
    """Evoked torque (N·m) at every sample of a standing walker under ``stim(t_s)`` → (current, pw, f)."""
    plant = WalkingPlant(walker, scenario=get_preset("scenario", "stand"), sample_rate_hz=sample_rate_hz, plant_rate_hz=1000.0)
    plant.reset(1)
    out = []
    for k in range(int(seconds * sample_rate_hz)):
        plant.step(*stim(k / sample_rate_hz))
        out.append(plant.state.torque_nm)
    return np.array(out), plant


def test_ding2007_recruitment_depends_on_current_and_pulse_width():
    """It used A(pw) alone: 20 mA and 100 mA gave the same torque."""
    half = 9.0
    r = lambda i, pw: muscle.recruitment("ding2007", i, pw, half, 2.5)  # noqa: E731
    assert r(20.0, 300.0) < 0.3 < 0.95 < r(100.0, 300.0)
    assert r(30.0, 300.0) == pytest.approx(0.5, abs=1e-9)  # 9 µC: the walker's half-recruitment charge
    # at Ding's fixed current I_D the published curve A(pw)/4920 comes back
    i_d = half / (muscle.DING07_PW_HALF_US * 1e-3)
    for pw in (150.0, 250.0, 400.0, 600.0):
        assert r(i_d, pw) == pytest.approx(1.0 - math.exp(-(pw - 131.4) / 194.1), rel=1e-12)
    assert r(i_d, 120.0) == 0.0


def test_hmed2018_values_and_its_missing_pulse_width():
    """λ = a_r·(tanh(b_s·(I − I_s)) + c_r) (REFERENCE §5); λ(I_s) = a_r·c_r. Hmed's model has no
    pulse-width input, so any width gives the same λ (stated in ``recruit_hmed2018``)."""
    lam = lambda i, pw=300.0: muscle.recruitment("hmed2018", i, pw, 9.0, 2.5)  # noqa: E731
    assert lam(63.1) == pytest.approx(0.586 * 0.833, rel=1e-12)
    assert lam(100.0) == pytest.approx(0.586 * (math.tanh(0.026 * 36.9) + 0.833), rel=1e-12)
    assert lam(15.0) == 0.0 < lam(20.0)  # threshold near 17 mA
    assert lam(60.0, 100.0) == lam(60.0, 500.0)


def test_plant_torque_with_ding2007_recruitment_follows_the_current():
    walker = get_preset("walker", "drop_foot_severe").replace(recruitment="ding2007")
    peaks = [_standing(walker, lambda t, i=i: (i, 300.0, 40.0), 1.0)[0].max() for i in (20.0, 40.0, 100.0)]
    assert peaks[0] < 0.5 * peaks[1] < peaks[2]
    assert peaks[2] <= walker.max_evoked_torque_nm


def test_ding_force_model_takes_ding2007_constants_with_its_recruitment():
    """Ding 2007's τ1 + τ2 = 62 ms relaxes the force faster than Ding 2003's 51 ms + 60 ms·C_N/(Km + C_N)."""
    base = get_preset("walker", "drop_foot_severe").replace(force_model="ding2003")

    def half_relaxation_s(recruitment: str) -> float:
        torque, plant = _standing(base.replace(recruitment=recruitment), lambda t: (60.0, 300.0, 40.0) if t < 1.0 else (0.0, 0.0, 0.0), 1.6)
        assert plant._ding.m.tau_c_s == (DING2007.tau_c_s if recruitment == "ding2007" else Ding2003().tau_c_s)
        peak = torque[:1000].max()
        return float(np.argmax((np.arange(torque.size) > 1000 + 25) & (torque < 0.5 * peak)) - 1000) * 1e-3

    assert half_relaxation_s("ding2007") < 0.8 * half_relaxation_s("sigmoid")


def test_ding_state_fatigues_with_the_recruited_force():
    """Recruitment scales A, so a half-recruited muscle makes half the force and fatigues more slowly."""
    full, half = Ding2003State(127.0), Ding2003State(127.0)
    for s in (full, half):
        s.set_train(40.0)
    for _ in range(20000):
        full.step(0.001, 1.0)
        half.step(0.001, 0.5)
    assert half.fatigue > full.fatigue
    assert 0.0 < half.force_fraction < full.force_fraction <= 1.0


def _onset_s(torque: np.ndarray, start_s: float, fs: float = 1000.0) -> float:
    k = int(round(start_s * fs))
    return float(np.argmax(torque[k:] > 1e-6)) / fs


@pytest.mark.parametrize("emd_ms", [0.0, 25.0, 60.0])
def test_electromechanical_delay_holds_the_torque_back(emd_ms):
    """Torque starts one EMD after the stimulation does (Zhou 1995: about 17 ms, plus latency)."""
    walker = get_preset("walker", "drop_foot_severe").replace(emd_ms=emd_ms)
    torque, _ = _standing(walker, lambda t: (60.0, 300.0, 40.0) if t >= 0.5 else (0.0, 0.0, 0.0), 1.0)
    assert _onset_s(torque, 0.5) == pytest.approx(emd_ms * 1e-3, abs=1.5e-3)


def test_evoked_torque_follows_the_fusion_factor_with_frequency():
    """Steady torque ∝ (s·f)²/(1 + (s·f)²) (REFERENCE §5): 10, 20 and 40 Hz against 40 Hz."""
    walker = get_preset("walker", "drop_foot_severe").replace(fatigue_time_s=3600.0, recovery_time_s=3600.0)
    steady = {}
    for f in (10.0, 20.0, 40.0):
        torque, plant = _standing(walker, lambda t, f=f: (60.0, 300.0, f), 1.0)
        steady[f] = torque[-200:].mean() / plant.state.fatigue
    for f in (10.0, 20.0):
        expected = muscle.fusion_factor(f, walker.fusion_constant_s) / muscle.fusion_factor(40.0, walker.fusion_constant_s)
        assert steady[f] / steady[40.0] == pytest.approx(expected, rel=0.03)


def test_evoked_torque_scales_with_the_torque_angle_relation():
    """Torque = T_max·axons·activation·fitness·exp(−((θ − θ_opt)/w)²) while weight shifts move the ankle."""
    from fes_sim.gait.scenario import Scenario, Segment

    walker = get_preset("walker", "drop_foot_mild").replace(torque_angle_opt_deg=20.0, torque_angle_width_deg=20.0)
    plant = WalkingPlant(walker, scenario=Scenario("shift", (Segment("weight_shift", 1e6),)), sample_rate_hz=1000.0, plant_rate_hz=1000.0)
    plant.reset(2)
    factors = []
    for _ in range(1000 * 6):
        plant.step(45.0, 300.0, 40.0)
        st = plant.state
        if st.activation > 0.5:
            factor = muscle.torque_angle_factor(st.ankle_deg, walker.torque_angle_opt_deg, walker.torque_angle_width_deg)
            assert st.torque_nm == pytest.approx(walker.max_evoked_torque_nm * st.activation * st.fatigue * factor, rel=2e-3)
            factors.append(factor)
    assert max(factors) > 1.3 * min(factors)  # the ankle moved along the relation
    assert muscle.torque_angle_factor(walker.torque_angle_opt_deg + 20.0, walker.torque_angle_opt_deg, 20.0) == pytest.approx(math.exp(-1.0))
