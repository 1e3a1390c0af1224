"""Per-block precomputation for the plant: everything that does not depend on stimulation.

A block is one second of prescribed leg motion at the plant rate (hip, thigh, shank,
ankle reference, ankle acceleration, the voluntary feed-forward torque, swing zones and
nominal gait events) plus the shank sensor's output at the sensor rate. It is built for N
walkers at once (N = 1 for :class:`fes_sim.plant.WalkingPlant`), so the per-step work is
only muscle and foot integration.

Values are arrays of shape (N, substeps), row ``w`` walker ``w``'s block. The pose fields
(:data:`_POSE_ROWS`, a stick figure's joints) are kept only when asked for (``pose=True``,
the single plant's truth); otherwise they are ``None``.

Each walker's block is computed in one compiled pass over row-sized scratch (motion, leg
chain, derivatives, the sensor's true motion at its samples), so each full-rate field is
written once and nothing else is stored at the plant rate; the passes, numpy's exponentials
and the feed-forward torque run in chunks of walkers that stay in cache.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numba
from numba.extending import register_jitable
import numpy as np

from fes_sim.body.clearance import MIDSWING_START, TERMINAL_SWING_START, calibrate
from fes_sim.body.foot import FootBody, gravity_torque_nm
from fes_sim.body.passive import passive_exponents, passive_from_exponentials
from fes_sim.gait import kinematics
from fes_sim.gait.motion import (
    ACTIVITY_CODES, ANGLE_CHANNELS, Motion, Segments, WalkParams, angle_scratch, leg_chain, normal_extent_m, slope_compensation,
    walking_angle_row,
)
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.samples import GaitEvent
from fes_sim.sensors.faults import apply_faults
from fes_sim.sensors.imu import ImuBank, SensorConfig
from fes_sim.sensors.tilt import TiltFilter
from fes_sim.trig import sincos_deg, sincos_rad

#: steps computed beyond each end of a block: the record's step after the last (a swing step reads
#: it) then has central second derivatives (the ankle's acceleration, the feed-forward torque)
_MARGIN = 3
_HEEL_OFF_PITCH_DEG = 2.0
LOADING_TAU_S = 0.03

#: swing zones (where the foot is)
STANCE, EARLY_SWING, MID_SWING, TERMINAL_SWING = 0, 1, 2, 3
#: event code of the end of a walking activity (besides the GaitEvent codes)
WALK_END = 9

SENSOR_CHANNELS = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps", "tilt_deg", "footswitch")


@dataclass
class Block:
    """One block of precomputed plant inputs, (N, n) arrays (the pose fields ``hip``, ``thigh``,
    ``hip_x``, ``hip_z``, ``knee_x``, ``knee_z``, ``ankle_x`` ``None`` unless the builder keeps them)."""

    start: int
    end: int
    psi_a: Any
    psi_a_dot: Any
    alpha_ref: Any
    alpha_ref_dot: Any
    theta_ref: Any
    theta_ref_dot: Any
    tau_ff: Any
    knee: Any
    hip: Any
    thigh: Any
    tilt: Any
    acc_x: Any
    acc_z: Any
    ankle_x: Any
    ankle_z: Any
    hip_x: Any
    hip_z: Any
    knee_x: Any
    knee_z: Any
    slope: Any
    zone: Any
    event: Any
    pushoff: Any
    activity: Any
    sensor: dict
    quiet: Any  # per sensor sample: every substep in stance, without event or push-off
    #: the compiled step's fields, (N, margin + n + margin, :data:`RECORD_FIELDS`): step ``i`` of walker
    #: ``w`` is ``record[w, i + RECORD_OFFSET]``; the float fields above are views of it
    record: Any


_HS, _HO, _TO = int(GaitEvent.HEEL_STRIKE), int(GaitEvent.HEEL_OFF), int(GaitEvent.TOE_OFF)
_RAD = np.pi / 180.0  # numpy.radians multiplies by this


@numba.njit(cache=True)
def _event_code(prev: float, cur: float, stance_fraction: float, heel_off: float) -> int:
    """Event code at a sample from the walking phase there and at the sample before (nan = not walking)."""
    if prev != prev:
        return 0
    if cur != cur:
        return WALK_END
    if prev < stance_fraction <= cur:
        return _TO
    if prev < heel_off <= cur:
        return _HO
    return _HS if cur < prev else 0


#: the fields of one walker's plant step, side by side (two cache lines, the first all that a foot
#: on its stance path reads): the compiled step reads a step's fields from one or two lines rather
#: than from one row each (a block's rows lie 8 KB apart at 1 kHz)
RECORD_FIELDS = (
    "zone", "event", "pushoff", "psi_a", "alpha_ref", "alpha_ref_dot", "slope", "psi_a_dot",
    "theta_ref", "theta_ref_dot", "tau_ff", "knee", "acc_x", "acc_z", "ankle_z", "tilt",
)
(R_ZONE, R_EVENT, R_PUSHOFF, R_PSI, R_ALPHA, R_ALPHA_DOT, R_SLOPE, R_PSI_DOT,
 R_THETA, R_THETA_DOT, R_TAU_FF, R_KNEE, R_ACC_X, R_ACC_Z, R_SURF, R_TILT) = range(len(RECORD_FIELDS))
#: fields of the first cache line of a step's record
RECORD_LINE = 8
#: index of a block's first step in :attr:`Block.record` (the steps before it are the derivatives' margin)
RECORD_OFFSET = _MARGIN
#: full-rate rows of a block that the plant step reads, in the order of the block passes' output ``f``
#: (``ankle_z`` is the ankle's height above the surface)
_STEP_ROWS = ("psi_a", "psi_a_dot", "alpha_ref", "alpha_ref_dot", "theta_ref", "theta_ref_dot", "knee", "tilt", "ankle_z", "slope", "acc_x", "acc_z")
(_PSI, _PSI_DOT, _ALPHA, _ALPHA_DOT, _THETA, _THETA_DOT, _KNEE, _TILT, _SURF, _SLOPE, _ACC_X, _ACC_Z) = range(len(_STEP_ROWS))
#: walkers per chunk of a block: the passes, numpy's exponentials of the passive moment's terms and the
#: feed-forward torque run chunk by chunk, so the exponents and the torque's inputs are read from cache
_CHUNK_WALKERS = 32
#: full-rate rows of a lone walker's pose (the population does not read them), output ``pose``
_POSE_ROWS = ("hip", "thigh", "hip_x", "hip_z", "knee_x", "knee_z", "ankle_x")
(_HIP, _THIGH, _HIP_X, _HIP_Z, _KNEE_X, _KNEE_Z, _ANKLE_X) = range(len(_POSE_ROWS))
#: rows of a walker's scratch in the block passes: the ankle and the sensor in the world, a derivative,
#: sine and cosine of thigh and shank
_SCRATCH_ROWS = 9
_Body = namedtuple("_Body", ("mass_kg", "com_forward_m", "com_below_m"))
#: walker constants of the leg chain (each (walkers,)), argument ``leg`` of the block passes
_Leg = namedtuple("_Leg", ("thigh_m", "contracture_deg", "stance_fraction", "heel_off", "offset_m", "sensor_m"))


@register_jitable
def _leg_row(  # noqa: PLR0913 - one argument per motion channel
    w, leg, shank_deg, psi_a_deg, thigh_deg, knee_deg, hip_deg, ankle_ref_deg, hip_x_m, hip_z_m, shank_m, slope_deg, phase, stance,
    f, exps, pose, marks, scratch,
):
    """Walker ``w``'s leg chain, reference foot path and gait zones from its motion channels (rows
    (n,)): the operations of :func:`~fes_sim.gait.motion.ankle_position`,
    :func:`~fes_sim.gait.motion.ankle_above_surface` and the numpy expressions they replaced, so
    the same numbers. Writes row ``w`` of ``f`` (the angles and surface rows of :data:`_STEP_ROWS`),
    the exponents of the passive moment (:func:`~fes_sim.body.passive.passive_exponents`) into
    the rows ``exps``, row ``w`` of ``pose`` (:data:`_POSE_ROWS`; arrays of size 0: none) and of
    the first three ``marks`` (zone, event, push-off), and the world ankle and sensor positions into ``scratch`` rows 0-3.

    Each loop touches few arrays, so the compiler vectorises it (its alias checks give up on many).
    """
    n = phase.size
    thigh_m, sensor_m, offset_m = leg.thigh_m[w], leg.sensor_m[w], leg.offset_m[w]
    ankle_x, ankle_z, sensor_x, sensor_z = scratch[0], scratch[1], scratch[2], scratch[3]
    sin_th, cos_th, sin_sh, cos_sh = scratch[5], scratch[6], scratch[7], scratch[8]
    for j in range(n):
        sin_th[j], cos_th[j] = sincos_deg(thigh_deg[j])
        sin_sh[j], cos_sh[j] = sincos_deg(shank_deg[j])
    for j in range(n):
        ankle_x[j], ankle_z[j] = leg_chain(hip_x_m[j], hip_z_m[j], thigh_m, shank_m[j], sin_th[j], cos_th[j], sin_sh[j], cos_sh[j])[:2]
    for j in range(n):
        sensor_x[j] = ankle_x[j] + sensor_m * sin_sh[j]
        sensor_z[j] = ankle_z[j] + sensor_m * cos_sh[j]
    surf = f[_SURF][w]
    for j in range(n):
        slope = slope_deg[j]
        # the cosines to the surface normal: on level ground those of thigh and shank above
        cos_th_s = sincos_deg(thigh_deg[j] - slope)[1] if slope != 0.0 else cos_th[j]
        cos_sh_s = sincos_deg(shank_deg[j] + slope)[1] if slope != 0.0 else cos_sh[j]
        surf[j] = hip_z_m[j] - normal_extent_m(thigh_m, shank_m[j], cos_th_s, cos_sh_s) + offset_m
    psi_a, theta_ref, alpha_ref = f[_PSI][w], f[_THETA][w], f[_ALPHA][w]
    for j in range(n):
        psi_a[j], theta_ref[j] = psi_a_deg[j] * _RAD, ankle_ref_deg[j] * _RAD
        alpha_ref[j] = theta_ref[j] - psi_a[j]
    knee, tilt, slope_rad = f[_KNEE][w], f[_TILT][w], f[_SLOPE][w]
    for j in range(n):
        knee[j], tilt[j], slope_rad[j] = knee_deg[j], shank_deg[j], slope_deg[j] * _RAD
    (x1, x2), contracture_deg = exps, leg.contracture_deg[w]
    for j in range(n):
        x1[j], x2[j] = passive_exponents(ankle_ref_deg[j], knee_deg[j], contracture_deg)
    _gait_marks(w, leg, phase, stance, marks)
    if pose[0].size > 0:
        _pose_row(w, thigh_m, hip_deg, thigh_deg, hip_x_m, hip_z_m, shank_m, scratch, pose)


@register_jitable
def _gait_marks(w, leg, phase, stance, marks):
    """Row ``w`` of the swing zone, nominal event and push-off flag from the walking ``phase`` (nan:
    not walking) and ``stance``, the walker's stance fraction and heel-off phase: into ``marks[:3]``
    and, as floats, into the record's views ``marks[4:]``."""
    zone, event, pushoff = marks[0][w], marks[1][w], marks[2][w]
    sf, ho = leg.stance_fraction[w], leg.heel_off[w]
    for j in range(phase.size):
        ph = phase[j]
        if stance[j] or ph != ph:
            zone[j] = STANCE
        else:
            sw = (ph - sf) / (1.0 - sf)
            zone[j] = TERMINAL_SWING if sw >= TERMINAL_SWING_START else (MID_SWING if sw >= MIDSWING_START else EARLY_SWING)
        event[j] = _event_code(phase[j - 1], ph, sf, ho) if j > 0 else 0
        pushoff[j] = ph >= ho and ph < sf
    zone_f, event_f, pushoff_f = marks[4][w], marks[5][w], marks[6][w]
    for j in range(phase.size):
        zone_f[j], event_f[j], pushoff_f[j] = zone[j], event[j], pushoff[j]


@register_jitable
def _pose_row(w, thigh_m, hip_deg, thigh_deg, hip_x_m, hip_z_m, shank_m, scratch, pose):
    """Row ``w`` of the pose fields (:data:`_POSE_ROWS`), the leg chain from the sines and cosines in ``scratch``."""
    for j in range(hip_deg.size):
        pose[_HIP][w, j], pose[_THIGH][w, j], pose[_HIP_X][w, j], pose[_HIP_Z][w, j] = hip_deg[j], thigh_deg[j], hip_x_m[j], hip_z_m[j]
        pose[_ANKLE_X][w, j], _, pose[_KNEE_X][w, j], pose[_KNEE_Z][w, j] = leg_chain(
            hip_x_m[j], hip_z_m[j], thigh_m, shank_m[j], scratch[5, j], scratch[6, j], scratch[7, j], scratch[8, j]
        )


@register_jitable
def _derivative_rows(w, f, scratch, dt):
    """Walker ``w``'s derivative rows of ``f``: the rates of ψ_a, α_ref and θ_ref and the ankle's
    acceleration (``gradient`` of ``gradient`` of the world ankle position in ``scratch``)."""
    for src, dst in ((_PSI, _PSI_DOT), (_ALPHA, _ALPHA_DOT), (_THETA, _THETA_DOT)):
        gradient_row(f[src][w], dt, f[dst][w])
    for src, dst in ((0, _ACC_X), (1, _ACC_Z)):
        gradient_row(scratch[src], dt, scratch[4])
        gradient_row(scratch[4], dt, f[dst][w])


@register_jitable
def _sensor_row(w, scratch, tilt_deg, event, t, last_hs, sensor, margin, sub, dt):
    """At walker ``w``'s sensor samples (every ``sub``-th column between the ``margin`` columns at
    either end): the sensor's acceleration (second derivatives of its world position, ``scratch``
    rows 2 and 3), the shank's tilt ``tilt_deg`` and rate (its derivative), as ``gradient`` of
    ``gradient`` gives them there, and the time since the last nominal heel strike (``last_hs``,
    carried over blocks and updated in place; −inf: none), into row ``w`` of the five ``sensor``
    arrays (acceleration x, z, tilt, rate, time since heel strike)."""
    ax, az, tilt, gyro, since = sensor
    x, z = scratch[2], scratch[3]
    h = 2.0 * dt  # the span of a central difference
    last = last_hs[w]
    for j in range(margin, t.size - margin):
        if event[j] == _HS:
            last = max(last, t[j])
        if (j - margin) % sub == 0:
            k = (j - margin) // sub
            ax[w, k] = (central_difference(x, j + 1, dt) - central_difference(x, j - 1, dt)) / h
            az[w, k] = (central_difference(z, j + 1, dt) - central_difference(z, j - 1, dt)) / h
            tilt[w, k] = tilt_deg[j]
            gyro[w, k] = central_difference(tilt_deg, j, dt)
            since[w, k] = t[j] - last
    last_hs[w] = last


@register_jitable
def _finish_row(  # noqa: PLR0913 - one argument per motion channel
    w, leg, shank_deg, psi_a_deg, thigh_deg, knee_deg, hip_deg, ankle_ref_deg, hip_x_m, hip_z_m, shank_m, slope_deg, phase, stance,
    f, exps, pose, marks, sensor, last_hs, t, margin, sub, dt, scratch,
):
    """Everything of walker ``w``'s block from its motion channels: :func:`_leg_row`,
    :func:`_derivative_rows`, :func:`_sensor_row` (not with ``sensor`` arrays of size 0), :func:`_quiet_row`."""
    _leg_row(
        w, leg, shank_deg, psi_a_deg, thigh_deg, knee_deg, hip_deg, ankle_ref_deg, hip_x_m, hip_z_m, shank_m, slope_deg, phase, stance, f, exps,
        pose, marks, scratch,
    )
    _derivative_rows(w, f, scratch, dt)
    if sensor[0].size > 0:
        _sensor_row(w, scratch, shank_deg, marks[1][w], t, last_hs, sensor, margin, sub, dt)
    _quiet_row(w, marks, margin, sub)


@register_jitable
def _quiet_row(w, marks, margin, sub):
    """Row ``w`` of ``marks[3]``, per sensor sample (every ``sub``-th column between the ``margin``
    columns at either end): all of its ``sub`` substeps in stance, without event or push-off."""
    zone, event, pushoff, quiet = marks[0][w], marks[1][w], marks[2][w], marks[3][w]
    for k in range(quiet.size):
        q = True
        for j in range(margin + k * sub, margin + (k + 1) * sub):
            q = q and zone[j] == STANCE and event[j] == 0 and not pushoff[j]
        quiet[k] = q


#: the motion channels of :func:`_channel_block`, in the order of its argument ``ch``
_CHANNEL_ARGS = ("shank_deg", "psi_a_deg", "thigh_deg", "knee_deg", "hip_deg", "ankle_ref_deg", "hip_x_m", "hip_z_m", "shank_m", "slope_deg", "phase")


@numba.njit(cache=True)
def _channel_block(ch, stance, leg, f, exps, pose, marks, sensor, last_hs, t, margin, sub, dt, w0, w1):
    """Walkers ``[w0, w1)`` of a block from motion channels given as (walkers, n) arrays ``ch``
    (:data:`_CHANNEL_ARGS`), in one compiled pass walker by walker (see :func:`_finish_row`; walker
    ``w``'s exponents into row ``w − w0`` of ``exps``); ``stance`` (walkers, n) the foot on the floor."""
    scratch = np.empty((_SCRATCH_ROWS, t.size))
    for w in range(w0, w1):
        _finish_row(
            w, leg, ch[0][w], ch[1][w], ch[2][w], ch[3][w], ch[4][w], ch[5][w], ch[6][w], ch[7][w], ch[8][w], ch[9][w], ch[10][w],
            stance[w], f, (exps[0][w - w0], exps[1][w - w0]), pose, marks, sensor, last_hs, t, margin, sub, dt, scratch,
        )


@numba.njit(cache=True)
def _walk_block(t, strides, walk, leg, f, exps, pose, marks, sensor, last_hs, margin, sub, dt, w0, w1):
    """Walkers ``[w0, w1)`` of a block of walkers that only walk, from their stride tables ``strides`` = (starts, durations,
    offsets), (walkers, k) with unused strides starting at +inf, and their walking constants ``walk``
    = (warp b, warp a, range of motion, slope deg, hip drop, lift, body scale, speed m/s), each
    (walkers,): stride phase, walking angles (:func:`~fes_sim.gait.motion.walking_angle_row`) and
    the channels of :func:`~fes_sim.gait.motion.walking_channels` (the hip from x = 0 at t = 0),
    then :func:`_finish_row` (walker ``w``'s exponents into row ``w − w0`` of ``exps``), walker by
    walker in row-sized scratch."""
    starts, durs, offs = strides
    warp_b, warp_a, rom, slope_deg, hip_drop, lift, body_scale, speed = walk
    n = t.size
    scratch, angles = np.empty((_SCRATCH_ROWS, n)), np.empty((len(ANGLE_CHANNELS), n))
    angle_scratch_ = angle_scratch(n)
    phase, stride, slope, stance = np.empty(n), np.empty(n, np.int64), np.empty(n), np.empty(n, np.bool_)
    hip_x, hip_z, shank_m = np.empty(n), np.empty(n), np.empty(n)
    for w in range(w0, w1):
        sf = leg.stance_fraction[w]
        k = 0
        for j in range(n):
            while k + 1 < starts.shape[1] and t[j] >= starts[w, k + 1]:
                k += 1
            phase[j] = (t[j] - starts[w, k]) / durs[w, k]
            stride[j] = k
            stance[j] = phase[j] < sf
            slope[j] = slope_deg[w]
        walking_angle_row(phase, offs[w], stride, warp_b[w], warp_a[w], rom[w], sf, slope_deg[w], hip_drop[w], lift[w], angle_scratch_, angles)
        for j in range(n):
            hip_z[j] = body_scale[w] * angles[6, j]
            shank_m[j] = body_scale[w] * angles[7, j]
            hip_x[j] = 0.0 + speed[w] * t[j]
        _finish_row(
            w, leg, angles[0], angles[1], angles[2], angles[3], angles[4], angles[5], hip_x, hip_z, shank_m, slope, phase, stance,
            f, (exps[0][w - w0], exps[1][w - w0]), pose, marks, sensor, last_hs, t, margin, sub, dt, scratch,
        )


@numba.njit(cache=True)
def _feedforward_rows(  # noqa: PLR0913 - one argument per field and walker constant
    w0, alpha_ref, acc_x, acc_z, alpha_dot, theta_dot, e1, e2, inertia, mass_kg, com_forward_m, com_below_m, scale, damping, dt, out,
):
    """The voluntary feed-forward torque that keeps the foot on its reference path, J·α̈ − τ_pass + B·θ̇ − τ_g,
    of walkers ``w0`` on (rows ``w0 + i`` of ``out`` and of the (walkers, n) arrays, rows ``i`` of ``e1``, ``e2``;
    walker constants (walkers,)); α̈ is the derivative of ``alpha_dot`` (spacing ``dt``), ``e1``, ``e2``
    the exponentials of the passive moment's terms (:func:`~fes_sim.body.passive.passive_exponents`).
    A walker's fields are copied into contiguous rows first (the block's rows are views of its
    record, one value every 128 bytes), so that the torque's loop vectorises."""
    n = alpha_ref.shape[1]
    rows = np.empty((6, n))
    alpha_dd, alpha, ax, az, theta_dot_w, torque = rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]
    for i in range(e1.shape[0]):
        w = w0 + i
        body = _Body(mass_kg[w], com_forward_m[w], com_below_m[w])
        gradient_row(alpha_dot[w], dt, alpha_dd)
        for j in range(n):
            alpha[j], ax[j], az[j], theta_dot_w[j] = alpha_ref[w, j], acc_x[w, j], acc_z[w, j], theta_dot[w, j]
        e1_i, e2_i = e1[i], e2[i]
        for j in range(n):
            torque[j] = inertia[w] * alpha_dd[j] - passive_from_exponentials(e1_i[j], e2_i[j], scale[w])[0] + damping[w] * theta_dot_w[j]
        for j in range(n):
            sin_a, cos_a = sincos_rad(alpha[j])
            torque[j] -= gravity_torque_nm(cos_a, sin_a, ax[j], az[j], body)
        for j in range(n):
            out[w, j] = torque[j]


@register_jitable
def gradient_row(f, dx, out):
    """``numpy.gradient(f, dx)`` of a 1-D array into ``out`` (central differences, one-sided at the
    ends; the same operations, so the same numbers)."""
    n = f.size
    out[0] = (f[1] - f[0]) / dx
    for j in range(1, n - 1):
        out[j] = central_difference(f, j, dx)
    out[n - 1] = (f[n - 1] - f[n - 2]) / dx


@register_jitable
def central_difference(f, j, dx):
    """Derivative of the 1-D ``f`` at interior point ``j`` (spacing ``dx``), as :func:`gradient_row` takes it."""
    return (f[j + 1] - f[j - 1]) / (2.0 * dx)


def aligned_empty(shape: tuple[int, ...], align_bytes: int = 64) -> np.ndarray:
    """An uninitialised float array of ``shape`` whose data starts on an ``align_bytes`` boundary
    (a cache line: a record of 16 floats then spans two lines, not three)."""
    pad = align_bytes // 8
    flat = np.empty(int(np.prod(shape)) + pad)
    skip = (-flat.ctypes.data % align_bytes) // 8
    return flat[skip : skip + int(np.prod(shape))].reshape(shape)


def _column(walkers: Sequence[WalkerConfig], name: str) -> np.ndarray:
    return np.array([float(getattr(w, name)) for w in walkers])[:, None]


class BlockBuilder:
    """Builds consecutive blocks for N walkers (blocks must be requested in order).

    Walker ``i`` draws its motion and sensor noise from ``SeedSequence(seeds[i])`` alone,
    so a walker gives the same run alone or in a batch. Walk-only scenarios are batched
    across walkers (their motion from stride tables in the compiled pass); other scenarios, and a
    walker changed by :meth:`set_walker`, evaluate each walker's motion in turn (slower).
    ``pose=True`` keeps the pose fields (:data:`_POSE_ROWS`) that a single plant reports.
    ``reuse=True`` writes every block into the same memory (its record, marks and the sensor's true
    motion), so a block is valid until the next :meth:`build`: a holder of one block at a time
    saves the operating system's zeroing of fresh pages (128 MB a block for 1,000 walkers at 1 kHz).
    ``sensor_output=False`` builds no sensor output (:attr:`Block.sensor` is empty): for a holder that
    only steps the plant, such as a sweep whose controller reads detections made beforehand; the
    motion, and so the plant, is the same.
    """

    def __init__(
        self, walkers: Sequence[WalkerConfig], scenario: Scenario, sensor: SensorConfig, sample_rate_hz: float, sub: int, seeds: Sequence[int],
        pose: bool = False, reuse: bool = False, sensor_output: bool = True,
    ) -> None:
        self.walkers = list(walkers)
        self.pose = pose
        self._reuse = reuse
        self._memory: dict[str, np.ndarray] = {}  # the arrays of every block (reuse=True)
        n = self.n = len(self.walkers)
        streams = [np.random.SeedSequence(s).spawn(2) for s in seeds]
        self.motions = [Motion(w, scenario, np.random.default_rng(m)) for w, (m, _) in zip(self.walkers, streams)]
        self.params = WalkParams.stack([m.params for m in self.motions])
        self._columns: dict[str, np.ndarray] = {}
        col = self.col
        self.seg = Segments.of(col("height_m"))
        self.foot = FootBody.of(col("height_m"), col("mass_kg"), col("shoe_mass_kg"), col("foot_inertia_kgm2"))
        self.calibrations = [calibrate(w) for w in self.walkers]
        self.offset_m = np.array([c.offset_m for c in self.calibrations])[:, None]
        #: heel height counted as floor contact (float for one walker, array for a batch)
        contact = np.array([c.heel_contact_m for c in self.calibrations])
        self.heel_contact_m = float(contact[0]) if n == 1 else contact
        ho = kinematics.heel_off_phase(_HEEL_OFF_PITCH_DEG)
        self.heel_off_phase = np.array([kinematics.unwarp_phase(ho, float(b), float(a)) for b, a in zip(self.params.warp_b[:, 0], self.params.warp_a[:, 0])])[:, None]
        self.sensor_config = sensor
        self.fs = sample_rate_hz
        self.sub = sub
        self.dt = 1.0 / (sample_rate_hz * sub)
        self.block_samples = int(round(sample_rate_hz))
        self.block_substeps = self.block_samples * sub
        self.sensor_output = sensor_output
        if sensor_output:
            self.imu = ImuBank(sensor, sample_rate_hz, col("sensor_misalignment_deg")[:, 0], [np.random.default_rng(s) for _, s in streams])
            self.tilt_filter = TiltFilter(sensor.tilt_tau_s, sensor.tilt_gate_g, sample_rate_hz, n)
        self._walk_slope_deg = np.array([m.slope_deg for m in self.motions])[:, None]  # of a walk-only scenario
        self._last_hs = np.full(n, -np.inf)  # time of each walker's last nominal heel strike
        self._held: dict[str, np.ndarray] = {}
        self._next = 0

    def set_walker(self, walker: WalkerConfig) -> None:
        """One walker only: build the next blocks for ``walker`` (same height and sensor
        placement); the sensor, filter and fault states carry on."""
        t_s = self._next * self.block_substeps * self.dt
        self.walkers = [walker]
        self.motions[0].set_walker(walker, t_s)
        self.params = WalkParams.stack([self.motions[0].params])
        self._columns = {}
        col = self.col
        self.foot = FootBody.of(col("height_m"), col("mass_kg"), col("shoe_mass_kg"), col("foot_inertia_kgm2"))
        self.calibrations = [calibrate(walker)]
        self.offset_m = np.array([self.calibrations[0].offset_m])[:, None]
        self.heel_contact_m = self.calibrations[0].heel_contact_m
        ho = kinematics.heel_off_phase(_HEEL_OFF_PITCH_DEG)
        self.heel_off_phase = np.array([[kinematics.unwarp_phase(ho, float(self.params.warp_b[0, 0]), float(self.params.warp_a[0, 0]))]])

    def col(self, name: str) -> np.ndarray:
        """The walkers' field ``name`` as a column (walkers, 1), kept until :meth:`set_walker` (do not modify)."""
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = _column(self.walkers, name)
        return column

    def _leg(self) -> _Leg:
        """The walker constants of the leg chain (argument ``leg`` of the block passes)."""
        col = self.col
        return _Leg(
            self.seg.thigh[:, 0], col("contracture_deg")[:, 0], col("stance_fraction")[:, 0], self.heel_off_phase[:, 0], self.offset_m[:, 0],
            (self.seg.shank - col("sensor_below_knee_m"))[:, 0],
        )

    def _motion(self, t: np.ndarray, outputs: tuple) -> tuple[np.ndarray, Callable[[int, int], None]]:
        """The activity codes (walkers, n) at times ``t`` and the block pass that fills ``outputs``
        (``f``, ``exps``, ``pose``, ``marks``, ``sensor``) for walkers ``[w0, w1)``: :func:`_walk_block`
        for walk-only scenarios, else :func:`_channel_block` on each walker's :meth:`Motion.channels`."""
        f = outputs[0]
        if not self.motions[0].walk_only or self.motions[0].blending:
            per_walker = [m.channels(t) for m in self.motions]
            ch = {k: np.stack([c[k] for c in per_walker]) for k in per_walker[0]}
            args = (tuple(ch[k] for k in _CHANNEL_ARGS), ch["stance"], self._leg(), *outputs, self._last_hs, t, _MARGIN, self.sub, self.dt)
            return ch["activity"], lambda w0, w1: _channel_block(*args, w0, w1)
        tables = self._stride_tables(float(t[0]), float(t[-1]))
        args = (t, tables, self._walk_constants(), self._leg(), *outputs, self._last_hs, _MARGIN, self.sub, self.dt)
        activity = np.full(f[0].shape, ACTIVITY_CODES[self.motions[0].scenario.segments[0].activity], np.int8)
        return activity, lambda w0, w1: _walk_block(*args, w0, w1)

    def _stride_tables(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each walker's strides covering ``[t0_s, t1_s]``: starts (walkers, k) (+inf: unused), durations, offsets (walkers, k, offsets)."""
        return Motion.stride_tables(self.motions, t0_s, t1_s)

    def _walk_constants(self) -> tuple[np.ndarray, ...]:
        """The walking constants of :func:`_walk_block`, each (walkers,)."""
        p, slope = self.params, self._walk_slope_deg
        hip_drop, lift = (np.reshape(x, (-1, 1)) for x in slope_compensation(p.rom, slope[:, 0]))  # (walkers,) each, or 0.0
        per_walker = lambda x: np.ascontiguousarray(np.broadcast_to(x, slope.shape)[:, 0], float)  # noqa: E731
        return tuple(per_walker(x) for x in (p.warp_b, p.warp_a, p.rom, slope, hip_drop, lift, p.body_scale, p.speed_mps))

    def build(self, b: int) -> Block:
        """Block ``b``: substeps ``[b·M, (b+1)·M)`` and sensor samples ``[b·n, (b+1)·n)``."""
        if b != self._next:
            raise ValueError(f"blocks must be built in order: expected {self._next}, got {b}")
        self._next = b + 1
        col, dt, M = self.col, self.dt, self.block_substeps
        start = b * M
        t = np.arange(start - _MARGIN, start + M + _MARGIN) * dt
        shape = (self.n, t.size)
        array = self._array
        record = array("record", lambda: aligned_empty((*shape, len(RECORD_FIELDS))))
        field = lambda name: record[:, :, RECORD_FIELDS.index(name)]  # noqa: E731
        f = tuple(field(k) for k in _STEP_ROWS)
        pose = tuple(np.empty(shape if self.pose else (0, 0)) for _ in _POSE_ROWS)
        marks = (
            *(array(k, lambda dtype=dtype: np.empty(shape, dtype)) for k, dtype in (("zone", np.int8), ("event", np.int8), ("pushoff", np.bool_))),
            array("quiet", lambda: np.empty((self.n, self.block_samples), np.bool_)), field("zone"), field("event"), field("pushoff"),
        )
        motion_shape = (self.n, self.block_samples) if self.sensor_output else (0, 0)
        motion = tuple(array(f"motion{k}", lambda: np.empty(motion_shape)) for k in range(5))
        exps = tuple(np.empty((min(self.n, _CHUNK_WALKERS), t.size)) for _ in range(2))
        activity, fill = self._motion(t, (f, exps, pose, marks, motion))
        fb = self.foot
        body = (fb.inertia_kgm2[:, 0], fb.mass_kg[:, 0], fb.com_forward_m[:, 0], fb.com_below_m[:, 0])
        passive = (col("passive_stiffness_scale")[:, 0], col("damping_nms_per_rad")[:, 0])
        tau_ff = field("tau_ff")
        for w0 in range(0, self.n, _CHUNK_WALKERS):
            w1 = min(w0 + _CHUNK_WALKERS, self.n)
            fill(w0, w1)
            e1, e2 = (np.exp(x[: w1 - w0], out=x[: w1 - w0]) for x in exps)  # numpy's exp, as the passive moment had it
            _feedforward_rows(w0, f[_ALPHA], f[_ACC_X], f[_ACC_Z], f[_ALPHA_DOT], f[_THETA_DOT], e1, e2, *body, *passive, dt, tau_ff)
        zone, events, pushoff, quiet = marks[:4]
        sensor = self._sensor(t, f, marks, motion) if self.sensor_output else {}
        core = slice(_MARGIN, _MARGIN + M)
        values = {
            **{k: f[i] for i, k in enumerate(_STEP_ROWS)}, **{k: pose[i] for i, k in enumerate(_POSE_ROWS)},
            "tau_ff": tau_ff, "zone": zone, "event": events, "pushoff": pushoff, "activity": activity,
        }
        fields = {k: v[:, core] if v.size else None for k, v in values.items()}
        return Block(start=start, end=start + M, sensor=sensor, quiet=quiet, record=record, **fields)

    def _array(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """A block array: ``make()``, or with ``reuse=True`` the one made for the first block."""
        a = self._memory.get(name)
        if a is None:
            a = make()
            if self._reuse:
                self._memory[name] = a
        return a

    def _sensor(self, t: np.ndarray, f: tuple, marks: tuple, motion: tuple) -> dict[str, np.ndarray]:
        """Sensor output at the sample instants of the block (every sub-th substep) from the
        block rows ``f``, ``marks`` and the true sensor ``motion`` there (:func:`_sensor_row`)."""
        sens = slice(_MARGIN, _MARGIN + self.block_substeps, self.sub)
        out = self.imu.measure(*motion)
        sc = self.sensor_config
        n_w, n = out["acc_x_mps2"].shape
        nan = np.full((n_w, n), np.nan)
        out["tilt_deg"] = self.tilt_filter.run(out["acc_x_mps2"], out["acc_y_mps2"], out["gyr_z_dps"], out["acc_z_mps2"]) if sc.tilt_output else nan.copy()
        if sc.footswitch:
            zone, pushoff = marks[0][:, sens], marks[2][:, sens]
            flat = np.degrees(f[_ALPHA][:, sens] - f[_SLOPE][:, sens]) > -_HEEL_OFF_PITCH_DEG
            out["footswitch"] = ((zone == STANCE) & ~pushoff & flat).astype(float)
        else:
            out["footswitch"] = nan.copy()
        if not sc.imu:
            for name in SENSOR_CHANNELS[:6]:
                out[name] = nan.copy()
        apply_faults(sc, t[sens], out, self._held)
        return out
