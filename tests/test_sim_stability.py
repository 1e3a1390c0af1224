"""The plant stays finite and bounded for every walker the schema allows, not only the presets.

An explicit step of the swing foot diverges once B·Δt/J > 2, and a delayed velocity
reflex without activation dynamics rings up; both blew up inside the allowed ranges
(OverflowError in the passive moment). These tests sample the walker's parameters over
their whole ranges.
"""

from __future__ import annotations

import dataclasses
import math
import typing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fes_sim import population_kernel as kn
from fes_sim.body.orthosis import OrthosisConfig
from fes_sim.body.spasticity import REFLEX_MAX_NM, REFLEX_TAU_RISE_S, reflex_torque_step
from fes_sim.config import get_preset
from fes_sim.errors import ConfigError
from fes_sim.gait.walker import WalkerConfig
from fes_sim.plant import WalkingPlant
from fes_sim.samples import GaitEvent

#: anatomical ankle range is about −50°..+30°; the weakest allowed passive stiffness with no
#: damping lets a dropped foot overshoot that, and 40 N.m of evoked torque on the lightest
#: allowed foot lifts it to about 60° against a 0.2-scaled passive moment, but a stable plant
#: never folds the foot onto the shank (±90°)
ANKLE_BOUNDS_DEG = (-90.0, 90.0)


def _field_strategy(f: dataclasses.Field) -> st.SearchStrategy:
    if f.name == "cadence_spm":  # 0 = from speed; below 40 steps/min a short run holds no stride
        return st.one_of(st.just(0.0), st.floats(40.0, 160.0))
    if typing.get_origin(f.type) is typing.Literal or str(f.type).startswith(("Cause", "Recruitment", "ForceModel")):
        return st.sampled_from(typing.get_args(typing.get_type_hints(WalkerConfig)[f.name]))
    lo, hi = f.metadata["lo"], f.metadata["hi"]
    return st.one_of(st.just(float(lo)), st.just(float(hi)), st.floats(float(lo), float(hi)))


def _walker(values: dict) -> WalkerConfig:
    """A walker from independent draws, made consistent where the schema ties fields together."""
    values = dict(values)
    values["sensor_below_knee_m"] = min(values["sensor_below_knee_m"], 0.26 * values["height_m"])
    if values["cause"] != "peroneal_nerve":
        values["surviving_axon_fraction"] = 1.0
    if values["cause"] != "central":
        values["spasticity_gain_nms_per_deg"] = 0.0
    try:
        return WalkerConfig(**values)
    except ConfigError:  # no smooth phase warp for this pair of stance fractions
        return WalkerConfig(**{**values, "contralateral_stance_fraction": 0.0})


WALKERS = st.fixed_dictionaries({f.name: _field_strategy(f) for f in dataclasses.fields(WalkerConfig)}).map(_walker)
STIMULATION = st.lists(st.tuples(st.floats(0, 120), st.floats(0, 500), st.floats(0, 100)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WALKERS, STIMULATION, st.sampled_from([200.0, 1000.0]))
def test_any_allowed_walker_keeps_the_ankle_finite_and_bounded(walker, bursts, plant_rate_hz):
    plant = WalkingPlant(walker, plant_rate_hz=plant_rate_hz)
    plant.reset(0)
    lo, hi = ANKLE_BOUNDS_DEG
    for k in range(int(3.0 * plant.sample_rate_hz)):
        plant.step(*bursts[(k // 60) % len(bursts)])
        st_ = plant.state
        assert lo < st_.ankle_deg < hi, (st_.t_s, st_.ankle_deg)
        assert math.isfinite(st_.toe_height_mm)


def _oracle_stim(p: WalkingPlant, current_ma: float = 50.0):
    hs = [t for t, e in p.events if e == GaitEvent.HEEL_STRIKE]
    if not hs:
        return 0.0, 0.0, 0.0
    since = p.t_s - hs[-1]
    on = since >= p.walker.stance_fraction * p.walker.stride_s - 0.2 or since < 0.1
    return (current_ma, 300.0, 40.0) if on else (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "walker, stimulate",
    [
        # delayed reflex without activation dynamics: OverflowError at t ≈ 8 s
        (get_preset("walker", "hemiparetic_slow").replace(spasticity_gain_nms_per_deg=0.08), True),
        # explicit damping: (B + K_d)·Δt/J = 2.6 > 2, OverflowError within one stride
        (get_preset("walker", "healthy").replace(foot_inertia_kgm2=0.004, voluntary_kd_nms_per_rad=10.0), False),
    ],
)
def test_audit_cases_no_longer_blow_up(walker, stimulate):
    plant = WalkingPlant(walker)
    plant.reset(1)
    for _ in range(200 * 12):
        plant.step(*(_oracle_stim(plant) if stimulate else (0.0, 0.0, 0.0)))
        assert ANKLE_BOUNDS_DEG[0] < plant.state.ankle_deg < ANKLE_BOUNDS_DEG[1]
    assert len(plant.strides) >= 5


def test_light_foot_with_stiff_tracking_follows_the_healthy_path():
    """Implicit damping is not only stable but right: a 4 g·m² foot tracking with K_d = 10 stays
    within a few mm of the default healthy walker's MTC and never drags."""
    mtc = {}
    for name, walker in (("default", get_preset("walker", "healthy")), ("light", get_preset("walker", "healthy").replace(foot_inertia_kgm2=0.004, voluntary_kd_nms_per_rad=10.0))):
        plant = WalkingPlant(walker)
        plant.reset(2)
        for _ in range(200 * 15):
            plant.step(0.0, 0.0, 0.0)
        assert not any(s.toe_drag for s in plant.strides)
        mtc[name] = np.median([s.mtc_mm for s in plant.strides])
    assert abs(mtc["light"] - mtc["default"]) < 4.0, mtc


def test_reflex_torque_rises_with_its_activation_time_constant_and_never_overshoots():
    tau, gain, thr, dt = 0.0, 0.05, 60.0, 0.001
    target = gain * (260.0 - thr)
    trace = []
    for _ in range(400):
        tau = reflex_torque_step(tau, 260.0, gain, thr, dt)
        trace.append(tau)
    trace = np.array(trace)
    assert np.all(np.diff(trace) >= 0.0) and trace.max() <= target
    k = int(round(REFLEX_TAU_RISE_S / dt)) - 1
    assert trace[k] == pytest.approx(target * (1.0 - math.exp(-1.0)), rel=1e-9)
    assert reflex_torque_step(1.0, 0.0, gain, thr, dt) < 1.0  # decays once the stretch stops


def test_reflex_torque_stays_below_the_plantarflexors_ceiling():
    """A clonus-like stretch at thousands of deg/s with the largest gain: the excitation is capped at
    what the calf can give, so the torque rises to the ceiling and no further."""
    tau = 0.0
    for _ in range(2000):
        tau = reflex_torque_step(tau, 5000.0, 0.2, 0.0, 0.001)
        assert tau <= REFLEX_MAX_NM
    assert tau == pytest.approx(REFLEX_MAX_NM, rel=1e-6)


def test_a_braced_light_undamped_foot_with_strong_delayed_spasticity_stays_in_range():
    """Found by the orthosis test below: 4 g·m², no damping, a 0.2-scaled passive moment,
    G_v 0.2 N·m·s/deg after 100 ms and a plantarflexion-stiff brace at 1 kHz; the uncapped
    reflex reached 480 N·m and the ankle −90°."""
    walker = WalkerConfig(
        height_m=1.3, mass_kg=35.0, shoe_mass_kg=0.0, foot_inertia_kgm2=0.004, speed_mps=0.2, stance_fraction=0.56, contralateral_stance_fraction=0.0,
        stride_cv=0.2, stride_ar1=0.0, joint_offset_sd_deg=0.0, drop_foot_severity=0.0, cause="central", voluntary_df_torque_nm=0.0,
        voluntary_kp_nm_per_rad=0.0, voluntary_kd_nms_per_rad=0.0, passive_stiffness_scale=0.2, damping_nms_per_rad=0.0,
        spasticity_gain_nms_per_deg=0.2, spasticity_threshold_dps=0.0, spasticity_delay_ms=100.0, heel_load_nm_per_kg=0.0, slap_velocity_dps=10.0,
        max_evoked_torque_nm=0.0, charge_half_uc=0.5, charge_width_uc=0.1, emd_ms=0.0, tau_act_ms=5.0, tau_deact_ms=5.0, fusion_constant_s=0.01,
        torque_angle_opt_deg=-40.0, torque_angle_width_deg=5.0, fatigue_mu_min=0.0, fatigue_time_s=1.0, recovery_time_s=1.0,
        pushoff_stiffness_nm_per_deg=50.0, mtc_target_mm=0.0, sensor_below_knee_m=0.0, sensor_misalignment_deg=-30.0,
    )
    afo = OrthosisConfig(neutral_deg=11.0, dorsiflexion_stiffness_nm_per_deg=0.0, plantarflexion_stiffness_nm_per_deg=20.0, damping_nms_per_deg=0.0)
    plant = WalkingPlant(walker, plant_rate_hz=1000.0, orthosis=afo.torque_nm)
    plant.reset(0)
    ankle = []
    for _ in range(200 * 6):
        plant.step(0.0, 0.0, 0.0)
        ankle.append(plant.state.ankle_deg)
    assert -50.0 < min(ankle) and max(ankle) < 80.0


@pytest.mark.parametrize("compiled", [True, False])
def test_reflex_delay_line_is_fed_in_stance(compiled):
    """At toe-off the reflex delay line holds the ankle velocities of the last stance milliseconds
    (it was fed only in swing, so the first 40 ms of swing saw those of the previous swing)."""
    walker = get_preset("walker", "hemiparetic_slow")
    plant = WalkingPlant(walker, sample_rate_hz=1000.0, plant_rate_hz=1000.0)
    plant.compiled = compiled
    plant.reset(1)
    ankle = []
    while not any(e == GaitEvent.TOE_OFF for _, e in plant.events):
        plant.step(0.0, 0.0, 0.0)
        ankle.append(plant.state.ankle_deg)
    if compiled:
        lanes = plant._lanes
        n, line = lanes.I[0, kn.I_SPAS_N], np.roll(lanes.spas_buf[0], -lanes.I[0, kn.I_SPAS_POS])  # oldest first
    else:
        n, line = plant._spas_n, np.roll(np.array(plant._spas_buf), -plant._spas_i)
    velocity = np.gradient(np.array(ankle), 1e-3)[-n:]
    assert np.max(np.abs(velocity)) > 50.0  # push-off: the ankle moves fast
    np.testing.assert_allclose(line, velocity, atol=0.05 * np.max(np.abs(velocity)))


ORTHOSES = st.builds(
    lambda n, kd, kp, b: OrthosisConfig(neutral_deg=n, dorsiflexion_stiffness_nm_per_deg=kd, plantarflexion_stiffness_nm_per_deg=kp, damping_nms_per_deg=b),
    st.floats(-20, 20), st.sampled_from([0.0, 20.0]) | st.floats(0, 20), st.sampled_from([0.0, 20.0]) | st.floats(0, 20), st.sampled_from([0.0, 0.2]) | st.floats(0, 0.2),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(WALKERS, ORTHOSES, st.sampled_from([200.0, 1000.0]))
def test_any_allowed_orthosis_keeps_the_ankle_finite_and_bounded(walker, afo, plant_rate_hz):
    """Brace springs up to 20 N·m/deg and dampers up to 0.2 N·m·s/deg on the lightest foot: the
    swing and heel-rocker steps take them implicitly, the stance balance quasi-statically."""
    plant = WalkingPlant(walker, plant_rate_hz=plant_rate_hz, orthosis=afo.torque_nm)
    plant.reset(0)
    lo, hi = ANKLE_BOUNDS_DEG
    for _ in range(int(3.0 * plant.sample_rate_hz)):
        plant.step(0.0, 0.0, 0.0)
        assert lo < plant.state.ankle_deg < hi, (plant.state.t_s, plant.state.ankle_deg)
