"""Tibialis anterior response to stimulation: recruitment, delay, activation, fusion,
torque-angle scaling and Riener fatigue (REFERENCE §5).

Each function takes ``exp`` (and ``tanh``) so the same formula serves the scalar plant
(``math``) and the vectorised population (``numpy``).
"""

from __future__ import annotations

import math
from typing import Callable

from numba.extending import register_jitable

#: activation below this with no drive is set to zero (under 1 mN·m at 10 N·m), so a resting muscle costs nothing
ACTIVATION_FLOOR = 1e-4
#: Hmed 2018 recruitment λ = a_r·(tanh(b_s·(I − I_s)) + c_r)
HMED_A_R, HMED_B_S_PER_MA, HMED_I_S_MA, HMED_C_R = 0.586, 0.026, 63.1, 0.833
#: Ding 2007 pulse-width scaling A(pw) = 4920·(1 − exp(−(pw − 131.4)/194.1)) N/s
DING07_A_N_PER_S, DING07_PW0_US, DING07_PW_SCALE_US = 4920.0, 131.4, 194.1
#: pulse width at which Ding 2007's A(pw) is half its maximum (µs)
DING07_PW_HALF_US = DING07_PW0_US + DING07_PW_SCALE_US * math.log(2.0)


@register_jitable
def recruit_sigmoid(current_ma, pulse_width_us, half_uc: float, width_uc: float, exp: Callable = math.exp):
    """Fraction recruited, a logistic curve in charge per pulse Q = I·PW (µC), zero at Q = 0."""
    q = current_ma * pulse_width_us * 1e-3
    s0 = 1.0 / (1.0 + exp(half_uc / width_uc))
    return (1.0 / (1.0 + exp(-(q - half_uc) / width_uc)) - s0) / (1.0 - s0)


@register_jitable
def recruit_hmed2018(current_ma, tanh: Callable = math.tanh):
    """Hmed 2018 recruitment in current, clipped to [0, 1] (zero below its threshold).

    Hmed 2018 identified λ(I) at one pulse width and has no pulse-width input: here the pulse
    width only switches it (any width > 0 gives λ(I)). Use ``sigmoid`` or ``ding2007`` when
    pulse width is varied."""
    lam = HMED_A_R * (tanh(HMED_B_S_PER_MA * (current_ma - HMED_I_S_MA)) + HMED_C_R)
    return min(max(lam, 0.0), 1.0) if isinstance(lam, float) else lam.clip(0.0, 1.0)


@register_jitable
def recruit_ding2007(current_ma, pulse_width_us, half_uc: float, exp: Callable = math.exp):
    """Ding 2007's pulse-width recruitment A(pw)/4920 as a function of charge per pulse.

    Ding et al. 2007 (Muscle Nerve 36:214) varied pulse width at one fixed current, so their
    A(pw) is recruitment against charge Q = I·PW at that current I_D. A pulse of any current
    acts here as the pulse of equal charge at I_D (the charge-based view of the default
    sigmoid, REFERENCE §5), with I_D such that half recruitment falls at the walker's
    ``half_uc``: PW_eq = Q·PW_½/Q_½, PW_½ = 131.4 + 194.1·ln 2 µs.
    """
    pw_eq = current_ma * pulse_width_us * 1e-3 * DING07_PW_HALF_US / half_uc
    r = 1.0 - exp(-(pw_eq - DING07_PW0_US) / DING07_PW_SCALE_US)
    return max(r, 0.0) if isinstance(r, float) else r.clip(0.0, None)


def recruitment(kind: str, current_ma: float, pulse_width_us: float, half_uc: float, width_uc: float) -> float:
    """Recruited fraction for one stimulation setting (0 when current or pulse width is 0)."""
    if current_ma <= 0.0 or pulse_width_us <= 0.0:
        return 0.0
    if kind == "sigmoid":
        return recruit_sigmoid(current_ma, pulse_width_us, half_uc, width_uc)
    if kind == "hmed2018":
        return recruit_hmed2018(current_ma)
    return recruit_ding2007(current_ma, pulse_width_us, half_uc)


def emd_steps(emd_ms: float, plant_rate_hz: float) -> int:
    """The electromechanical delay as a whole number of plant steps (the drive's delay line)."""
    return int(round(emd_ms * 1e-3 * plant_rate_hz))


@register_jitable
def fusion_factor(frequency_hz, s: float):
    """Tetanic fusion (s·f)²/(1 + (s·f)²) (REFERENCE §5; unconfirmed, s ≈ 0.1 s)."""
    x = s * frequency_hz
    return x * x / (1.0 + x * x)


@register_jitable
def torque_angle_factor(theta_deg, opt_deg: float, width_deg: float, exp: Callable = math.exp):
    """Gaussian torque-angle relation of the evoked torque (1 at ``opt_deg``)."""
    d = (theta_deg - opt_deg) / width_deg
    return exp(-d * d)


@register_jitable
def evoked_torque_nm(t_max_nm, theta_deg, opt_deg: float, width_deg: float, exp: Callable = math.exp):
    """Evoked dorsiflexion torque at ankle angle ``theta_deg``: ``t_max_nm`` (the maximum torque
    times activation and fitness) times the torque-angle factor, exactly 0 without activation."""
    return t_max_nm * torque_angle_factor(theta_deg, opt_deg, width_deg, exp) if t_max_nm != 0.0 else 0.0


@register_jitable
def activation_step(a, u, dt_s: float, tau_act_s: float, tau_deact_s: float, exp: Callable = math.exp):
    """Exact step of da/dt = (u − a)·(u/τ_act + (1 − u)/τ_deact) for constant u.

    The rate uses a **plus** sign; a minus there makes it unstable (REFERENCE §5).
    """
    return u + (a - u) * activation_decay(u, dt_s, tau_act_s, tau_deact_s, exp)


@register_jitable
def activation_decay(u, dt_s: float, tau_act_s: float, tau_deact_s: float, exp: Callable = math.exp):
    """The factor exp(−k·Δt) of :func:`activation_step`: it depends on the drive only, so a
    caller may keep it while u is unchanged."""
    k = u / tau_act_s + (1.0 - u) / tau_deact_s
    return exp(-k * dt_s)


@register_jitable
def riener_fatigue_step(mu, a, dt_s: float, mu_min: float, t_fat_s: float, t_rec_s: float):
    """Euler step of dμ/dt = (μ_min − μ)·a/T_fat + (1 − μ)(1 − a)/T_rec (Riener 1998)."""
    return mu + dt_s * ((mu_min - mu) * a / t_fat_s + (1.0 - mu) * (1.0 - a) / t_rec_s)
