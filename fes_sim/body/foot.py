"""Swing-foot dynamics: a rigid foot pivoting at the moving ankle (REFERENCE §4;
Benoussaad et al. 2013; Blaya & Herr 2004).

J_A·α̈ = τ_TA + τ_vol + τ_pass(θ, κ) − B·θ̇ + τ_spas + τ_orth + τ_g

with foot pitch α (toe up positive), ankle θ = α + ψ_a, and the gravity plus ankle
acceleration term written for the foot's centre of mass at (c_x forward, c_z below)
the ankle in the foot frame:
τ_g = −m·(g + a_Az)·x_c + m·a_Ax·z_c, x_c = c_x·cos α + c_z·sin α, z_c = c_x·sin α − c_z·cos α.

Integration is second order: the linearly implicit trapezoidal rule
(:func:`trapezoid_velocity_step`). The stiff and viscous parts of the moment (passive
stiffness, voluntary PD tracking, damping, an orthosis' spring and damper) act at the
average of the step's start and end states, and the callers give the prescribed inputs at
the middle of the step (the mean of the block's values at its start and end) and the
evoked torque of the step's mean activation. An explicit step diverges once B·Δt/J exceeds
2 (a 4 g·m² foot with 10 N·m·s/rad of tracking damping at 1 kHz); this one is stable for
any stiffness and damping ≥ 0. Its stride outcomes at a 200 Hz plant lie as close to a
2 kHz plant as the first-order step's did at 1 kHz (``tools/compare_plant_rates.py``).
The heel rocker keeps the first-order :func:`implicit_velocity_step`.

The step functions are ``register_jitable``: the single plant calls them as Python
(``math.exp``), the compiled population kernel inlines the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from numba.extending import register_jitable

from fes_sim.body.passive import passive_moment_stiffness
from fes_sim.gait import kinematics
from fes_sim.samples import GRAVITY_MPS2

_DEG = 180.0 / math.pi


@dataclass(frozen=True)
class FootBody:
    """Mass properties of foot plus shoe (Winter tables, REFERENCE §3)."""

    mass_kg: float
    inertia_kgm2: float
    com_forward_m: float
    com_below_m: float

    @classmethod
    def of(cls, height_m: float, mass_kg: float, shoe_mass_kg: float, inertia_kgm2: float) -> "FootBody":
        """Centre of mass at half the foot length (0.152 H) from the heel point, 0.02 H below the ankle."""
        foot_len = 0.152 * height_m
        heel_back = kinematics.HEEL_BACK_M * kinematics.body_scale(height_m)
        return cls(0.0145 * mass_kg + shoe_mass_kg, inertia_kgm2, 0.5 * foot_len - heel_back, 0.02 * height_m)


@register_jitable
def gravity_torque_nm(cos_a, sin_a, acc_x_mps2, acc_z_mps2, body):
    """Moment of gravity and of the ankle's acceleration on the foot (N·m, toe up positive);
    ``body`` has ``mass_kg``, ``com_forward_m`` and ``com_below_m``."""
    x_c = body.com_forward_m * cos_a + body.com_below_m * sin_a
    z_c = body.com_forward_m * sin_a - body.com_below_m * cos_a
    return body.mass_kg * (acc_x_mps2 * z_c - (GRAVITY_MPS2 + acc_z_mps2) * x_c)


@register_jitable
def implicit_velocity_step(alpha, alpha_dot, tau_nm, stiffness_nm_per_rad, damping_nms_per_rad, inertia_kgm2, dt_s):
    """One linearly implicit Euler step of J·α̈ = τ; returns ``(alpha, alpha_dot)``.

    ``tau_nm`` is the moment at the start of the step; near it the moment falls by
    ``stiffness`` per radian of α and ``damping`` per rad/s of α̇, and those parts are taken
    at the end of the step: J·Δα̇/Δt = τ − K·Δt·(α̇ + Δα̇) − D·Δα̇, then α += Δt·α̇_new.
    """
    alpha_dot = alpha_dot + (tau_nm - stiffness_nm_per_rad * dt_s * alpha_dot) / (
        inertia_kgm2 / dt_s + damping_nms_per_rad + stiffness_nm_per_rad * dt_s
    )
    return alpha + alpha_dot * dt_s, alpha_dot


@register_jitable
def trapezoid_velocity_step(alpha, alpha_dot, tau_nm, stiffness_nm_per_rad, damping_nms_per_rad, inertia_kgm2, dt_s):
    """One linearly implicit trapezoidal step of J·α̈ = τ; returns ``(alpha, alpha_dot)``.

    As :func:`implicit_velocity_step`, but the stiff and viscous parts act at the weight θ = ½
    between the start and end states and α moves with that velocity: with Δα̇ the velocity
    change, J·Δα̇/Δt = τ − K·Δt·θ·(α̇ + θ·Δα̇) − D·θ·Δα̇, then α += Δt·(α̇ + θ·Δα̇). Second
    order where τ's other terms are taken at the middle of the step. The trapezoid does not damp
    what the step cannot resolve: a damper with D·Δt/J > 2 would flip the velocity's sign every
    step, and a spring with ω·Δt > 2 (ω² = K/J; the passive moment's stiffness near the end
    of the ankle's range) rings and overshoots. There θ grows towards 1 (the implicit Euler
    step), to 1 − J/(D·Δt) and 1 − 1/(ω·Δt), whichever is larger.
    """
    theta = 0.5
    if damping_nms_per_rad * dt_s > 2.0 * inertia_kgm2:
        theta = 1.0 - inertia_kgm2 / (damping_nms_per_rad * dt_s)
    if stiffness_nm_per_rad * dt_s * dt_s > 4.0 * inertia_kgm2:
        theta = max(theta, 1.0 - math.sqrt(inertia_kgm2 / stiffness_nm_per_rad) / dt_s)
    change = (tau_nm - theta * stiffness_nm_per_rad * dt_s * alpha_dot) / (
        inertia_kgm2 / dt_s + theta * damping_nms_per_rad + theta * theta * stiffness_nm_per_rad * dt_s
    )
    return alpha + dt_s * (alpha_dot + theta * change), alpha_dot + change


@dataclass(frozen=True)
class SwingFoot:
    """Per-walker constants of the swing-foot equation (floats; a namedtuple in the population kernel)."""

    inertia_kgm2: Any
    mass_kg: Any
    com_forward_m: Any
    com_below_m: Any
    vol_fraction: Any
    kp_nm_per_rad: Any
    kd_nms_per_rad: Any
    stiffness_scale: Any
    contracture_deg: Any
    damping_nms_per_rad: Any

    @classmethod
    def of(cls, field: Callable[[str], Any], foot: FootBody) -> "SwingFoot":
        """From walker fields (``field(name)``) and the foot's mass properties."""
        return cls(
            foot.inertia_kgm2, foot.mass_kg, foot.com_forward_m, foot.com_below_m, 1.0 - field("drop_foot_severity"),
            field("voluntary_kp_nm_per_rad"), field("voluntary_kd_nms_per_rad"), field("passive_stiffness_scale"), field("contracture_deg"),
            field("damping_nms_per_rad"),
        )


@register_jitable
def swing_foot_step(
    p, alpha, alpha_dot, tau_nm, stiffness_nm_per_rad, damping_nms_per_rad, theta_ref, theta_ref_dot, ff_nm, psi_a, psi_a_dot,
    knee_deg, acc_x_mps2, acc_z_mps2, dt_s: float, exp: Callable = math.exp,
):
    """One step of the swing foot; returns ``(alpha, alpha_dot)`` (rad, rad/s). The prescribed
    inputs (``theta_ref`` .. ``acc_z_mps2``) are those of the middle of the step.

    ``tau_nm`` is the moment of the evoked torque, the spastic reflex and an orthosis, and
    ``stiffness_nm_per_rad``, ``damping_nms_per_rad`` the orthosis' share of the implicit
    part. Voluntary control tracks the normative path (feed-forward ``ff_nm`` plus PD): its
    dorsiflexing part is lost with severity, its plantarflexing feed-forward is kept.
    """
    return swing_foot_step_trig(
        p, alpha, math.sin(alpha), math.cos(alpha), alpha_dot, tau_nm, stiffness_nm_per_rad, damping_nms_per_rad, theta_ref, theta_ref_dot,
        ff_nm, psi_a, psi_a_dot, knee_deg, acc_x_mps2, acc_z_mps2, dt_s, exp,
    )


@register_jitable
def swing_foot_step_trig(
    p, alpha, sin_alpha, cos_alpha, alpha_dot, tau_nm, stiffness_nm_per_rad, damping_nms_per_rad, theta_ref, theta_ref_dot, ff_nm, psi_a,
    psi_a_dot, knee_deg, acc_x_mps2, acc_z_mps2, dt_s: float, exp: Callable = math.exp,
):
    """:func:`swing_foot_step` with the sine and cosine of ``alpha`` given (a caller that has them saves the calls)."""
    theta = alpha + psi_a
    theta_dot = alpha_dot + psi_a_dot
    vol = p.vol_fraction
    pd = p.kp_nm_per_rad * (theta_ref - theta) + p.kd_nms_per_rad * (theta_ref_dot - theta_dot)
    tau_pass, k_pass = passive_moment_stiffness(theta * _DEG, knee_deg, p.stiffness_scale, p.contracture_deg, exp)
    tau = tau_nm + vol * (max(ff_nm, 0.0) + pd) + min(ff_nm, 0.0) + tau_pass - p.damping_nms_per_rad * theta_dot
    tau += gravity_torque_nm(cos_alpha, sin_alpha, acc_x_mps2, acc_z_mps2, p)
    return trapezoid_velocity_step(
        alpha, alpha_dot, tau, stiffness_nm_per_rad + vol * p.kp_nm_per_rad + k_pass,
        damping_nms_per_rad + vol * p.kd_nms_per_rad + p.damping_nms_per_rad, p.inertia_kgm2, dt_s,
    )
