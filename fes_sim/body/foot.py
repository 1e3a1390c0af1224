"""Swing-foot dynamics: a rigid foot pivoting at the moving ankle (REFERENCE §4;
Benoussaad et al. 2013; Blaya & Herr 2004).

J_A·α̈ = τ_TA + τ_vol + τ_pass(θ, κ) − B·θ̇ + τ_spas + τ_orth + τ_g

with foot pitch α (toe up positive), ankle θ = α + ψ_a, and the gravity plus ankle
acceleration term written for the foot's centre of mass at (c_x forward, c_z below)
the ankle in the foot frame:
τ_g = −m·(g + a_Az)·x_c + m·a_Ax·z_c, x_c = c_x·cos α + c_z·sin α, z_c = c_x·sin α − c_z·cos α.
"""

from __future__ import annotations

from dataclasses import dataclass

from fes_sim.samples import GRAVITY_MPS2


@dataclass(frozen=True)
class FootBody:
    """Mass properties of foot plus shoe (Winter tables, REFERENCE §3)."""

    mass_kg: float
    inertia_kgm2: float
    com_forward_m: float
    com_below_m: float

    @classmethod
    def of(cls, height_m: float, mass_kg: float, shoe_mass_kg: float, inertia_kgm2: float) -> "FootBody":
        foot_len = 0.152 * height_m
        return cls(0.0145 * mass_kg + shoe_mass_kg, inertia_kgm2, 0.5 * foot_len - 0.065 * height_m / 1.75, 0.02 * height_m)


def gravity_torque_nm(cos_a, sin_a, acc_x_mps2, acc_z_mps2, body: FootBody):
    """Moment of gravity and of the ankle's acceleration on the foot (N·m, toe up positive)."""
    x_c = body.com_forward_m * cos_a + body.com_below_m * sin_a
    z_c = body.com_forward_m * sin_a - body.com_below_m * cos_a
    return body.mass_kg * (acc_x_mps2 * z_c - (GRAVITY_MPS2 + acc_z_mps2) * x_c)
