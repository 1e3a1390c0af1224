"""Kinematics, muscle, passive moment, Ding 2003 and sensor models of the walking simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fes_sim.body import muscle
from fes_sim.body.ding import Ding2003, derivatives, reference_forces
from fes_sim.body.passive import passive_moment_nm
from fes_sim.errors import ConfigError
from fes_sim.gait import kinematics
from fes_sim.gait.scenario import SCENARIOS, Scenario, Segment
from fes_sim.gait.walker import PRESETS, WalkerConfig


def _extremum(name: str, kind: str) -> tuple[float, float]:
    p = np.linspace(0, 1, 10001)
    y = kinematics.evaluate(name, p)
    i = int(np.argmax(y) if kind == "max" else np.argmin(y))
    return float(y[i]), float(p[i])


# Winter checkpoints (REFERENCE §2); the series reproduces the raw data within 1.5 deg,
# and the extremum phases within 3 % of the cycle.
@pytest.mark.parametrize(
    "name, kind, value, phase",
    [("ankle", "min", -20.5, 0.62), ("ankle", "max", 6.9, 0.36), ("knee", "max", 66.6, 0.71), ("shank", "max", 53.2, 0.64), ("shank", "min", -22.0, 0.96)],
)
def test_winter_extrema(name, kind, value, phase):
    y, p = _extremum(name, kind)
    assert abs(y - value) <= 1.5
    assert abs(p - phase) <= 0.03


def test_winter_shank_checkpoints():
    ref = {0.0: -18.4, 0.45: 24.8, 0.50: 31.3, 0.55: 41.9, 0.60: 49.3}
    for p, v in ref.items():
        assert abs(float(kinematics.evaluate("shank", p)) - v) <= 1.5


def test_warp_puts_toe_off_at_stance_fraction():
    for f in (0.58, 0.61, 0.65, 0.70, 0.74):
        b, a = kinematics.warp_coefficients(f)
        assert a == pytest.approx(0.0, abs=1e-12)  # symmetric: the other heel strike stays at 50 %
        assert kinematics.warp_phase(f, b) == pytest.approx(kinematics.REF_TOE_OFF, abs=1e-12)
        p = np.linspace(0, 1, 1001)
        assert np.all(np.diff(kinematics.warp_phase(p, b)) > 0)


def test_unreachable_stance_fraction_is_a_config_error():
    with pytest.raises(ConfigError, match="stance_fraction"):
        WalkerConfig(stance_fraction=0.8)


def test_cadence_from_walk_ratio():
    assert float(kinematics.cadence_from_speed(1.42)) == pytest.approx(119.2, abs=0.5)  # Winter's trial: 121.6


def test_passive_moment_equilibria():
    """About −18° with the knee straight and −5.5° at 60° flexion (REFERENCE §4)."""
    from scipy.optimize import brentq

    assert brentq(lambda th: passive_moment_nm(th, 0.0), -40, 20) == pytest.approx(-18.0, abs=1.0)
    assert brentq(lambda th: passive_moment_nm(th, 60.0), -40, 20) == pytest.approx(-5.5, abs=1.0)


def test_activation_plus_sign_is_stable_and_rises_in_about_100_ms():
    a, t = 0.0, 0.0
    while a < 0.9:
        a = muscle.activation_step(a, 1.0, 0.001, 0.04, 0.08)
        t += 0.001
    assert 0.06 <= t <= 0.13  # evoked torque rises in 80-120 ms (Bickel 2004)
    for _ in range(2000):
        a = muscle.activation_step(a, 0.0, 0.001, 0.04, 0.08)
    assert 0.0 <= a < 1e-6


def test_recruitment_curves_are_monotone_and_bounded():
    q = np.linspace(0, 120, 50)
    for kind in ("sigmoid", "hmed2018", "ding2007"):
        r = [muscle.recruitment(kind, c, 300.0, 11.0, 2.5) for c in q]
        assert all(0.0 <= x <= 1.0 for x in r)
        assert all(b >= a - 1e-12 for a, b in zip(r, r[1:]))
        assert muscle.recruitment(kind, 0.0, 300.0, 11.0, 2.5) == 0.0


def test_ding2003_reproduces_cocofest_reference():
    f = reference_forces(fatigue=False)
    assert f[0] == 0.0
    np.testing.assert_allclose(f[1:3], [56.30834295, 107.87317966], rtol=1e-6)
    assert f[-1] == pytest.approx(268.88100074, rel=1e-6)
    assert reference_forces(fatigue=True)[-1] == pytest.approx(270.50472613, rel=1e-6)


def test_ding2003_fatigue_derivatives():
    d = derivatives(0.11, np.array([5.0, 100.0, 3009.0, 0.050957, 0.103]), np.array([0.0, 0.1]), Ding2003())
    np.testing.assert_allclose(d, [-219.4399, 2037.0703, -40.0, 0.0021, 0.0019], rtol=1e-6)


def test_presets_and_scenarios_round_trip_through_toml():
    import tomllib

    from fes_sim.config.schema import from_mapping, to_toml

    for w in PRESETS.values():
        assert from_mapping(WalkerConfig, tomllib.loads(to_toml(w))) == w
    for s in SCENARIOS.values():
        assert from_mapping(Scenario, tomllib.loads(to_toml(s))) == s


def test_scenario_rejects_impossible_order():
    with pytest.raises(ConfigError, match="segments\\[0\\]"):
        Scenario("bad", (Segment("sit_to_stand", 2.0),))


def test_walker_cause_fields_for_orthosis_work():
    w = PRESETS["peroneal_nerve_injury"]
    assert w.cause == "peroneal_nerve" and 0.0 <= w.surviving_axon_fraction < 0.5
    assert math.isclose(PRESETS["healthy"].surviving_axon_fraction, 1.0)


def test_contracture_moves_the_equilibrium_but_not_the_plantarflexion_end():
    """A shortened calf resists dorsiflexion earlier; the plantarflexion end of the range stays."""
    from scipy.optimize import brentq

    eq = brentq(lambda th: passive_moment_nm(th, 0.0, 1.0, 10.0), -60, 20)
    assert eq == pytest.approx(-28.0, abs=1.0)
    end = passive_moment_nm(-55.0, 0.0)  # about 17 N·m resisting plantarflexion
    assert end > 10.0 and passive_moment_nm(-55.0, 0.0, 1.0, 10.0) == pytest.approx(end, rel=0.05)
