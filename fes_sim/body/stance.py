"""The foot on the floor: pitch of a foot resting on a point, and stance under an evoked torque."""

from __future__ import annotations

import math

from numba.extending import register_jitable

_DEG = 180.0 / math.pi


@register_jitable
def contact_angle(ankle_z: float, forward: float, below: float) -> float:
    """Foot pitch (rad) that puts a foot point (``forward`` of, ``below`` the ankle) on the floor."""
    r = math.hypot(forward, below)
    return math.atan2(below, forward) + math.asin(max(-1.0, min(1.0, -ankle_z / r)))


@register_jitable
def stance_pitch_with_drive(alpha_rad: float, flat_rad: float, tau_ev_nm: float, stiffness_nm_per_deg: float) -> float:
    """Foot pitch (rad) in stance with an evoked dorsiflexion torque: where the heel is off the
    floor (push-off) the ankle gives way about its prescribed path, K·Δθ = τ_ev (quasi-static,
    the walker's push-off stiffness K), and the heel comes down at most to the floor. Flat or
    toe-up stance is unchanged (the body's weight holds the forefoot down)."""
    if alpha_rad >= flat_rad or tau_ev_nm <= 0.0:
        return alpha_rad
    return min(flat_rad, alpha_rad + tau_ev_nm / stiffness_nm_per_deg / _DEG)
