"""Compiled plant step of :class:`fes_sim.population.Population` (numba).

One call advances every walker by some sensor periods (``sub`` plant steps each): the nominal
gait events of the block, electromechanical delay, activation, stance path with the
loading-response decay, toe roll, heel rocker, swing foot equation, spasticity,
clearance, floor contact and Riener fatigue, with the muscle drive of each period's stimulation. The formulas are the shared ones of
:mod:`fes_sim.body` (``register_jitable``, the same functions the single plant calls with
``math``), so the population follows :class:`~fes_sim.plant.WalkingPlant` step for step;
a walker's work is only what its phase needs.

Walkers are independent, so the loop runs walker by walker through the periods (its state
stays in cache). Walker ``w`` reads the prescribed motion of block row ``row[w]``: walkers
that repeat a walker and its run seed share one row. Terms that only change with the drive
(the activation decay) or never (the reflex decays) are computed once, not every step.

Memory: a walker reads each step's fields from its record in the block
(:data:`~fes_sim.body.block.RECORD_FIELDS`, two cache lines side by side; a walker in free
stance reads only the first), so a call touches a few consecutive lines per walker, not a
line of each of 15 block rows. The records of the walker :data:`_AHEAD` places ahead are
prefetched (the second line only where its phase reads it); prefetching its constants, float
state and delay-line slot as well cost more than it saved (7 % of a call of one period, measured).
Work that no output needs is left out: the stance torque is computed once,
for a walker's last step of the call (within the call nothing reads it), and a swing step
takes the sine and cosine of its pitch from the previous step's clearance check when the
angle is the same (level ground), kept in ``F`` from one call to the next. Each of these keeps
the results bit-identical.

State lives in two arrays with one row per walker, columns named below: ``F`` (floats)
and ``I`` (integer flags), plus each walker's stride bookkeeping (``leg``, the state machine
of :mod:`fes_sim.body.strides`). Completed strides are written to ``strides`` and the true
events to ``events``, one row each, for the Python side.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, register_jitable

from fes_sim.body.block import (
    MID_SWING, R_ACC_X, R_ACC_Z, R_ALPHA, R_ALPHA_DOT, R_EVENT, R_KNEE, R_PSI, R_PSI_DOT, R_PUSHOFF, R_SLOPE, R_SURF, R_TAU_FF, R_THETA,
    R_THETA_DOT, R_TILT, R_ZONE, RECORD_LINE, RECORD_OFFSET, STANCE, WALK_END,
)
from fes_sim.body.foot import SwingFoot, swing_foot_step_trig
from fes_sim.body.loading import FOOT_FLAT_RAD, HeelRocker, heel_rocker_step
from fes_sim.body.muscle import (
    ACTIVATION_FLOOR, activation_decay, evoked_torque_nm, fusion_factor, recruit_ding2007, recruit_hmed2018, recruit_sigmoid, riener_fatigue_step,
)
from fes_sim.body.spasticity import reflex_torque_update
from fes_sim.body.stance import contact_angle, stance_pitch_with_drive
from fes_sim.body.strides import STRIDE_FIELDS, leg_contact, leg_foot_flat, leg_heel_off, leg_toe_off, leg_walk_end
from fes_sim.samples import GaitEvent
from fes_sim.trig import sincos_rad

#: columns of the float state F
(F_A, F_MU, F_U, F_ALPHA, F_ALPHA_DOT, F_LR_DELTA, F_TAU, F_MIN_TOE, F_T_MIN_TOE, F_DRAG_S, F_ANKLE_MIN_PO, F_T_CONTACT, F_REFLEX,
 F_DECAY_U, F_DECAY, F_CUR, F_PW, F_FREQ, F_TRIG_RAD, F_TRIG_SIN, F_TRIG_COS) = range(21)
N_FLOAT = 21
#: columns of the flag state I
I_LOCK, I_TOE_LANDING, I_SWING, I_EMD_N, I_SPAS_N, I_SPAS_POS = range(6)
N_FLAG = 6
#: lock values
NO_LOCK, TOE, HEEL = 0, 1, 2
#: an event row is ``(walker, GaitEvent code, t_s)``; a stride row ``(walker, *STRIDE_FIELDS)``
EVENT_WIDTH, STRIDE_WIDTH = 3, 1 + len(STRIDE_FIELDS)
#: events one walker can leave per plant step (a nominal heel-off or toe-off, a contact); strides at most one
EVENTS_PER_STEP = 2

#: recruitment models by code (``WalkerConfig.recruitment``)
RECRUITMENT_KINDS: tuple[str, ...] = ("sigmoid", "hmed2018", "ding2007")

#: rows of the per-walker constants C
K_FIELDS: tuple[str, ...] = (
    "tau_act_s", "tau_deact_s", "t_max_nm", "torque_angle_opt_deg", "torque_angle_width_deg", "spasticity_gain_nms_per_deg",
    "spasticity_threshold_dps", "toe_forward_m", "toe_below_m", "heel_back_m", "heel_below_m", "heel_contact_m",
    "fatigue_mu_min", "fatigue_time_s", "recovery_time_s", "slap_velocity_dps", "charge_half_uc", "charge_width_uc", "fusion_constant_s",
    "pushoff_stiffness_nm_per_deg",
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
_K_MU_MIN = K_FIELDS.index("fatigue_mu_min")
_K_T_FAT_S = K_FIELDS.index("fatigue_time_s")
_K_T_REC_S = K_FIELDS.index("recovery_time_s")
_K_SLAP_DPS = K_FIELDS.index("slap_velocity_dps")
_K_CHARGE_HALF_UC = K_FIELDS.index("charge_half_uc")
_K_CHARGE_WIDTH_UC = K_FIELDS.index("charge_width_uc")
_K_FUSION_S = K_FIELDS.index("fusion_constant_s")
_K_PUSHOFF_K = K_FIELDS.index("pushoff_stiffness_nm_per_deg")
_S0 = K_FIELDS.index("swing_inertia_kgm2")
_R0 = len(K_FIELDS) - len(HeelRocker.__dataclass_fields__)
_Swing = namedtuple("_Swing", tuple(SwingFoot.__dataclass_fields__))  # type: ignore[misc]
_Rocker = namedtuple("_Rocker", tuple(HeelRocker.__dataclass_fields__))  # type: ignore[misc]
_DEG = 180.0 / math.pi
#: walkers ahead whose records are prefetched (1, 2 and 4 measured alike at both plant rates)
_AHEAD = 2
#: steps of a walker's records prefetched per call at most
_PREFETCH_STEPS = 8
_HEEL_STRIKE, _HEEL_OFF, _TOE_OFF = int(GaitEvent.HEEL_STRIKE), int(GaitEvent.HEEL_OFF), int(GaitEvent.TOE_OFF)


@intrinsic
def _prefetch(typingctx, a, index):
    """Ask the CPU to bring ``a[index]`` into cache (a hint: it reads nothing and cannot fault)."""

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        values = cgutils.unpack_tuple(builder, args[1], len(sig.args[1]))
        idx = [context.cast(builder, v, t, types.intp) for v, t in zip(values, sig.args[1])]
        shape, strides = cgutils.unpack_tuple(builder, ary.shape), cgutils.unpack_tuple(builder, ary.strides)
        ptr = cgutils.get_item_pointer2(context, builder, ary.data, shape, strides, sig.args[0].layout, idx)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        # the typed-pointer name: LLVM with opaque pointers renames it to llvm.prefetch.p0 (both work with numba's LLVM)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data
        return context.get_dummy_value()

    return types.void(a, index), codegen


@numba.njit(cache=True)
def _prefetch_records(record, r, i_first, i_last, both_lines):
    """Prefetch the records of steps ``i_first``..``i_last`` of block row ``r`` (the first cache line of
    each, both with ``both_lines``); past :data:`_PREFETCH_STEPS` steps the hardware follows the stream."""
    for i in range(i_first, min(i_last, i_first + _PREFETCH_STEPS - 1) + 1):
        _prefetch(record, (r, i, 0))
        if both_lines:
            _prefetch(record, (r, i, RECORD_LINE))


@numba.njit(cache=True)
def foot_flat(w, F, I, flat, alpha_ref, alpha_ref_dot):
    """Forefoot contact of walker ``w``: the foot is flat, the stance path resumes (as ``WalkingPlant._foot_flat``)."""
    I[w, I_LOCK] = NO_LOCK
    I[w, I_TOE_LANDING] = 1
    F[w, F_ALPHA] = max(F[w, F_ALPHA], flat)
    F[w, F_LR_DELTA] = F[w, F_ALPHA] - min(alpha_ref, flat)
    F[w, F_ALPHA_DOT] = alpha_ref_dot


@numba.njit(cache=True)
def contact(w, t_s, heel_first, F, I):
    """Initial contact of walker ``w`` at ``t_s``: the swing records restart, the foot locks on heel or toe."""
    F[w, F_T_CONTACT] = t_s
    I[w, I_SWING] = 0
    I[w, I_LOCK] = HEEL if heel_first else TOE
    F[w, F_MIN_TOE] = np.inf
    F[w, F_T_MIN_TOE] = np.nan
    F[w, F_DRAG_S] = 0.0


@numba.njit(cache=True)
def _event(events, n_ev, w, code, t_s):
    r = events[n_ev]
    r[0], r[1], r[2] = w, code, t_s
    return n_ev + 1


@numba.njit(cache=True)
def _stride(strides, n_str, w, done, row):
    """Keep the stride the leg state machine just completed (``done``) in ``row``."""
    if done:
        strides[n_str, 0] = w
        strides[n_str, 1:] = row
        return n_str + 1
    return n_str


@numba.njit(cache=True)
def _flat(w, F, I, C, leg, flat, ref, ref_dot, psi_a_dot, strides, n_str, row):
    """Forefoot contact with its velocity recorded (as ``WalkingPlant._foot_flat``)."""
    done = leg_foot_flat(leg[w], -(F[w, F_ALPHA_DOT] + psi_a_dot) * 180.0 / math.pi, C[w, _K_SLAP_DPS], row)
    foot_flat(w, F, I, flat, ref, ref_dot)
    return _stride(strides, n_str, w, done, row)


@numba.njit(cache=True)
def _contact(w, t_s, heel_first, rel, F, I, C, leg, events, n_ev, strides, n_str, row):
    """Initial contact with the closing swing's records (as ``WalkingPlant._contact``)."""
    n_ev = _event(events, n_ev, w, _HEEL_STRIKE, t_s)
    done = leg_contact(leg[w], t_s, heel_first, rel * _DEG, F[w, F_MIN_TOE], F[w, F_DRAG_S], F[w, F_T_MIN_TOE], C[w, _K_SLAP_DPS], row)
    contact(w, t_s, heel_first, F, I)
    return n_ev, _stride(strides, n_str, w, done, row)


@numba.njit(cache=True)
def _on_event(ev, w, t_s, flat, ref, ref_dot, psi_a_dot, C, F, I, leg, events, n_ev, strides, n_str, row):
    """A nominal gait event of walker ``w`` (as ``WalkingPlant._on_event``)."""
    lock = I[w, I_LOCK]
    if ev == _HEEL_STRIKE:
        if lock == NO_LOCK and I[w, I_SWING]:  # no contact yet: the heel strikes at the nominal time
            rel = F[w, F_ALPHA] - flat
            sr, cr = sincos_rad(rel)
            toe_z = C[w, _K_TOE_FORWARD_M] * sr - C[w, _K_TOE_BELOW_M] * cr
            heel_z = -C[w, _K_HEEL_BACK_M] * sr - C[w, _K_HEEL_BELOW_M] * cr - C[w, _K_HEEL_CONTACT_M]
            n_ev, n_str = _contact(w, t_s, heel_z <= toe_z, rel, F, I, C, leg, events, n_ev, strides, n_str, row)
        if I[w, I_LOCK] == TOE:
            I[w, I_TOE_LANDING] = 1
            I[w, I_LOCK] = NO_LOCK
            F[w, F_LR_DELTA] = F[w, F_ALPHA] - min(ref, flat)
    elif ev == _HEEL_OFF:
        if lock == HEEL:  # the forefoot never came down: flat at heel-off at the latest
            n_str = _flat(w, F, I, C, leg, flat, ref, ref_dot, psi_a_dot, strides, n_str, row)
        n_ev = _event(events, n_ev, w, _HEEL_OFF, t_s)
        leg_heel_off(leg[w], t_s)
        F[w, F_ANKLE_MIN_PO] = np.inf
    elif ev == _TOE_OFF:
        n_ev = _event(events, n_ev, w, _TOE_OFF, t_s)
        leg_toe_off(leg[w], t_s, F[w, F_ANKLE_MIN_PO])
        F[w, F_LR_DELTA] = 0.0
    elif ev == WALK_END:
        if lock == HEEL:
            n_str = _flat(w, F, I, C, leg, flat, ref, ref_dot, psi_a_dot, strides, n_str, row)
        leg_walk_end(leg[w])
        I[w, I_SWING] = 0
        I[w, I_LOCK] = NO_LOCK
    return n_ev, n_str


@numba.njit(cache=True)
def _drive(cur, pw, f, kind, half_uc, width_uc, fusion_s):
    """Muscle drive ``u`` (0..1) of one walker: recruitment (model ``kind``, see
    :data:`RECRUITMENT_KINDS`) × tetanic fusion; 0 when current, pulse width or frequency is 0."""
    if not (cur > 0.0 and pw > 0.0 and f > 0.0):
        return 0.0
    if kind == 0:
        r = recruit_sigmoid(cur, pw, half_uc, width_uc, math.exp)
    elif kind == 1:
        r = recruit_hmed2018(cur, math.tanh)
    else:
        r = recruit_ding2007(cur, pw, half_uc, math.exp)
    return min(max(r * fusion_factor(f, fusion_s), 0.0), 1.0)


@register_jitable
def _mid(rec, u_row, r, field):
    """A record field at the middle of step ``r`` of block row ``u_row``: the mean of its values at steps ``r`` and ``r + 1``."""
    return 0.5 * (rec[u_row, r, field] + rec[u_row, r + 1, field])


@numba.njit(cache=True, error_model="numpy")
def advance(  # noqa: PLR0913 - one argument per block field, no copies
    i0, sub, start, dt, lr_decay, rise_decay, fall_decay, current_ma, pulse_width_us, frequency_hz, kind, row, rec, C, F, I, emd_buf, emd_pos,
    spas_buf, leg, events, strides,
):
    """Advance every walker over ``K`` sensor periods from plant step ``i0`` of the block that
    starts at plant step ``start`` (its :attr:`~fes_sim.body.block.Block.record` ``rec``, walker ``w`` on row ``row[w]``):
    period ``k`` holds the stimulation ``current_ma[k, w]``, ``pulse_width_us[k, w]``,
    ``frequency_hz[k, w]`` (arrays (K, N)) over its ``sub`` plant steps, then takes a Riener
    fatigue step. Returns how many rows were written to ``events`` and ``strides``."""
    n = F.shape[0]
    emd_len = emd_buf.shape[1]
    n_ev = n_str = 0
    srow = np.empty(len(STRIDE_FIELDS))
    last = current_ma.shape[0] * sub - 1
    for w in range(n):
        v = w + _AHEAD
        if v < n:  # the second line (swing, the heel and toe rockers, the reflex) only for a walker in one of them
            moving = I[v, I_SWING] or I[v, I_LOCK] != NO_LOCK or C[v, _K_SPASTICITY_GAIN_NMS_PER_DEG] != 0.0
            _prefetch_records(rec, row[v], i0 + RECORD_OFFSET, i0 + last + 1 + RECORD_OFFSET, moving)
        u_row = row[w]
        gain = C[w, _K_SPASTICITY_GAIN_NMS_PER_DEG]
        opt, width = C[w, _K_TORQUE_ANGLE_OPT_DEG], C[w, _K_TORQUE_ANGLE_WIDTH_DEG]
        p = emd_pos
        stance_t_max = stance_theta_deg = math.nan
        trig_rad, trig_sin, trig_cos = F[w, F_TRIG_RAD], F[w, F_TRIG_SIN], F[w, F_TRIG_COS]  # an angle (rad) with its sine and cosine
        for k in range(current_ma.shape[0]):
            cur, pw, f = current_ma[k, w], pulse_width_us[k, w], frequency_hz[k, w]
            if cur != F[w, F_CUR] or pw != F[w, F_PW] or f != F[w, F_FREQ]:  # a new setting: a new drive
                F[w, F_CUR], F[w, F_PW], F[w, F_FREQ] = cur, pw, f
                F[w, F_U] = _drive(cur, pw, f, kind[w], C[w, _K_CHARGE_HALF_UC], C[w, _K_CHARGE_WIDTH_UC], C[w, _K_FUSION_S])
            for s in range(sub):
                i = i0 + k * sub + s
                # this step's fields are rec[u_row, r], the next step's rec[u_row, r + 1] (swing's inputs at the middle of
                # the step; those only some phases need are read there), read in place (a view would count references)
                r = i + RECORD_OFFSET
                zone, psi_a = int(rec[u_row, r, R_ZONE]), rec[u_row, r, R_PSI]
                ref, ref_dot, flat = rec[u_row, r, R_ALPHA], rec[u_row, r, R_ALPHA_DOT], rec[u_row, r, R_SLOPE]
                ev = int(rec[u_row, r, R_EVENT])
                if ev:
                    n_ev, n_str = _on_event(
                        ev, w, (start + i) * dt, flat, ref, ref_dot, rec[u_row, r, R_PSI_DOT], C, F, I, leg, events, n_ev, strides, n_str, srow,
                    )
                emd_buf[w, p] = F[w, F_U]
                q = p - I[w, I_EMD_N]
                u = emd_buf[w, q if q >= 0 else q + emd_len]
                a = a_start = F[w, F_A]
                if u > 0.0 or a > ACTIVATION_FLOOR:
                    if u != F[w, F_DECAY_U]:
                        F[w, F_DECAY_U] = u
                        F[w, F_DECAY] = activation_decay(u, dt, C[w, _K_TAU_ACT_S], C[w, _K_TAU_DEACT_S], math.exp)
                    a = u + (a - u) * F[w, F_DECAY]
                else:
                    a = 0.0
                F[w, F_A] = a
                t_max = C[w, _K_T_MAX_NM] * a * F[w, F_MU]
                lock = I[w, I_LOCK]
                stance = zone == STANCE or lock != NO_LOCK
                free = stance and lock == NO_LOCK
                if free:
                    F[w, F_LR_DELTA] = F[w, F_LR_DELTA] * lr_decay
                    if ref <= flat:
                        I[w, I_TOE_LANDING] = 0
                alpha_st = (flat if free and I[w, I_TOE_LANDING] else ref) + F[w, F_LR_DELTA]
                if free and t_max != 0.0 and alpha_st < flat:
                    tau_st = evoked_torque_nm(t_max, (alpha_st + psi_a) * _DEG, opt, width, math.exp)
                    alpha_st = stance_pitch_with_drive(alpha_st, flat, tau_st, C[w, _K_PUSHOFF_K])
                if free and rec[u_row, r, R_PUSHOFF] != 0.0:
                    F[w, F_ANKLE_MIN_PO] = min(F[w, F_ANKLE_MIN_PO], (alpha_st + psi_a) * _DEG)
                rolling = lock == TOE and zone != STANCE
                loading = lock == HEEL
                if rolling:
                    alpha_st = contact_angle(rec[u_row, r, R_SURF], C[w, _K_TOE_FORWARD_M], C[w, _K_TOE_BELOW_M]) + flat
                alpha, alpha_dot = F[w, F_ALPHA], F[w, F_ALPHA_DOT]
                reflex = 0.0
                if gain != 0.0:  # plantarflexor stretch reflex from the ankle velocity one reflex delay ago
                    pos = I[w, I_SPAS_POS]
                    reflex = reflex_torque_update(F[w, F_REFLEX], spas_buf[w, pos], gain, C[w, _K_SPASTICITY_THRESHOLD_DPS], rise_decay, fall_decay)
                    F[w, F_REFLEX] = reflex
                swing = not stance
                tau_ev = 0.0
                t_ev = C[w, _K_T_MAX_NM] * (0.5 * (a_start + a)) * F[w, F_MU] if swing else t_max  # swing: the step's mean activation
                psi_ev = 0.5 * (psi_a + rec[u_row, r + 1, R_PSI]) if swing else psi_a
                if swing or loading:  # the evoked torque at the pitch before the step
                    tau_ev = evoked_torque_nm(t_ev, (alpha + psi_ev) * _DEG, opt, width, math.exp)
                if swing:  # the foot equation (see fes_sim.body.foot), its inputs at the middle of the step
                    q = _Swing(
                        C[w, _S0], C[w, _S0 + 1], C[w, _S0 + 2], C[w, _S0 + 3], C[w, _S0 + 4], C[w, _S0 + 5], C[w, _S0 + 6], C[w, _S0 + 7],
                        C[w, _S0 + 8], C[w, _S0 + 9],
                    )
                    if alpha != trig_rad:
                        trig_rad, (trig_sin, trig_cos) = alpha, sincos_rad(alpha)
                    alpha, alpha_dot = swing_foot_step_trig(
                        q, alpha, trig_sin, trig_cos, alpha_dot, tau_ev - reflex + 0.0, 0.0, 0.0, _mid(rec, u_row, r, R_THETA),
                        _mid(rec, u_row, r, R_THETA_DOT), _mid(rec, u_row, r, R_TAU_FF), psi_ev, _mid(rec, u_row, r, R_PSI_DOT),
                        _mid(rec, u_row, r, R_KNEE), _mid(rec, u_row, r, R_ACC_X), _mid(rec, u_row, r, R_ACC_Z), dt, math.exp,
                    )
                    F[w, F_TAU] = tau_ev
                    stance_t_max = math.nan
                    I[w, I_SWING] = 1
                else:
                    st_dot = (alpha_st - alpha) / dt if rolling else ref_dot
                    if loading:  # heel rocker after a heel-first contact
                        p_r = _Rocker(C[w, _R0], C[w, _R0 + 1], C[w, _R0 + 2], C[w, _R0 + 3], C[w, _R0 + 4], C[w, _R0 + 5], C[w, _R0 + 6])
                        alpha_st, st_dot = heel_rocker_step(
                            p_r, alpha, alpha_dot, (start + i) * dt - F[w, F_T_CONTACT], tau_ev, 0.0 - reflex, 0.0, 0.0, ref, ref_dot, psi_a,
                            rec[u_row, r, R_PSI_DOT], rec[u_row, r, R_KNEE], dt, math.exp,
                        )
                        F[w, F_TAU] = tau_ev
                        stance_t_max = math.nan
                    else:  # the stance torque is only an output: computed once, for the last step (below)
                        stance_t_max, stance_theta_deg = t_max, (alpha_st + psi_a) * _DEG
                    alpha, alpha_dot = alpha_st, st_dot
                F[w, F_ALPHA] = alpha
                F[w, F_ALPHA_DOT] = alpha_dot
                if loading and alpha - flat <= FOOT_FLAT_RAD:
                    n_str = _flat(w, F, I, C, leg, flat, ref, ref_dot, rec[u_row, r, R_PSI_DOT], strides, n_str, srow)
                zone_end = int(rec[u_row, r + 1, R_ZONE]) if swing else STANCE
                if zone_end >= MID_SWING:  # clearance in mid and terminal swing, at the end of the step (its pitch, ankle and zone)
                    rel = alpha - rec[u_row, r + 1, R_SLOPE]
                    sr, cr = sincos_rad(rel)
                    trig_rad, trig_sin, trig_cos = rel, sr, cr  # on level ground the next swing step's pitch
                    z = rec[u_row, r + 1, R_SURF]
                    toe_z = z + C[w, _K_TOE_FORWARD_M] * sr - C[w, _K_TOE_BELOW_M] * cr
                    t_next = (start + i + 1) * dt
                    if zone_end == MID_SWING:
                        if toe_z < F[w, F_MIN_TOE]:
                            F[w, F_MIN_TOE] = toe_z
                            F[w, F_T_MIN_TOE] = t_next
                        if toe_z < 0.0:
                            F[w, F_DRAG_S] += dt
                    else:
                        heel_z = z - C[w, _K_HEEL_BACK_M] * sr - C[w, _K_HEEL_BELOW_M] * cr - C[w, _K_HEEL_CONTACT_M]
                        if toe_z <= 0.0 or heel_z <= 0.0:
                            n_ev, n_str = _contact(w, t_next, heel_z <= toe_z, rel, F, I, C, leg, events, n_ev, strides, n_str, srow)
                if gain != 0.0:
                    pos = I[w, I_SPAS_POS]
                    spas_buf[w, pos] = (F[w, F_ALPHA_DOT] + rec[u_row, r, R_PSI_DOT]) * _DEG
                    I[w, I_SPAS_POS] = pos + 1 if pos + 1 < I[w, I_SPAS_N] else 0
                p = p + 1 if p + 1 < emd_len else 0  # ring positions without integer division
            F[w, F_MU] = riener_fatigue_step(F[w, F_MU], F[w, F_A], sub * dt, C[w, _K_MU_MIN], C[w, _K_T_FAT_S], C[w, _K_T_REC_S])
        F[w, F_TRIG_RAD], F[w, F_TRIG_SIN], F[w, F_TRIG_COS] = trig_rad, trig_sin, trig_cos  # for the next call
        if stance_t_max == stance_t_max:  # the last step was in stance
            F[w, F_TAU] = evoked_torque_nm(stance_t_max, stance_theta_deg, opt, width, math.exp)
    return n_ev, n_str


#: rows of the float output of :func:`truth`
TRUTH_ROWS = ("true_tilt_deg", "ankle_deg", "toe_height_mm", "torque_nm", "fatigue")


@numba.njit(cache=True)
def truth(i, row, rec, C, F, I, out, in_swing):
    """The ground truth of every walker at block step ``i`` (record ``rec``, walker ``w`` on row
    ``row[w]``): the rows :data:`TRUTH_ROWS` of ``out`` (toe height in mm; a foot on the ground rests
    on its lowest point, as the single plant) and the in-swing flags ``in_swing``. Two passes: the
    walkers' fields, then the foot's height from contiguous rows (a loop the compiler vectorises,
    twice as fast as one pass)."""
    tilt_deg, ankle_deg, toe_mm, torque, fatigue = out[0], out[1], out[2], out[3], out[4]
    n = F.shape[0]
    rel, surf = np.empty(n), np.empty(n)  # the foot's pitch to the surface, and the ankle's height above it
    for w in range(n):
        x = rec[row[w], i + RECORD_OFFSET]
        alpha = F[w, F_ALPHA]
        tilt_deg[w] = x[R_TILT]
        ankle_deg[w] = (alpha + x[R_PSI]) * _DEG
        rel[w], surf[w] = alpha - x[R_SLOPE], x[R_SURF]
        in_swing[w] = I[w, I_SWING] != 0 and I[w, I_LOCK] == NO_LOCK
        torque[w], fatigue[w] = F[w, F_TAU], F[w, F_MU]
    for w in range(n):
        sr, cr = sincos_rad(rel[w])
        forward, below = C[w, _K_TOE_FORWARD_M] * sr, C[w, _K_TOE_BELOW_M] * cr
        toe = forward - below
        heel = -C[w, _K_HEEL_BACK_M] * sr - C[w, _K_HEEL_BELOW_M] * cr
        toe_mm[w] = (surf[w] + forward - below) * 1e3 if in_swing[w] else (toe - min(toe, heel)) * 1e3


def constants(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The constant array ``C`` (one row per walker, columns :data:`K_FIELDS`) from per-walker columns of that name."""
    return np.ascontiguousarray(np.stack([np.asarray(columns[name], float) for name in K_FIELDS], axis=1))
