"""Loading response after a heel-first contact: the foot rotates down about the heel.

Perry & Burnfield (Gait Analysis, 2nd ed. 2010, ch. 4, "heel rocker"): from initial
contact to forefoot contact the body load on the heel, behind the ankle, plantarflexes
the foot, and the pretibial muscles lower it eccentrically; without them the forefoot
slaps the floor. Blaya & Herr 2004 (IEEE TNSRE 12:24) describe slap foot in drop foot as
this missing controlled plantarflexion and restore it with an ankle impedance in
loading response. Here the foot is a rigid body pivoting on the heel:

J_H·α̈ = τ_ev + τ_vol + τ_pass(θ, κ) − B·θ̇ + τ_ext − M_load(t)

M_load = m·M_heel·min(1, t/T_load) is the plantarflexing moment of the body load about
the ankle while the heel alone carries it (``heel_load_nm_per_kg``, ramped as the
weight is accepted over :data:`LOAD_RAMP_S`). τ_vol is the voluntary eccentric control
that keeps the normative path: what the walker's own torques (passive, damping, load,
orthosis) leave to a stiff PD tracking of α_ref, clipped to 0..``voluntary_df_torque_nm``
and scaled by 1 − severity. The evoked torque is not among them: it adds to the voluntary
drive instead of being cancelled by it, as in swing (a loading response lasts ~100 ms,
shorter than a voluntary correction; with cancellation, stimulation could not help a
walker with residual control in loading response, and lifting the landing foot above the
path only switched that control off). The evoked
torque τ_ev is raised by the tibialis anterior's eccentric force enhancement while the
ankle plantarflexes (the muscle lengthens): ×(1 + E·ω/(ω + ω_½)), E = :data:`ECCENTRIC_GAIN`
(lengthening muscle reaches about 1.8× its isometric force, Katz 1939; the Hill-type
curve of Zajac 1989). Foot-flat
is foot pitch within :data:`FOOT_FLAT_RAD` of the surface; its angular velocity is the
slap measure. The foot's own weight about the heel (≈ 1.5 N·m) is left out.

One step works on floats (``math.exp``, the single plant) and on arrays of walkers
(``numpy.exp``, the population) with the same operations, so both give the same run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from numba.extending import register_jitable

from fes_sim.body.foot import FootBody, implicit_velocity_step
from fes_sim.body.passive import passive_moment_stiffness

#: time over which the body weight comes onto the heel (Perry: weight acceptance in loading response)
LOAD_RAMP_S = 0.06
#: foot pitch (rad) above the surface that counts as forefoot contact (shoe sole compression)
FOOT_FLAT_RAD = math.radians(0.5)
#: stiffness and damping of the voluntary eccentric control of the lowering foot (normal heel rocker);
#: the damping is about critical, 2·√(K·J_H) = 5-6 N·m·s/rad for J_H 0.03-0.045 kg·m²: an underdamped
#: tracker (3 N·m·s/rad) catching up with the path overshot in velocity and slapped a foot landing above it
LOADING_KP_NM_PER_RAD = 200.0
LOADING_KD_NMS_PER_RAD = 6.0
#: eccentric force enhancement of the evoked torque (plateau 1 + gain) and the lengthening speed of half of it (rad/s)
ECCENTRIC_GAIN = 0.8
ECCENTRIC_HALF_RAD_S = 1.0

_DEG = 180.0 / math.pi


@register_jitable
def _relu(x):
    """max(x, 0) for floats and arrays alike."""
    return 0.5 * (x + abs(x))


@dataclass(frozen=True)
class HeelRocker:
    """Per-walker constants of the loading response (floats, or arrays for a population)."""

    inertia_kgm2: Any
    load_nm: Any
    vol_fraction: Any
    vol_max_nm: Any
    stiffness_scale: Any
    contracture_deg: Any
    damping_nms_per_rad: Any

    @classmethod
    def of(cls, field: Callable[[str], Any], foot: FootBody, heel_back_m: Any, heel_below_m: Any) -> "HeelRocker":
        """From walker fields (``field(name)`` gives a float or an array) and the foot geometry.

        J_H = J_A + m·(|h|² − 2·c·h) (parallel axes; c the centre of mass, h the heel, both from the ankle).
        """
        c_dot_h = -foot.com_forward_m * heel_back_m + foot.com_below_m * heel_below_m
        inertia = foot.inertia_kgm2 + foot.mass_kg * (heel_back_m**2 + heel_below_m**2 - 2.0 * c_dot_h)
        return cls(
            inertia, field("mass_kg") * field("heel_load_nm_per_kg"), 1.0 - field("drop_foot_severity"), field("voluntary_df_torque_nm"),
            field("passive_stiffness_scale"), field("contracture_deg"), field("damping_nms_per_rad"),
        )


@register_jitable
def heel_rocker_step(
    p: HeelRocker, alpha, alpha_dot, t_since_contact_s, tau_ev_nm, tau_ext_nm, k_ext_nm_per_rad, d_ext_nms_per_rad, alpha_ref, alpha_ref_dot,
    psi_a, psi_a_dot, knee_deg, dt_s: float, exp: Callable = math.exp,
):
    """One linearly implicit step of the foot about the heel; returns ``(alpha, alpha_dot)`` (rad, rad/s).

    ``tau_ext_nm`` is the moment of an orthosis and the spastic reflex; ``k_ext_nm_per_rad`` and
    ``d_ext_nms_per_rad`` the orthosis' stiffness and damping, taken implicitly with the passive
    stiffness, the damping and (while it is not saturated) the voluntary tracking
    (:func:`fes_sim.body.foot.implicit_velocity_step`).
    """
    theta = alpha + psi_a
    theta_dot = alpha_dot + psi_a_dot
    lengthening = _relu(-theta_dot)
    tau_ev_nm = tau_ev_nm * (1.0 + ECCENTRIC_GAIN * lengthening / (lengthening + ECCENTRIC_HALF_RAD_S))
    ramp = _relu(t_since_contact_s) / LOAD_RAMP_S
    load = p.load_nm * (1.0 - _relu(1.0 - ramp))
    tau_pass, k_pass = passive_moment_stiffness(theta * _DEG, knee_deg, p.stiffness_scale, p.contracture_deg, exp)
    own = tau_pass - p.damping_nms_per_rad * theta_dot + tau_ext_nm - load
    need = LOADING_KP_NM_PER_RAD * (alpha_ref - alpha) + LOADING_KD_NMS_PER_RAD * (alpha_ref_dot - alpha_dot) - own
    vol = p.vol_fraction * (_relu(need) - _relu(need - p.vol_max_nm))
    # while the voluntary drive tracks (0 < need < max) it replaces that share of the walker's own stiffness
    tracking = p.vol_fraction * (need > 0.0) * (need < p.vol_max_nm)
    k_own = k_pass + k_ext_nm_per_rad
    d_own = p.damping_nms_per_rad + d_ext_nms_per_rad
    return implicit_velocity_step(
        alpha, alpha_dot, own + tau_ev_nm + vol, k_own + tracking * (LOADING_KP_NM_PER_RAD - k_own),
        d_own + tracking * (LOADING_KD_NMS_PER_RAD - d_own), p.inertia_kgm2, dt_s,
    )
