"""Compiled plant substep of :class:`fes_sim.population.Population` (numba).

One call advances every walker by one plant step: electromechanical delay, activation,
stance path with the loading-response decay, toe roll, heel rocker, swing foot equation,
spasticity and clearance. The formulas are the shared ones of :mod:`fes_sim.body`
(``register_jitable``, the same functions the single plant calls with ``math``), so the
population follows :class:`~fes_sim.plant.WalkingPlant` step for step; a walker's
work is only what its phase needs (NumPy over all walkers computed every branch for all).

State lives in two arrays whose rows are named below: ``F`` (floats) and ``I`` (integer
flags). Walkers that reach foot-flat or floor contact are reported in ``note`` (and
``note_val``) for the Python side, which keeps the stride records.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numba
import numpy as np

from fes_sim.body.block import MID_SWING, STANCE, TERMINAL_SWING
from fes_sim.body.foot import SwingFoot, swing_foot_step
from fes_sim.body.loading import FOOT_FLAT_RAD, HeelRocker, heel_rocker_step
from fes_sim.body.muscle import (
    ACTIVATION_FLOOR, activation_step, fusion_factor, recruit_ding2007, recruit_hmed2018, recruit_sigmoid, riener_fatigue_step,
    torque_angle_factor,
)
from fes_sim.body.spasticity import reflex_torque_step
from fes_sim.plant import contact_angle

#: rows of the float state F
(F_A, F_MU, F_U, F_ALPHA, F_ALPHA_DOT, F_LR_DELTA, F_TAU, F_MIN_TOE, F_T_MIN_TOE, F_DRAG_S, F_ANKLE_MIN_PO, F_T_CONTACT, F_REFLEX) = range(13)
N_FLOAT = 13
#: rows of the flag state I
I_LOCK, I_TOE_LANDING, I_SWING, I_EMD_N, I_SPAS_N, I_SPAS_POS = range(6)
N_FLAG = 6
#: lock values
NO_LOCK, TOE, HEEL = 0, 1, 2
#: note codes (what the Python side records for walker w after the call)
NOTE_FOOT_FLAT, NOTE_HEEL_CONTACT, NOTE_TOE_CONTACT = 1, 2, 3

#: recruitment models by code (``WalkerConfig.recruitment``)
RECRUITMENT_KINDS: tuple[str, ...] = ("sigmoid", "hmed2018", "ding2007")

#: rows of the per-walker constants C
K_FIELDS: tuple[str, ...] = (
    "tau_act_s", "tau_deact_s", "t_max_nm", "torque_angle_opt_deg", "torque_angle_width_deg", "spasticity_gain_nms_per_deg",
    "spasticity_threshold_dps", "toe_forward_m", "toe_below_m", "heel_back_m", "heel_below_m", "heel_contact_m",
) + tuple(f"swing_{name}" for name in SwingFoot.__dataclass_fields__) + tuple(f"rocker_{name}" for name in HeelRocker.__dataclass_fields__)
_K_TAU_ACT_S = K_FIELDS.index("tau_act_s")
_K_TAU_DEACT_S = K_FIELDS.index("tau_deact_s")
_K_T_MAX_NM = K_FIELDS.index("t_max_nm")
_K_TORQUE_ANGLE_OPT_DEG = K_FIELDS.index("torque_angle_opt_deg")
_K_TORQUE_ANGLE_WIDTH_DEG = K_FIELDS.index("torque_angle_width_deg")
_K_SPASTICITY_GAIN_NMS_PER_DEG = K_FIELDS.index("spasticity_gain_nms_per_deg")
_K_SPASTICITY_THRESHOLD_DPS = K_FIELDS.index("spasticity_threshold_dps")
_K_TOE_FORWARD_M = K_FIELDS.index("toe_forward_m")
_K_TOE_BELOW_M = K_FIELDS.index("toe_below_m")
_K_HEEL_BACK_M = K_FIELDS.index("heel_back_m")
_K_HEEL_BELOW_M = K_FIELDS.index("heel_below_m")
_K_HEEL_CONTACT_M = K_FIELDS.index("heel_contact_m")
_S0 = K_FIELDS.index("swing_inertia_kgm2")
_R0 = len(K_FIELDS) - len(HeelRocker.__dataclass_fields__)
_Swing = namedtuple("_Swing", tuple(SwingFoot.__dataclass_fields__))  # type: ignore[misc]
_Rocker = namedtuple("_Rocker", tuple(HeelRocker.__dataclass_fields__))  # type: ignore[misc]
_DEG = 180.0 / math.pi


@numba.njit(cache=True)
def foot_flat(w, F, I, flat, alpha_ref, alpha_ref_dot):
    """Forefoot contact of walker ``w``: the foot is flat, the stance path resumes (as ``WalkingPlant._foot_flat``)."""
    I[I_LOCK, w] = NO_LOCK
    I[I_TOE_LANDING, w] = 1
    F[F_ALPHA, w] = max(F[F_ALPHA, w], flat)
    F[F_LR_DELTA, w] = F[F_ALPHA, w] - min(alpha_ref, flat)
    F[F_ALPHA_DOT, w] = alpha_ref_dot


@numba.njit(cache=True)
def substep(  # noqa: PLR0913 - one argument per block row, no copies
    i, start, dt, lr_decay, zone_, pushoff_, psi_a_, psi_a_dot_, alpha_ref_, alpha_ref_dot_, theta_ref_, theta_ref_dot_, tau_ff_,
    knee_, acc_x_, acc_z_, ankle_z_, slope_, C, F, I, emd_buf, emd_pos, spas_buf, note, note_val,
):
    """Advance every walker one plant step at block row ``i``; returns how many walkers have a note."""
    n = F.shape[1]
    emd_len = emd_buf.shape[0]
    t_s = (start + i) * dt
    t_next = (start + i + 1) * dt
    notes = 0
    for w in range(n):
        emd_buf[emd_pos, w] = F[F_U, w]
        u = emd_buf[(emd_pos - I[I_EMD_N, w] + emd_len) % emd_len, w]
        a = F[F_A, w]
        if u > 0.0 or a > ACTIVATION_FLOOR:
            a = activation_step(a, u, dt, C[_K_TAU_ACT_S, w], C[_K_TAU_DEACT_S, w], math.exp)
        else:
            a = 0.0
        F[F_A, w] = a
        t_max = C[_K_T_MAX_NM, w] * a * F[F_MU, w]
        zone, psi_a, psi_a_dot = zone_[i, w], psi_a_[i, w], psi_a_dot_[i, w]
        ref, ref_dot, flat = alpha_ref_[i, w], alpha_ref_dot_[i, w], slope_[i, w]
        lock = I[I_LOCK, w]
        stance = zone == STANCE or lock != NO_LOCK
        free = stance and lock == NO_LOCK
        if free:
            F[F_LR_DELTA, w] = F[F_LR_DELTA, w] * lr_decay
            if ref <= flat:
                I[I_TOE_LANDING, w] = 0
        alpha_st = (flat if free and I[I_TOE_LANDING, w] else ref) + F[F_LR_DELTA, w]
        if free and pushoff_[i, w]:
            F[F_ANKLE_MIN_PO, w] = min(F[F_ANKLE_MIN_PO, w], (alpha_st + psi_a) * _DEG)
        rolling = lock == TOE and zone != STANCE
        loading = lock == HEEL
        if rolling:
            alpha_st = contact_angle(ankle_z_[i, w], C[_K_TOE_FORWARD_M, w], C[_K_TOE_BELOW_M, w]) + flat
        alpha, alpha_dot = F[F_ALPHA, w], F[F_ALPHA_DOT, w]
        theta_deg = (alpha + psi_a) * _DEG
        opt, width = C[_K_TORQUE_ANGLE_OPT_DEG, w], C[_K_TORQUE_ANGLE_WIDTH_DEG, w]
        tau_ev = t_max * torque_angle_factor(theta_deg, opt, width, math.exp)
        # plantarflexor stretch reflex from the ankle velocity one reflex delay ago
        pos = I[I_SPAS_POS, w]
        reflex = reflex_torque_step(F[F_REFLEX, w], spas_buf[pos, w], C[_K_SPASTICITY_GAIN_NMS_PER_DEG, w], C[_K_SPASTICITY_THRESHOLD_DPS, w], dt, math.exp)
        F[F_REFLEX, w] = reflex
        swing = not stance
        if swing:  # the foot equation (see fes_sim.body.foot)
            q = _Swing(
                C[_S0, w], C[_S0 + 1, w], C[_S0 + 2, w], C[_S0 + 3, w], C[_S0 + 4, w], C[_S0 + 5, w], C[_S0 + 6, w], C[_S0 + 7, w], C[_S0 + 8, w],
                C[_S0 + 9, w],
            )
            alpha, alpha_dot = swing_foot_step(
                q, alpha, alpha_dot, tau_ev - reflex + 0.0, 0.0, 0.0, theta_ref_[i, w], theta_ref_dot_[i, w], tau_ff_[i, w], psi_a, psi_a_dot,
                knee_[i, w], acc_x_[i, w], acc_z_[i, w], dt, math.exp,
            )
            F[F_TAU, w] = tau_ev
            I[I_SWING, w] = 1
        else:
            st_dot = (alpha_st - alpha) / dt if rolling else ref_dot
            if loading:  # heel rocker after a heel-first contact
                p = _Rocker(C[_R0, w], C[_R0 + 1, w], C[_R0 + 2, w], C[_R0 + 3, w], C[_R0 + 4, w], C[_R0 + 5, w], C[_R0 + 6, w])
                alpha_st, st_dot = heel_rocker_step(
                    p, alpha, alpha_dot, t_s - F[F_T_CONTACT, w], tau_ev, 0.0 - reflex, 0.0, 0.0, ref, ref_dot, psi_a, psi_a_dot, knee_[i, w], dt,
                    math.exp,
                )
                F[F_TAU, w] = tau_ev
            else:
                F[F_TAU, w] = t_max * torque_angle_factor((alpha_st + psi_a) * _DEG, opt, width, math.exp)
            alpha, alpha_dot = alpha_st, st_dot
        F[F_ALPHA, w] = alpha
        F[F_ALPHA_DOT, w] = alpha_dot
        note[w] = 0
        if loading and alpha - flat <= FOOT_FLAT_RAD:
            note[w] = NOTE_FOOT_FLAT
            note_val[0, w] = -(alpha_dot + psi_a_dot) * 180.0 / math.pi
            notes += 1
            foot_flat(w, F, I, flat, ref, ref_dot)
        if swing:  # clearance in mid and terminal swing
            rel = alpha - flat
            sr, cr = math.sin(rel), math.cos(rel)
            z = ankle_z_[i, w]
            toe_z = z + C[_K_TOE_FORWARD_M, w] * sr - C[_K_TOE_BELOW_M, w] * cr
            if zone == MID_SWING:
                if toe_z < F[F_MIN_TOE, w]:
                    F[F_MIN_TOE, w] = toe_z
                    F[F_T_MIN_TOE, w] = t_next
                if toe_z < 0.0:
                    F[F_DRAG_S, w] += dt
            heel_z = z - C[_K_HEEL_BACK_M, w] * sr - C[_K_HEEL_BELOW_M, w] * cr - C[_K_HEEL_CONTACT_M, w]
            if zone == TERMINAL_SWING and (toe_z <= 0.0 or heel_z <= 0.0):
                note[w] = NOTE_HEEL_CONTACT if heel_z <= toe_z else NOTE_TOE_CONTACT
                note_val[0, w] = rel * _DEG
                note_val[1, w] = F[F_MIN_TOE, w]
                note_val[2, w] = F[F_DRAG_S, w]
                note_val[3, w] = F[F_T_MIN_TOE, w]
                notes += 1
                contact(w, t_next, note[w] == NOTE_HEEL_CONTACT, F, I)
        spas_buf[pos, w] = (F[F_ALPHA_DOT, w] + psi_a_dot) * _DEG
        I[I_SPAS_POS, w] = (pos + 1) % I[I_SPAS_N, w]
    return notes


@numba.njit(cache=True)
def contact(w, t_s, heel_first, F, I):
    """Initial contact of walker ``w`` at ``t_s``: the swing records restart, the foot locks on heel or toe."""
    F[F_T_CONTACT, w] = t_s
    I[I_SWING, w] = 0
    I[I_LOCK, w] = HEEL if heel_first else TOE
    F[F_MIN_TOE, w] = np.inf
    F[F_T_MIN_TOE, w] = np.nan
    F[F_DRAG_S, w] = 0.0


@numba.njit(cache=True)
def drive(current_ma, pulse_width_us, frequency_hz, kind, half_uc, width_uc, fusion_s, u):
    """Muscle drive ``u`` (0..1) of every walker: recruitment (model ``kind``, see
    :data:`RECRUITMENT_KINDS`) × tetanic fusion; 0 when current, pulse width or frequency is 0."""
    for w in range(u.size):
        cur, pw, f = current_ma[w], pulse_width_us[w], frequency_hz[w]
        if not (cur > 0.0 and pw > 0.0 and f > 0.0):
            u[w] = 0.0
            continue
        if kind[w] == 0:
            r = recruit_sigmoid(cur, pw, half_uc[w], width_uc[w], math.exp)
        elif kind[w] == 1:
            r = recruit_hmed2018(cur, math.tanh)
        else:
            r = recruit_ding2007(cur, pw, half_uc[w], math.exp)
        u[w] = min(max(r * fusion_factor(f, fusion_s[w]), 0.0), 1.0)


@numba.njit(cache=True)
def fatigue(F, dt_s, mu_min, t_fat_s, t_rec_s):
    """Riener fatigue step of every walker over ``dt_s`` at its present activation."""
    for w in range(F.shape[1]):
        F[F_MU, w] = riener_fatigue_step(F[F_MU, w], F[F_A, w], dt_s, mu_min[w], t_fat_s[w], t_rec_s[w])


@numba.njit(cache=True)
def truth(i, psi_a_, slope_, ankle_z_, C, F, I):
    """Ankle angle (deg), toe height (mm; a foot on the ground rests on its lowest point, as the
    single plant) and the in-swing flag of every walker at block row ``i``, as new arrays."""
    n = F.shape[1]
    ankle_deg, toe_mm, in_swing = np.empty(n), np.empty(n), np.empty(n, np.bool_)
    for w in range(n):
        alpha = F[F_ALPHA, w]
        ankle_deg[w] = (alpha + psi_a_[i, w]) * _DEG
        rel = alpha - slope_[i, w]
        sr, cr = math.sin(rel), math.cos(rel)
        in_swing[w] = I[I_SWING, w] != 0 and I[I_LOCK, w] == NO_LOCK
        if in_swing[w]:
            toe_mm[w] = (ankle_z_[i, w] + C[_K_TOE_FORWARD_M, w] * sr - C[_K_TOE_BELOW_M, w] * cr) * 1e3
        else:
            toe = C[_K_TOE_FORWARD_M, w] * sr - C[_K_TOE_BELOW_M, w] * cr
            heel = -C[_K_HEEL_BACK_M, w] * sr - C[_K_HEEL_BELOW_M, w] * cr
            toe_mm[w] = (toe - min(toe, heel)) * 1e3
    return ankle_deg, toe_mm, in_swing


def constants(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The constant array ``C`` (rows :data:`K_FIELDS`) from per-walker columns of that name."""
    return np.ascontiguousarray(np.stack([np.asarray(columns[name], float) for name in K_FIELDS]))
