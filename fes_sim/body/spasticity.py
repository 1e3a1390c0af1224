"""Velocity-dependent plantarflexor spasticity (REFERENCE §4; Jansen 2014).

The stretch reflex of the plantarflexors is driven by the ankle's dorsiflexion velocity
v after the reflex delay T (30-60 ms): the excitation is G_v·max(0, v(t − T) − v_th)
(N·m, at most :data:`REFLEX_MAX_NM`), and the torque follows it through first-order activation dynamics, as muscle
excitation becomes force in musculoskeletal spasticity models (van der Krogt et al.
2016, J NeuroEng Rehabil 13:64). The time constants are REFERENCE §5's activation
defaults (40 ms rising, 80 ms falling).

Without that filter a delayed velocity feedback G_v·v(t − T) on a foot of inertia J
needs G_v·T/J < π/2 to stay stable; at the allowed gain 0.2 N·m·s/deg it is 23 for a
shod foot. The plant feeds the delay line at every plant step, in stance too, so the
first ``T`` of swing sees the velocities of late stance (not those of the previous
swing).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numba.extending import register_jitable

#: rise and decay time constants of the reflex torque (s), REFERENCE §5 activation defaults
REFLEX_TAU_RISE_S = 0.040
REFLEX_TAU_FALL_S = 0.080
#: ceiling of the reflex excitation (N·m): the plantarflexors cannot give more than their maximal
#: torque. An assumption of that order for a paretic calf (REFERENCE gives no figure); without it,
#: a light, undamped foot in clonus fed the delayed velocity back as hundreds of N·m
REFLEX_MAX_NM = 40.0


@register_jitable
def reflex_torque_step(torque_nm, delayed_dps, gain_nms_per_deg, threshold_dps, dt_s, exp: Callable = math.exp):
    """Reflex torque (N·m, plantarflexing, ≥ 0) after one step of ``dt_s`` with the delayed
    dorsiflexion velocity ``delayed_dps`` (exact for an excitation held over the step)."""
    rise, fall = reflex_decays(dt_s, exp)
    return reflex_torque_update(torque_nm, delayed_dps, gain_nms_per_deg, threshold_dps, rise, fall)


@register_jitable
def reflex_decays(dt_s, exp: Callable = math.exp):
    """Per-step decay factors exp(−Δt/τ) of the rising and the falling reflex torque."""
    return exp(-dt_s / REFLEX_TAU_RISE_S), exp(-dt_s / REFLEX_TAU_FALL_S)


@register_jitable
def reflex_torque_update(torque_nm, delayed_dps, gain_nms_per_deg, threshold_dps, rise_decay, fall_decay):
    """:func:`reflex_torque_step` with its decay factors (:func:`reflex_decays`) computed once."""
    excitation = min(gain_nms_per_deg * max(0.0, delayed_dps - threshold_dps), REFLEX_MAX_NM)
    decay = rise_decay if excitation > torque_nm else fall_decay
    return excitation + (torque_nm - excitation) * decay


def reflex_line_length(delay_ms, plant_rate_hz: float):
    """Length of the velocity delay line (N + 1 for a delay of N plant steps: the step at t reads
    the velocity of t − N·Δt before it stores its own); int, or an int array for arrays of delays."""
    n = np.rint(np.asarray(delay_ms, float) * 1e-3 * plant_rate_hz).astype(int) + 1
    return int(n) if n.ndim == 0 else n
