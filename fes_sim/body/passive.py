"""Passive ankle moment (Riener & Edrich 1999, J Biomech 32:539), REFERENCE §4.

τ_pass = exp(−7.9763 − 0.1949·θ + 0.0008·κ) − exp(2.1016 + 0.0843·θ − 0.0176·κ) + 1.792

θ ankle (deg, dorsiflexion positive), κ knee flexion (deg), result in N·m
(dorsiflexing positive). Its equilibrium is about −18° with the knee straight and
−5.5° at 60° knee flexion. A walker's ``passive_stiffness_scale`` multiplies the whole
moment (equilibrium unchanged). A plantarflexion contracture (shortened calf muscles)
shifts the term that resists dorsiflexion, exp(2.1016 + 0.0843·θ − …), by
``contracture_deg`` towards plantarflexion; that term dominates around the equilibrium,
which moves by almost the same angle, while the term that resists plantarflexion (the
anterior structures, the plantarflexion end of the range near −50°) stays where it is.

The functions take ``exp`` so the same formula serves scalar code (``math.exp``,
fast per step) and arrays (``numpy.exp``, population mode).
"""

from __future__ import annotations

import math
from typing import Callable

from numba.extending import register_jitable

_DEG = 180.0 / math.pi


@register_jitable
def passive_moment_stiffness(theta_deg, knee_deg, scale: float = 1.0, contracture_deg: float = 0.0, exp: Callable = math.exp):
    """Passive moment (N·m, dorsiflexing positive) and its stiffness −dτ/dθ (N·m/rad, always positive)."""
    x1, x2 = passive_exponents(theta_deg, knee_deg, contracture_deg)
    return passive_from_exponentials(exp(x1), exp(x2), scale)


@register_jitable
def passive_exponents(theta_deg, knee_deg, contracture_deg):
    """The exponents of the two terms of the passive moment."""
    return -7.9763 - 0.1949 * theta_deg + 0.0008 * knee_deg, 2.1016 + 0.0843 * (theta_deg + contracture_deg) - 0.0176 * knee_deg


@register_jitable
def passive_from_exponentials(e1, e2, scale):
    """Passive moment and stiffness from the exponentials of :func:`passive_exponents`."""
    return scale * (e1 - e2 + 1.792), scale * (0.1949 * e1 + 0.0843 * e2) * _DEG


@register_jitable
def passive_moment_nm(theta_deg, knee_deg, scale: float = 1.0, contracture_deg: float = 0.0, exp: Callable = math.exp):
    """Passive elastic ankle moment (N·m, dorsiflexing positive)."""
    return passive_moment_stiffness(theta_deg, knee_deg, scale, contracture_deg, exp)[0]
