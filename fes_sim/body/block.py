"""Per-block precomputation for the plant: everything that does not depend on stimulation.

A block is one second of prescribed leg motion at the plant rate (hip, thigh, shank,
ankle reference, ankle acceleration, the voluntary feed-forward torque, swing zones and
nominal gait events) plus the shank sensor's output at the sensor rate. It is built with
numpy for N walkers at once (N = 1 for :class:`fes_sim.plant.WalkingPlant`), so the
per-step work is only muscle and foot integration.

Values are arrays of shape (N, substeps), row ``w`` walker ``w``'s block.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Sequence

import numba
from numba.extending import register_jitable
import numpy as np

from fes_sim.body.clearance import MIDSWING_START, TERMINAL_SWING_START, calibrate
from fes_sim.body.foot import FootBody, gravity_torque_nm
from fes_sim.body.passive import passive_exponents, passive_from_exponentials
from fes_sim.gait import kinematics
from fes_sim.gait.motion import ACTIVITY_CODES, Motion, Segments, WalkParams, leg_chain, normal_extent_m, walking_channels
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.variability import OFFSET_SIGNALS
from fes_sim.gait.walker import WalkerConfig
from fes_sim.samples import GaitEvent
from fes_sim.sensors.faults import apply_faults
from fes_sim.sensors.imu import ImuBank, SensorConfig
from fes_sim.sensors.tilt import TiltFilter
from fes_sim.trig import sincos_deg, sincos_rad

_MARGIN = 2
_HEEL_OFF_PITCH_DEG = 2.0
LOADING_TAU_S = 0.03

#: swing zones (where the foot is)
STANCE, EARLY_SWING, MID_SWING, TERMINAL_SWING = 0, 1, 2, 3
#: event code of the end of a walking activity (besides the GaitEvent codes)
WALK_END = 9

SENSOR_CHANNELS = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps", "tilt_deg", "footswitch")


@dataclass
class Block:
    """One block of precomputed plant inputs, (N, n) arrays."""

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


#: rows of the float output of :func:`_leg_fields`
_LEG_ROWS = ("ankle_x", "ankle_z", "knee_x", "knee_z", "psi_a", "theta_ref", "alpha_ref", "x1", "x2", "surface_z", "slope", "sensor_x", "sensor_z")
(_AX, _AZ, _KX, _KZ, _PSI, _THETA, _ALPHA, _X1, _X2, _SURF, _SLOPE, _SX, _SZ) = range(len(_LEG_ROWS))
_Body = namedtuple("_Body", ("mass_kg", "com_forward_m", "com_below_m"))


@numba.njit(cache=True)
def _leg_fields(  # noqa: PLR0913 - one argument per channel and walker constant
    f, thigh_m, contracture_deg, stance_fraction, heel_off, offset_m, sensor_m, shank_deg, psi_a_deg, thigh_deg, knee_deg, ankle_ref_deg,
    hip_x_m, hip_z_m, shank_m, slope_deg, phase, stance,
):
    """The leg chain, reference foot path and gait zones of a block from its motion channels
    ((walkers, n) arrays; walker constants (walkers,)), in one compiled pass: the operations of
    :func:`~fes_sim.gait.motion.ankle_position`, :func:`~fes_sim.gait.motion.ankle_above_surface`
    and the numpy expressions they replace, so the same numbers.

    Writes the rows :data:`_LEG_ROWS` into ``f``, a tuple of (walkers, n) arrays, and returns
    zone, event and push-off flags; ``x1``, ``x2`` are the exponents of the passive moment
    (:func:`~fes_sim.body.passive.passive_exponents`), which the caller exponentiates with numpy.
    Separate arrays, not one (rows, walkers, n) array: glibc maps an allocation above 32 MB
    afresh every time (page faults on every block at 1 kHz), smaller ones it recycles.
    """
    n_w, n = shank_deg.shape
    zone = np.empty((n_w, n), np.int8)
    event = np.zeros((n_w, n), np.int8)
    pushoff = np.empty((n_w, n), np.bool_)
    for w in range(n_w):
        for j in range(n):
            sin_th, cos_th = sincos_deg(thigh_deg[w, j])
            sin_sh, cos_sh = sincos_deg(shank_deg[w, j])
            ankle_x, ankle_z, knee_x, knee_z = leg_chain(hip_x_m[w, j], hip_z_m[w, j], thigh_m[w], shank_m[w, j], sin_th, cos_th, sin_sh, cos_sh)
            f[_KX][w, j], f[_KZ][w, j], f[_AX][w, j], f[_AZ][w, j] = knee_x, knee_z, ankle_x, ankle_z
            slope = slope_deg[w, j]
            cos_th_s, cos_sh_s = cos_th, cos_sh  # on level ground the surface normal is vertical
            if slope != 0.0:
                cos_th_s = sincos_deg(thigh_deg[w, j] - slope)[1]
                cos_sh_s = sincos_deg(shank_deg[w, j] + slope)[1]
            f[_SURF][w, j] = hip_z_m[w, j] - normal_extent_m(thigh_m[w], shank_m[w, j], cos_th_s, cos_sh_s) + offset_m[w]
            f[_SLOPE][w, j] = slope * _RAD
            f[_SX][w, j] = ankle_x + sensor_m[w] * sin_sh
            f[_SZ][w, j] = ankle_z + sensor_m[w] * cos_sh
            psi_a, theta_ref = psi_a_deg[w, j] * _RAD, ankle_ref_deg[w, j] * _RAD
            f[_PSI][w, j], f[_THETA][w, j], f[_ALPHA][w, j] = psi_a, theta_ref, theta_ref - psi_a
            f[_X1][w, j], f[_X2][w, j] = passive_exponents(ankle_ref_deg[w, j], knee_deg[w, j], contracture_deg[w])
            ph, sf, ho = phase[w, j], stance_fraction[w], heel_off[w]
            if stance[w, j] or ph != ph:
                zone[w, j] = STANCE
            else:
                sw = (ph - sf) / (1.0 - sf)
                zone[w, j] = TERMINAL_SWING if sw >= TERMINAL_SWING_START else (MID_SWING if sw >= MIDSWING_START else EARLY_SWING)
            if j > 0:
                event[w, j] = _event_code(phase[w, j - 1], ph, sf, ho)
            pushoff[w, j] = ph >= ho and ph < sf
    return zone, event, pushoff


@numba.njit(cache=True)
def _feedforward_rows(alpha_ref, acc_x, acc_z, alpha_dd, theta_dot, e1, e2, inertia, mass_kg, com_forward_m, com_below_m, scale, damping):
    """The voluntary feed-forward torque that keeps the foot on its reference path, J·α̈ − τ_pass + B·θ̇ − τ_g,
    per point ((walkers, n) arrays; walker constants (walkers,)); ``e1``, ``e2`` the exponentials
    of the passive moment's terms (:func:`~fes_sim.body.passive.passive_exponents`)."""
    out = np.empty(alpha_ref.shape)
    for w in range(alpha_ref.shape[0]):
        body = _Body(mass_kg[w], com_forward_m[w], com_below_m[w])
        for j in range(alpha_ref.shape[1]):
            sin_a, cos_a = sincos_rad(alpha_ref[w, j])
            tau_g = gravity_torque_nm(cos_a, sin_a, acc_x[w, j], acc_z[w, j], body)
            tau_pass = passive_from_exponentials(e1[w, j], e2[w, j], scale[w])[0]
            out[w, j] = inertia[w] * alpha_dd[w, j] - tau_pass + damping[w] * theta_dot[w, j] - tau_g
    return out


@numba.njit(cache=True)
def gradient(f: np.ndarray, dx: float) -> np.ndarray:
    """``numpy.gradient(f, dx, axis=-1)`` of a 2-D array (central differences, one-sided at the
    ends; the same operations, so the same numbers), in one compiled pass."""
    n_rows, n = f.shape
    out = np.empty((n_rows, n))
    for r in range(n_rows):
        row = f[r]
        out[r, 0] = (row[1] - row[0]) / dx
        for j in range(1, n - 1):
            out[r, j] = central_difference(row, j, dx)
        out[r, n - 1] = (row[n - 1] - row[n - 2]) / dx
    return out


@register_jitable
def central_difference(f, j, dx):
    """Derivative of the 1-D ``f`` at interior point ``j`` (spacing ``dx``), as :func:`gradient` takes it."""
    return (f[j + 1] - f[j - 1]) / (2.0 * dx)


@numba.njit(cache=True)
def _stride_phase(t: np.ndarray, starts: np.ndarray, durs: np.ndarray, offs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker phase (N, n) at times ``t`` and the per-stride offsets (N, n, k) in force, from each
    walker's stride starts and durations (N, strides; unused strides start at +inf)."""
    n_w, n_strides = starts.shape
    phase = np.empty((n_w, t.size))
    offsets = np.empty((n_w, t.size, offs.shape[2]))
    for w in range(n_w):
        for j in range(t.size):
            k = 0
            while k + 1 < n_strides and t[j] >= starts[w, k + 1]:
                k += 1
            phase[w, j] = (t[j] - starts[w, k]) / durs[w, k]
            offsets[w, j] = offs[w, k]
    return phase, offsets


@numba.njit(cache=True)
def _sensor_motion(sensor_x, sensor_z, tilt_deg, events, t, last_hs, margin, sub, dt):
    """At the sensor samples (every ``sub``-th column between the ``margin`` columns at either
    end) of (walkers, n) rows: the sensor's acceleration (second derivatives of ``sensor_x``,
    ``sensor_z``), the shank's rate (derivative of ``tilt_deg``), as ``gradient`` of ``gradient``
    gives them there (the same operations, so the same numbers), and the time since the last
    nominal heel strike (``last_hs``, carried over blocks and updated in place; −inf: none).
    Returns four (walkers, samples) arrays; the other columns are never computed."""
    n_w, n = sensor_x.shape
    n_s = (n - 2 * margin) // sub
    ax, az, gyro, since = np.empty((n_w, n_s)), np.empty((n_w, n_s)), np.empty((n_w, n_s)), np.empty((n_w, n_s))
    h = 2.0 * dt  # the span of a central difference
    for w in range(n_w):
        x, z, tilt = sensor_x[w], sensor_z[w], tilt_deg[w]
        last = last_hs[w]
        for j in range(margin, n - margin):
            if events[w, j] == _HS:
                last = max(last, t[j])
            if (j - margin) % sub == 0:
                k = (j - margin) // sub
                ax[w, k] = (central_difference(x, j + 1, dt) - central_difference(x, j - 1, dt)) / h
                az[w, k] = (central_difference(z, j + 1, dt) - central_difference(z, j - 1, dt)) / h
                gyro[w, k] = central_difference(tilt, j, dt)
                since[w, k] = t[j] - last
        last_hs[w] = last
    return ax, az, gyro, since


def _column(walkers: Sequence[WalkerConfig], name: str) -> np.ndarray:
    return np.array([float(getattr(w, name)) for w in walkers])[:, None]


class BlockBuilder:
    """Builds consecutive blocks for N walkers (blocks must be requested in order).

    Walker ``i`` draws its motion and sensor noise from ``SeedSequence(seeds[i])`` alone,
    so a walker gives the same run alone or in a batch. Walk-only scenarios are batched
    across walkers (their stride tables in one compiled pass); other scenarios, and a
    walker changed by :meth:`set_walker`, evaluate each walker's motion in turn (slower).
    """

    def __init__(
        self, walkers: Sequence[WalkerConfig], scenario: Scenario, sensor: SensorConfig, sample_rate_hz: float, sub: int, seeds: Sequence[int],
    ) -> None:
        self.walkers = list(walkers)
        n = self.n = len(self.walkers)
        streams = [np.random.SeedSequence(s).spawn(2) for s in seeds]
        self.motions = [Motion(w, scenario, np.random.default_rng(m)) for w, (m, _) in zip(self.walkers, streams)]
        self.params = WalkParams.stack([m.params for m in self.motions])
        col = lambda name: _column(self.walkers, name)  # noqa: E731
        self.col = col
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
        col = lambda name: _column(self.walkers, name)  # noqa: E731
        self.col = col
        self.foot = FootBody.of(col("height_m"), col("mass_kg"), col("shoe_mass_kg"), col("foot_inertia_kgm2"))
        self.calibrations = [calibrate(walker)]
        self.offset_m = np.array([self.calibrations[0].offset_m])[:, None]
        self.heel_contact_m = self.calibrations[0].heel_contact_m
        ho = kinematics.heel_off_phase(_HEEL_OFF_PITCH_DEG)
        self.heel_off_phase = np.array([[kinematics.unwarp_phase(ho, float(self.params.warp_b[0, 0]), float(self.params.warp_a[0, 0]))]])

    def _channels(self, t: np.ndarray) -> dict[str, np.ndarray]:
        if not self.motions[0].walk_only or self.motions[0].blending:
            per_walker = [m.channels(t) for m in self.motions]
            return {k: np.stack([c[k] for c in per_walker]) for k in per_walker[0]}
        tables = [m.walk_strides(float(t[0]), float(t[-1])) for m in self.motions]
        counts = np.array([len(tb) for tb in tables])
        strides = [x for tb in tables for x in tb]
        walker = np.repeat(np.arange(self.n), counts)
        k = np.arange(len(strides)) - np.repeat(np.cumsum(counts) - counts, counts)  # each stride's place in its walker's table
        starts = np.full((self.n, int(counts.max())), np.inf)
        durs = np.ones(starts.shape)
        offs = np.zeros(starts.shape + (len(OFFSET_SIGNALS),))
        starts[walker, k] = [x[0] for x in strides]
        durs[walker, k] = [x[1] for x in strides]
        offs[walker, k] = [x[2] for x in strides]
        phase, offsets = _stride_phase(t, starts, durs, offs)
        ch = walking_channels(phase, offsets, t[None, :], 0.0, self._walk_slope_deg, self.params)
        ch["activity"] = np.full(phase.shape, ACTIVITY_CODES[self.motions[0].scenario.segments[0].activity], np.int8)
        return ch

    def build(self, b: int) -> Block:
        """Block ``b``: substeps ``[b·M, (b+1)·M)`` and sensor samples ``[b·n, (b+1)·n)``."""
        if b != self._next:
            raise ValueError(f"blocks must be built in order: expected {self._next}, got {b}")
        self._next = b + 1
        col, seg, dt, M = self.col, self.seg, self.dt, self.block_substeps
        start = b * M
        t = np.arange(start - _MARGIN, start + M + _MARGIN) * dt
        ch = self._channels(t)
        grad = lambda x: gradient(x, dt)  # noqa: E731
        fb = self.foot
        f_st = col("stance_fraction")
        f = tuple(np.empty(ch["phase"].shape) for _ in _LEG_ROWS)
        zone, events, pushoff = _leg_fields(
            f, seg.thigh[:, 0], col("contracture_deg")[:, 0], f_st[:, 0], self.heel_off_phase[:, 0], self.offset_m[:, 0],
            (seg.shank - col("sensor_below_knee_m"))[:, 0], *(np.ascontiguousarray(np.broadcast_to(ch[k], ch["phase"].shape), float) for k in (
                "shank_deg", "psi_a_deg", "thigh_deg", "knee_deg", "ankle_ref_deg", "hip_x_m", "hip_z_m", "shank_m", "slope_deg", "phase")),
            np.ascontiguousarray(ch["stance"]),
        )
        ankle_x, ankle_z, psi_a, theta_ref, alpha_ref = f[_AX], f[_AZ], f[_PSI], f[_THETA], f[_ALPHA]
        acc_x, acc_z = grad(grad(ankle_x)), grad(grad(ankle_z))
        alpha_dot = grad(alpha_ref)
        theta_dot = grad(theta_ref)
        e1, e2 = np.exp(f[_X1], out=f[_X1]), np.exp(f[_X2], out=f[_X2])  # numpy's exp, as the passive moment had it
        tau_ff = _feedforward_rows(
            alpha_ref, acc_x, acc_z, grad(alpha_dot), theta_dot, e1, e2, fb.inertia_kgm2[:, 0], fb.mass_kg[:, 0], fb.com_forward_m[:, 0],
            fb.com_below_m[:, 0], col("passive_stiffness_scale")[:, 0], col("damping_nms_per_rad")[:, 0],
        )
        tilt = ch["shank_deg"]
        sensor = self._sensor(t, ch, f[_SX], f[_SZ], tilt, events, pushoff, alpha_ref)
        core = slice(_MARGIN, _MARGIN + M)
        values = {
            "psi_a": psi_a, "psi_a_dot": grad(psi_a), "alpha_ref": alpha_ref, "alpha_ref_dot": alpha_dot, "theta_ref": theta_ref,
            "theta_ref_dot": theta_dot, "tau_ff": tau_ff, "knee": ch["knee_deg"], "hip": ch["hip_deg"], "thigh": ch["thigh_deg"],
            "tilt": tilt, "acc_x": acc_x, "acc_z": acc_z, "ankle_x": ankle_x, "ankle_z": f[_SURF],
            "hip_x": ch["hip_x_m"], "hip_z": ch["hip_z_m"], "knee_x": f[_KX], "knee_z": f[_KZ], "slope": f[_SLOPE],
            "zone": zone, "event": events, "pushoff": pushoff, "activity": ch["activity"],
        }
        quiet = ((zone == STANCE) & (events == 0) & ~pushoff)[:, core].reshape(self.n, -1, self.sub).all(axis=-1)
        fields = {k: np.broadcast_to(v, zone.shape)[:, core] for k, v in values.items()}
        return Block(start=start, end=start + M, sensor=sensor, quiet=quiet, **fields)

    def _sensor(
        self, t: np.ndarray, ch: dict, sensor_x: np.ndarray, sensor_z: np.ndarray, tilt: np.ndarray, events: np.ndarray,
        pushoff: np.ndarray, alpha_ref: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Sensor output at the sample instants of the block (every sub-th substep) from the
        position of the sensor (``sensor_x``, ``sensor_z``: on the shank, the sensor distance above the ankle)."""
        dt, M = self.dt, self.block_substeps
        sens = slice(_MARGIN, _MARGIN + M, self.sub)
        ax, az, gyro, since = _sensor_motion(sensor_x, sensor_z, tilt, events, t, self._last_hs, _MARGIN, self.sub, dt)
        out = self.imu.measure(ax, az, tilt[:, sens], gyro, since)
        sc = self.sensor_config
        n_w, n = out["acc_x_mps2"].shape
        nan = np.full((n_w, n), np.nan)
        out["tilt_deg"] = self.tilt_filter.run(out["acc_x_mps2"], out["acc_y_mps2"], out["gyr_z_dps"], out["acc_z_mps2"]) if sc.tilt_output else nan.copy()
        if sc.footswitch:
            flat = np.degrees(alpha_ref - np.radians(ch["slope_deg"])) > -_HEEL_OFF_PITCH_DEG
            out["footswitch"] = (ch["stance"] & ~pushoff & flat)[:, sens].astype(float)
        else:
            out["footswitch"] = nan.copy()
        if not sc.imu:
            for name in SENSOR_CHANNELS[:6]:
                out[name] = nan.copy()
        apply_faults(sc, t[sens], out, self._held)
        return out
