"""Passive ankle moment (Riener & Edrich 1999, J Biomech 32:539), REFERENCE §4.

τ_pass = exp(−7.9763 − 0.1949·θ + 0.0008·κ) − exp(2.1016 + 0.0843·θ − 0.0176·κ) + 1.792

θ ankle (deg, dorsiflexion positive), κ knee flexion (deg), result in N·m
(dorsiflexing positive). Its equilibrium is about −18° with the knee straight and
−5.5° at 60° knee flexion. A walker's stiffness scales the whole moment (equilibrium
unchanged) and a plantarflexion contracture shifts the curve towards plantarflexion.

The functions take ``exp`` so the same formula serves scalar code (``math.exp``,
fast per step) and arrays (``numpy.exp``, population mode).
"""

from __future__ import annotations

import math
from typing import Callable

from numba.extending import register_jitable


@register_jitable
def passive_moment_nm(theta_deg, knee_deg, scale: float = 1.0, contracture_deg: float = 0.0, exp: Callable = math.exp):
    """Passive elastic ankle moment (N·m, dorsiflexing positive)."""
    th = theta_deg + contracture_deg
    return scale * (exp(-7.9763 - 0.1949 * th + 0.0008 * knee_deg) - exp(2.1016 + 0.0843 * th - 0.0176 * knee_deg) + 1.792)
