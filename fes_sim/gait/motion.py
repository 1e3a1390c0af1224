"""Prescribed leg motion of one walker through a scenario, evaluated on time grids.

The motion of hip, thigh and shank does not depend on stimulation, so it is computed
in blocks with numpy. Walking follows Winter's curves (:mod:`fes_sim.gait.kinematics`)
with each walker's speed, cadence, stance fraction and stride variability; standing,
weight shifts, sitting and the sit/stand transitions are smooth posture models with
the foot flat on the floor. Each activity fades into the next over :data:`BLEND_S`
seconds. Walking starts and ends in early stance, near the standing posture.

Sign conventions (REFERENCE §1): shank tilt positive with the knee ahead of the ankle;
``thigh_deg`` positive with the knee ahead of the hip; knee and hip flexion positive;
ankle dorsiflexion positive. ``psi_a_deg`` is the reference angle of the foot, so
foot pitch = ankle − ψ_a; in walking it is Winter's ankle minus foot-pitch curve, which
absorbs the marker offsets between the two.

Slopes (γ, uphill positive), a geometric model: in mid-stance the body stays over the
flat foot, so thigh and shank keep their world angles and the ankle dorsiflexes by γ to
lay the foot on the surface; around initial contact and in swing the leg moves relative
to the surface as on level ground, i.e. thigh and shank rotate by γ with the surface
normal (the thigh forward, the shank back; knee and ankle unchanged), blended by
:func:`slope_window`. Hip flexion at heel strike thus grows by γ with an upright trunk,
as McIntosh et al. 2006 (J Biomech 39:2491) found from −10° to +10°, and a healthy walker
keeps its clearance above the sloped surface (stepping onto ramps, the swing limb first
secures toe clearance: Prentice et al. 2004, Gait Posture 20:255). Not modelled: the
trunk's forward lean, slower and shorter steps, and the extra ankle dorsiflexion at heel
strike walking up (McIntosh 2006); the extra hip and knee flexion in swing
(:func:`slope_compensation`) restores the swing foot's height above the surface. Toe clearance is measured from the sloped
surface: the chain is projected on its normal (:func:`ankle_above_surface`), and the hip
sits as far above it as keeps the flat foot on it in mid-stance (either leg's).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numba
import numpy as np
from numba.extending import register_jitable

from fes_sim.gait import kinematics
from fes_sim.gait.scenario import WALKING, Scenario, Segment
from fes_sim.gait.variability import OFFSET_SIGNALS, StrideSequence, StrideTable
from fes_sim.gait.walker import WalkerConfig
from fes_sim.trig import sincos_turns

BLEND_S = 0.3
WALK_ENTRY_PHASE = 0.12
#: time constant (s) of a stopping walk's deceleration into the posture that follows
STOP_TAU_S = 0.05
#: normative phases where the leg keeps its world angles on a slope (body over the flat foot) and the ramp
#: width: the ramp in starts after foot-flat (0.12), so loading response and foot slap are as on level ground
SLOPE_STANCE_PHASES = (0.25, 0.42)
SLOPE_RAMP = 0.1
#: normative phases of mid foot-flat (where the hip height above a sloped surface is set) and of the MTC
_MID_STANCE_PHASE, _MTC_PHASE = 0.33, 0.8
#: normative phases of foot-flat in Winter's trial (foot pitch within 3° of level) and the ramp width
FOOT_FLAT_PHASES = (0.12, 0.29)
FOOT_FLAT_RAMP = 0.06
#: a walk keeps at least this many strides, and the strides that start this long before the latest time asked for
_KEEP_STRIDES, _KEEP_S = 4, 10.0
#: stride draws per generator call of a walk-only motion (its generator draws nothing else)
_STRIDES_PER_DRAW = 64
#: row of a lone walker's stride sequence and stride tables
_ROW = np.zeros(1, np.int64)

ACTIVITY_CODES: dict[str, int] = {
    name: i for i, name in enumerate(("walk", "stand", "sit", "sit_to_stand", "stand_to_sit", "weight_shift", "slope_up", "slope_down"))
}
ACTIVITY_LABELS: tuple[str, ...] = tuple(ACTIVITY_CODES)

#: channels of a motion block, each (n,) float
CHANNELS: tuple[str, ...] = (
    "shank_deg", "psi_a_deg", "thigh_deg", "knee_deg", "hip_deg", "ankle_ref_deg", "hip_x_m", "hip_z_m", "shank_m", "slope_deg",
)


@dataclass(frozen=True)
class Segments:
    """Lengths (m) of the leg chain and the foot points: Winter's marker chain and REFERENCE §3's
    toe and heel, scaled from Winter's subject by height (:mod:`fes_sim.gait.kinematics`).

    ``thigh`` is hip → knee, ``shank`` knee → ankle with the knee extended (in walking the
    chain uses the ``shank_length`` series instead), ``ankle_height`` the ankle above the
    floor with the shod foot flat.
    """

    thigh: float
    shank: float
    ankle_height: float
    toe_forward: float
    toe_below: float
    heel_back: float
    heel_below: float

    @classmethod
    def of(cls, height_m: float) -> "Segments":
        k = kinematics
        s = k.body_scale(height_m)
        return cls(
            k.WINTER_THIGH_M * s, k.WINTER_SHANK_M * s, k.WINTER_ANKLE_M * s, k.TOE_FORWARD_M * s, k.TOE_BELOW_M * s, k.HEEL_BACK_M * s,
            k.HEEL_BELOW_M * s,
        )


@register_jitable
def _smooth(x):
    """The C² polynomial of :func:`smoothstep` on [0, 1]."""
    return x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)


@register_jitable
def _clip01(x):
    """One number clipped to [0, 1] (nan stays nan, as with ``numpy.clip``)."""
    return 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


@register_jitable
def _smoothstep1(x):
    return _smooth(_clip01(x))


def smoothstep(x: np.ndarray) -> np.ndarray:
    """C² step from 0 (x ≤ 0) to 1 (x ≥ 1)."""
    return _smooth(np.clip(x, 0.0, 1.0))


@register_jitable
def foot_flat_window(phase_n: np.ndarray, step=smoothstep) -> np.ndarray:
    """Weight (0..1) of foot-flat at normative phase: 1 from :data:`FOOT_FLAT_PHASES` [0] to [1]
    (Perry's foot-flat, end of loading response to the start of heel rise), smooth ramps of
    :data:`FOOT_FLAT_RAMP` outside, 0 in loading response, push-off and swing."""
    on, off = FOOT_FLAT_PHASES
    return step((phase_n - on + FOOT_FLAT_RAMP) / FOOT_FLAT_RAMP) * (1.0 - step((phase_n - off) / FOOT_FLAT_RAMP))


@register_jitable
def slope_window(phase_n: np.ndarray, step=smoothstep) -> np.ndarray:
    """Share (0..1) of the surface's rotation that the leg follows at normative phase: 0 in mid-stance
    (:data:`SLOPE_STANCE_PHASES`), 1 around initial contact and in swing, smooth ramps between."""
    on, off = SLOPE_STANCE_PHASES
    return 1.0 - step((phase_n - on + SLOPE_RAMP) / SLOPE_RAMP) * (1.0 - step((phase_n - off) / SLOPE_RAMP))


#: channels of :func:`walking_angles`, in the order of its compiled rows
ANGLE_CHANNELS = ("shank_deg", "psi_a_deg", "thigh_deg", "knee_deg", "hip_deg", "ankle_ref_deg", "hip_height", "shank_length")
_ANKLE, _KNEE, _HIP, _SHANK, _THIGH, _FOOT, _HIP_HEIGHT, _SHANK_LENGTH = (
    kinematics.SIGNALS.index(name) for name in ("ankle", "knee", "hip", "shank", "thigh", "foot", "hip_height", "shank_length")
)
_OFF_SHANK, _OFF_THIGH, _OFF_KNEE, _OFF_ANKLE = (OFFSET_SIGNALS.index(name) for name in ("shank", "thigh", "knee", "ankle"))


def walking_angles(
    phase: np.ndarray, warp_b: np.ndarray | float, warp_a: np.ndarray | float, rom: np.ndarray | float,
    stance_fraction: np.ndarray | float, offsets: np.ndarray, slope_deg: np.ndarray | float,
) -> dict[str, np.ndarray]:
    """Joint and segment angles (deg) of walking at walker ``phase`` (any shape; the walker constants
    ``warp_b`` .. ``stance_fraction`` and ``slope_deg`` broadcast to it and are constant along its last axis).

    ``offsets`` has shape ``phase.shape + (len(OFFSET_SIGNALS),)``; they act in swing with a
    smooth window, so the stance foot is undisturbed. Evaluated point by point in one compiled
    pass (:func:`walking_angle_row`).
    """
    ph = np.asarray(phase, float)
    shape = ph.shape
    n = shape[-1] if ph.ndim else 1
    rows = ph.size // n if n else 0
    hip_drop, lift = slope_compensation(rom, slope_deg)
    row_shape = shape[:-1] + (1,) if ph.ndim else ()
    per_row = lambda x: np.ascontiguousarray(np.broadcast_to(np.asarray(x, float), row_shape)).reshape(rows)  # noqa: E731
    off = np.ascontiguousarray(np.broadcast_to(np.asarray(offsets, float), shape + (len(OFFSET_SIGNALS),))).reshape(rows, n, len(OFFSET_SIGNALS))
    out = np.empty((rows, len(ANGLE_CHANNELS), n))
    _walking_angle_rows(
        np.ascontiguousarray(ph).reshape(rows, n), per_row(warp_b), per_row(warp_a), per_row(rom), per_row(stance_fraction), off,
        per_row(slope_deg), per_row(hip_drop), per_row(lift), out,
    )
    return {name: out[:, k].reshape(shape) for k, name in enumerate(ANGLE_CHANNELS)}


@numba.njit(cache=True)
def _walking_angle_rows(phase, warp_b, warp_a, rom, stance_fraction, offsets, slope_deg, hip_drop, lift, out):
    """:func:`walking_angles` on (rows, n) phases, (rows, n, k) offsets and walker constants (rows,),
    into ``out`` (rows, channels, n): each point its own offsets."""
    n = phase.shape[1]
    scratch = angle_scratch(n)
    point = np.arange(n)
    for r in range(phase.shape[0]):
        walking_angle_row(
            phase[r], offsets[r], point, warp_b[r], warp_a[r], rom[r], stance_fraction[r], slope_deg[r], hip_drop[r], lift[r], scratch, out[r]
        )


#: scratch rows of :func:`walking_angle_row`: normative phase, e^{2πiφₙ} (real, imaginary), the swing
#: window, the weights of foot-flat, of the surface's rotation and of the other leg's mid-stance,
#: then each offset times the swing window (:data:`OFFSET_SIGNALS` order)
_PN, _ZR, _ZI, _WINDOW, _FLAT, _FOLLOW, _OTHER_STANCE, _OFFSET_ROWS = range(8)


@register_jitable
def angle_scratch(n):
    """Scratch rows of :func:`walking_angle_row` for rows of ``n`` points."""
    rows = np.empty((_OFFSET_ROWS + len(OFFSET_SIGNALS), n))
    return rows, np.empty((1 + 2 * kinematics.N_HARMONICS, n)), np.empty((kinematics.COEFF_MATRIX.shape[1], n))


@register_jitable
def walking_angle_row(phase, offsets, stride, b, a, rm, sf, slope, hip_drop, lift, scratch, out):
    """The walking angles of one walker at ``phase`` (n,), into the rows of ``out`` ((channels, n),
    :data:`ANGLE_CHANNELS`): the phase warp (:func:`~fes_sim.gait.kinematics.warp_phase`) with
    coefficients ``b``, ``a``, Winter's curves scaled by the range of motion ``rm``, the stride
    offsets ``offsets[stride[j]]`` in swing, foot-flat, and the leg's rotation with a surface
    sloped by ``slope`` (deg; ``hip_drop``, ``lift`` from :func:`slope_compensation`).
    ``scratch`` from :func:`angle_scratch`.

    Sines and cosines are :func:`~fes_sim.trig.sincos_turns` (no library calls), and each loop
    touches few arrays, so the compiler vectorises every loop but the offsets' lookup.
    """
    a0 = kinematics.COEFF_MATRIX[0]
    n = phase.size
    rows, basis, v = scratch
    pn_, zr_, zi_, window_ = rows[_PN], rows[_ZR], rows[_ZI], rows[_WINDOW]
    for j in range(n):
        ph = phase[j]
        sin_w, cos_w = sincos_turns(ph)
        pn = kinematics.warp_from_sincos(ph, b, a, sin_w, cos_w)
        zi_[j], zr_[j] = sincos_turns(pn)
        pn_[j] = pn
        window = sincos_turns(0.5 * _clip01((ph - sf) / (1.0 - sf)))[0]  # sin(π·swing), 0 in stance
        window_[j] = window * window
    kinematics.fourier_rows(zr_, zi_, basis, v)
    flat_, follow_, other_stance_ = rows[_FLAT], rows[_FOLLOW], rows[_OTHER_STANCE]
    for j in range(n):
        # foot flat in mid-stance: Winter's foot-pitch curve still reads +3..0° there (marker offset);
        # that residue moves into ψ_a, so the ankle curve is kept and the flat foot rests on the floor
        flat_[j] = 1.0 - foot_flat_window(pn_[j], _smoothstep1)
    if slope != 0.0 or lift != 0.0 or hip_drop != 0.0:
        for j in range(n):
            follow_[j] = slope_window(pn_[j], _smoothstep1)  # the share of the surface's rotation the leg follows
            other = pn_[j] + 0.5
            other = other - math.floor(other)  # the other leg's phase, (pn + 0.5) mod 1
            other_stance_[j] = 1.0 - slope_window(other, _smoothstep1)  # the other leg in mid-stance: this one in mid-swing
    else:  # level ground: the weights only ever multiply zeros (the same numbers as weighting them)
        follow_[:] = 0.0
        other_stance_[:] = 0.0
    for c in range(len(OFFSET_SIGNALS)):
        off = rows[_OFFSET_ROWS + c]
        for j in range(n):
            off[j] = offsets[stride[j], c] * window_[j]
    off_shank, off_thigh = rows[_OFFSET_ROWS + _OFF_SHANK], rows[_OFFSET_ROWS + _OFF_THIGH]
    off_knee, off_ankle = rows[_OFFSET_ROWS + _OFF_KNEE], rows[_OFFSET_ROWS + _OFF_ANKLE]
    # the leg turns with the surface normal by follow · slope; hip and knee flex by lift · other_stance
    # in mid and terminal swing (the shank and foot keep their angles)
    shank, thigh, knee, hip, ankle, foot = v[_SHANK], v[_THIGH], v[_KNEE], v[_HIP], v[_ANKLE], v[_FOOT]
    o = out[0]
    for j in range(n):
        o[j] = a0[_SHANK] + rm * (shank[j] - a0[_SHANK]) + off_shank[j] - follow_[j] * slope
    o = out[1]
    for j in range(n):  # ψ_a: the foot pitch follows the ankle offset, so the offsets move ψ_a only through the shank
        ankle_j = a0[_ANKLE] + rm * (ankle[j] - a0[_ANKLE]) + off_ankle[j]
        o[j] = ankle_j - (a0[_FOOT] + rm * (foot[j] - a0[_FOOT])) * flat_[j] - off_ankle[j] + off_shank[j] - follow_[j] * slope
    o = out[2]
    for j in range(n):
        o[j] = -(a0[_THIGH] + rm * (thigh[j] - a0[_THIGH]) + off_thigh[j]) + follow_[j] * slope + lift * other_stance_[j]
    o = out[3]
    for j in range(n):
        o[j] = a0[_KNEE] + rm * (knee[j] - a0[_KNEE]) + off_knee[j] + lift * other_stance_[j]
    o = out[4]
    for j in range(n):
        o[j] = a0[_HIP] + rm * (hip[j] - a0[_HIP]) + follow_[j] * slope + lift * other_stance_[j]
    o = out[5]
    for j in range(n):
        o[j] = a0[_ANKLE] + rm * (ankle[j] - a0[_ANKLE]) + off_ankle[j] + slope - follow_[j] * slope
    hip_height, length, o = v[_HIP_HEIGHT], v[_SHANK_LENGTH], out[6]
    for j in range(n):
        o[j] = a0[_HIP_HEIGHT] + rm * (hip_height[j] - a0[_HIP_HEIGHT]) + hip_drop * (1.0 - follow_[j] + other_stance_[j])
    o = out[7]
    for j in range(n):
        o[j] = a0[_SHANK_LENGTH] + rm * (length[j] - a0[_SHANK_LENGTH])


def slope_compensation(rom: Any, slope_deg: Any) -> tuple[Any, Any]:
    """Drop of the hip (m, Winter's size) above a sloped surface and the extra swing hip and knee
    flexion (deg) that makes it up.

    In mid-stance the leg keeps its world angles over a foot that lies on the surface, so the
    leg reaches less far along the surface normal uphill and the hip sits lower above the
    surface, and so it does in mid and terminal swing, over the other leg's mid-stance. There
    the thigh flexes further (hip and knee by the same angle, the shank keeps its angle) and
    lifts the swing ankle back to its level height above the surface at the MTC: more hip and
    knee flexion walking up, as McIntosh et al. 2006 found at heel strike (about 1.4° per degree
    of incline here). Zero on level ground.
    """
    if np.all(np.asarray(slope_deg) == 0.0):
        return 0.0, 0.0
    v = kinematics.evaluate_all(np.array([_MID_STANCE_PHASE, _MTC_PHASE]))
    scaled = {k: kinematics.COEFFS[k][0] + rom * (v[k] - kinematics.COEFFS[k][0]) for k in ("thigh", "shank", "shank_length")}
    thigh, shank, length = (scaled[k][..., 0] for k in ("thigh", "shank", "shank_length"))  # mid-stance
    drop = _normal_extent_m(kinematics.WINTER_THIGH_M, length, -thigh, shank, slope_deg) - _normal_extent_m(
        kinematics.WINTER_THIGH_M, length, -thigh, shank, 0.0
    )
    thigh_mtc = np.radians(-scaled["thigh"][..., 1])  # knee ahead of hip, relative to the surface normal in swing
    lift = np.degrees(np.arccos(np.cos(thigh_mtc) + drop / kinematics.WINTER_THIGH_M) - thigh_mtc)
    return drop, lift


def _normal_extent_m(thigh_m, shank_m, thigh_deg, shank_deg, slope_deg):
    """Extent of the thigh plus shank along the normal of a surface inclined by ``slope_deg``."""
    return normal_extent_m(thigh_m, shank_m, np.cos(np.radians(thigh_deg - slope_deg)), np.cos(np.radians(shank_deg + slope_deg)))


@register_jitable
def normal_extent_m(thigh_m, shank_m, cos_thigh_normal, cos_shank_normal):
    """:func:`_normal_extent_m` from the cosines of thigh and shank to the surface normal."""
    return thigh_m * cos_thigh_normal + shank_m * cos_shank_normal


@dataclass(frozen=True)
class WalkParams:
    """Per-walker constants of walking: floats for one walker, (N, 1) arrays for a batch."""

    warp_b: Any
    warp_a: Any
    rom: Any
    stance_fraction: Any
    speed_mps: Any
    body_scale: Any

    @classmethod
    def of(cls, walker: WalkerConfig) -> "WalkParams":
        return cls(
            *kinematics.warp_coefficients(walker.stance_fraction, walker.contralateral_strike), float(kinematics.rom_scale(walker.speed_mps)),
            walker.stance_fraction, walker.speed_mps, float(kinematics.body_scale(walker.height_m)),
        )

    @classmethod
    def stack(cls, params: Sequence["WalkParams"]) -> "WalkParams":
        """Batch form: every field an (N, 1) array."""
        return cls(*(np.array([getattr(p, f.name) for p in params], float)[:, None] for f in dataclasses.fields(cls)))


def walking_channels(
    phase: np.ndarray, offsets: np.ndarray, t_walk_s: np.ndarray, x_start_m: Any, slope_deg: Any, p: WalkParams
) -> dict[str, np.ndarray]:
    """Every channel of walking: angles from :func:`walking_angles`, hip height and shank length
    scaled from Winter's subject to the walker, hip moving forward at the walking speed from ``x_start_m``."""
    ch = walking_angles(phase, p.warp_b, p.warp_a, p.rom, p.stance_fraction, offsets, slope_deg)
    ch["hip_z_m"] = p.body_scale * ch.pop("hip_height")
    ch["shank_m"] = p.body_scale * ch.pop("shank_length")
    ch["hip_x_m"] = x_start_m + p.speed_mps * t_walk_s
    ch["slope_deg"] = np.broadcast_to(slope_deg, phase.shape).astype(float)
    ch["phase"] = phase
    ch["stance"] = phase < p.stance_fraction
    return ch


def _sway(t: np.ndarray, comps: np.ndarray) -> np.ndarray:
    """Sum of sinusoids; ``comps`` rows are (amplitude deg, frequency Hz, phase rad)."""
    return np.sum(comps[:, 0, None] * np.sin(2 * np.pi * comps[:, 1, None] * t + comps[:, 2, None]), axis=0)


@dataclass
class _Entry:
    """One scheduled activity."""

    segment: Segment
    t_start: float
    t_end: float  # inf while open (walking ends at the mid-stance after its nominal duration)
    x_anchor: float = 0.0  # ankle x (non-walking) or hip x at t_start (walking)
    sway: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # (amplitude deg, frequency Hz, phase rad) rows
    shift_rate_hz: float = 0.0  # weight-shift frequency
    strides: StrideTable | None = None  # of a walk (one row)


class Motion:
    """The prescribed motion of one walker through a scenario.

    Parameters
    ----------
    walker
        The walker profile.
    scenario
        Activities in order.
    rng
        Drawn from in a fixed order as the schedule is extended, so a seed fixes the run.
    """

    def __init__(self, walker: WalkerConfig, scenario: Scenario, rng: np.random.Generator) -> None:
        self.walker = walker
        self.scenario = scenario
        self.seg = Segments.of(walker.height_m)
        self.params = WalkParams.of(walker)
        self.stride_s = walker.stride_s
        self._rng = rng
        self._strides = StrideSequence(
            [self.stride_s], [walker.stride_cv], [walker.stride_ar1], [walker.joint_offset_sd_deg], [rng], _STRIDES_PER_DRAW if self.walk_only else 1,
        )
        self._batch: tuple[_WalkBatch, int] | None = None  # the batch that extends this walk-only motion's strides, and its row
        self.entries: list[_Entry] = []
        self._next_segment = 0
        self._blend: tuple[float, WalkParams, float] | None = None
        self._open(0.0, 0.0)

    def set_walker(self, walker: WalkerConfig, t_s: float) -> None:
        """Walk as ``walker`` from ``t_s`` on: strides not yet drawn get its timing, and the
        walking channels fade from the old to its parameters over :data:`BLEND_S` (the hip
        keeps its position). Body height must not change."""
        self._unbatch()
        e = self.entries[-1]
        old = self.params
        self.walker = walker
        self.params = WalkParams.of(walker)
        self.stride_s = walker.stride_s
        self._strides.retime(_ROW, walker.stride_s, walker.stride_cv, walker.stride_ar1, walker.joint_offset_sd_deg)
        self._blend = (t_s, old, e.x_anchor)
        if e.segment.activity in WALKING:  # hip x continuous at t_s with the new speed
            e.x_anchor += (old.speed_mps - self.params.speed_mps) * (t_s - e.t_start)

    # ---- schedule -------------------------------------------------------------------------
    def _open(self, t_start: float, x_anchor: float) -> None:
        segs = self.scenario.segments
        if self._next_segment >= len(segs):
            return
        seg = segs[self._next_segment]
        self._next_segment += 1
        last = self._next_segment >= len(segs)
        open_end = last or seg.activity in WALKING
        entry = _Entry(seg, t_start, math.inf if open_end else t_start + seg.duration_s, x_anchor)
        if seg.activity in WALKING:
            d, off = self._strides.next(_ROW)
            entry.strides = StrideTable(1)
            entry.strides.append(_ROW, t_start - WALK_ENTRY_PHASE * d, d, off)
        else:
            n = 6
            amp = 0.6 * math.sqrt(2.0 / n) * self._rng.uniform(0.5, 1.5, n)
            freq = self._rng.uniform(0.05, 0.6, n)
            ph = self._rng.uniform(0, 2 * math.pi, n)
            entry.sway = np.column_stack((amp, freq, ph))
            entry.shift_rate_hz = float(self._rng.uniform(0.2, 0.35))
        self.entries.append(entry)

    def ensure(self, t_s: float) -> None:
        """Extend the schedule (and the stride table) to cover time ``t_s``."""
        self._unbatch()
        while True:
            e = self.entries[-1]
            if e.segment.activity in WALKING:
                nominal_end = e.t_start + e.segment.duration_s if self._next_segment < len(self.scenario.segments) else math.inf
                e.strides.trim(t_s - _KEEP_S, _KEEP_STRIDES)
                while True:
                    s0, d = (float(x[0]) for x in e.strides.last(_ROW))
                    end_reached = s0 + WALK_ENTRY_PHASE * d >= nominal_end
                    if end_reached or s0 + d > t_s + BLEND_S + 1.0:
                        break
                    nd, off = self._strides.next(_ROW)
                    e.strides.append(_ROW, s0 + d, nd, off)
                if not end_reached:
                    return
                e.t_end = s0 + WALK_ENTRY_PHASE * d
                ankle_x = self._walk_ankle_x(e, e.t_end + BLEND_S)
                self._open(e.t_end, ankle_x)
                if self.entries[-1] is e:
                    return
            else:
                if e.t_end > t_s + BLEND_S + 1.0:
                    return
                self._open(e.t_end, self._posture_hip_x(e, e.t_end) if self._next_is_walking() else e.x_anchor)

    def _next_is_walking(self) -> bool:
        segs = self.scenario.segments
        return self._next_segment < len(segs) and segs[self._next_segment].activity in WALKING

    # ---- channels ---------------------------------------------------------------------------
    def _walk_phase(self, e: _Entry, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        starts, durs, offs = (x[0] for x in e.strides.window(-math.inf))
        i = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
        return (t - starts[i]) / durs[i], i, offs[i]

    @staticmethod
    def _slope(e: _Entry) -> float:
        return {"slope_up": 1.0, "slope_down": -1.0}.get(e.segment.activity, 0.0) * e.segment.slope_deg

    def _walk_channels(self, e: _Entry, t: np.ndarray) -> dict[str, np.ndarray]:
        phase, _, offs = self._walk_phase(e, t)
        ch = walking_channels(phase, offs, t - e.t_start, e.x_anchor, self._slope(e), self.params)
        if self._blend is not None and e is self.entries[-1]:
            t0, old, x_old = self._blend
            w = smoothstep((t - t0) / BLEND_S)
            if w[0] < 1.0:
                prev = walking_channels(phase, offs, t - e.t_start, x_old, self._slope(e), old)
                for name in CHANNELS:
                    ch[name] = prev[name] + w * (ch[name] - prev[name])
                ch["stance"] = np.where(w < 0.5, prev["stance"], ch["stance"])
        return ch

    @property
    def walk_only(self) -> bool:
        """True when the scenario is one walking activity for ever."""
        segs = self.scenario.segments
        return len(segs) == 1 and segs[0].activity in WALKING

    @property
    def blending(self) -> bool:
        """True once :meth:`set_walker` has faded the walking channels to a new walker."""
        return self._blend is not None

    @staticmethod
    def stride_tables(motions: Sequence["Motion"], t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For walk-only motions: each one's strides covering ``[t0_s, t1_s]``, the inputs of
        :func:`walking_channels` for batching many walkers, as tables (:meth:`StrideTable.window`).
        The motions' strides are extended together from then on, until one is used alone."""
        return _WalkBatch.of(motions).tables(t0_s, t1_s)

    def _unbatch(self) -> None:
        """Take this motion's stride sequence and table back from its batch (which is then retired)."""
        if self._batch is None:
            return
        batch, i = self._batch
        self._strides = batch.sequence.row(i)
        self.entries[0].strides = batch.table.row(i)
        batch.retired = True
        self._batch = None

    @property
    def slope_deg(self) -> float:
        """Slope of the first activity (deg, uphill positive)."""
        return self._slope(self.entries[0])

    def _walk_ankle_x(self, e: _Entry, t_s: float) -> float:
        ch = self._walk_channels(e, np.array([t_s]))
        return float(ankle_position(self.seg, ch)[0][0])

    def _posture_hip_x(self, e: _Entry, t_s: float) -> float:
        return float(self._posture_channels(e, np.array([t_s]))["hip_x_m"][0])

    def _posture_channels(self, e: _Entry, t: np.ndarray) -> dict[str, np.ndarray]:
        act = e.segment.activity
        tau = t - e.t_start
        sway = _sway(t, e.sway)
        zero = np.zeros_like(t)
        pitch = zero
        if act == "stand":
            shank, knee = sway, 3.0 + 0.3 * sway
            hip_extra = zero
        elif act == "weight_shift":
            w = np.sin(2 * np.pi * e.shift_rate_hz * tau)
            shank = 3.0 * w + 0.5 * sway
            knee = 6.0 + 5.0 * w
            pitch = -6.0 * np.clip(w, 0.0, None) ** 3  # heel rises while the leg unloads
            hip_extra = zero
        elif act == "sit":
            shank, knee = 6.0 + 0.3 * sway, 90.0 + 0.3 * sway
            hip_extra = zero
        else:
            s = np.clip(tau / e.segment.duration_s, 0.0, 1.0)
            if act == "stand_to_sit":
                s = 1.0 - s
            thigh = 84.0 * (1.0 - smoothstep((s - 0.25) / 0.75))
            shank = 6.0 * (1.0 - smoothstep(s)) + 14.0 * np.sin(np.pi * np.clip(s / 0.75, 0, 1)) ** 2
            knee = shank + thigh
            hip_extra = 40.0 * np.sin(np.pi * np.clip(s / 0.8, 0, 1)) ** 2  # trunk lean
        thigh = knee - shank
        ankle = shank + pitch
        seg = self.seg
        sh, th = np.radians(shank), np.radians(thigh)
        knee_x = e.x_anchor + seg.shank * np.sin(sh)
        knee_z = seg.ankle_height + seg.shank * np.cos(sh)
        return {
            "shank_deg": shank, "psi_a_deg": shank, "thigh_deg": thigh, "knee_deg": knee,
            "hip_deg": thigh + hip_extra, "ankle_ref_deg": ankle,
            "hip_x_m": knee_x - seg.thigh * np.sin(th), "hip_z_m": knee_z + seg.thigh * np.cos(th), "shank_m": np.full_like(t, seg.shank),
            "slope_deg": zero, "phase": np.full_like(t, np.nan), "stance": np.ones(t.shape, bool),
        }

    def _entry_channels(self, e: _Entry, t: np.ndarray) -> dict[str, np.ndarray]:
        if e.segment.activity in WALKING:
            return self._walk_channels(e, t)
        return self._posture_channels(e, t)

    def channels(self, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every channel of :data:`CHANNELS` plus ``phase`` (walking phase, nan otherwise),
        ``stance`` (foot on the floor) and ``activity`` (code) on the time grid ``t`` (s)."""
        self.ensure(float(t[-1]))
        out = {name: np.empty_like(t) for name in CHANNELS}
        out["phase"] = np.full_like(t, np.nan)
        out["stance"] = np.ones(t.shape, bool)
        out["activity"] = np.zeros(t.shape, np.int8)
        for k, e in enumerate(self.entries):
            mask = (t >= e.t_start) & (t < e.t_end) if k > 0 else t < e.t_end
            if not mask.any():
                continue
            tt = t[mask]
            ch = self._entry_channels(e, tt)
            if k > 0:
                w = smoothstep((tt - e.t_start) / BLEND_S)
                if w[0] < 1.0:
                    before = self.entries[k - 1]
                    # a walk that stops comes to rest in early stance (foot flat; this leg does
                    # not step again): its motion slows down exponentially (STOP_TAU_S) while
                    # it fades into the posture that follows
                    stops = before.segment.activity in WALKING and e.segment.activity not in WALKING
                    t_prev = before.t_end + STOP_TAU_S * -np.expm1(-(tt - before.t_end) / STOP_TAU_S) if stops else tt
                    prev = self._entry_channels(before, t_prev)
                    for name in CHANNELS:
                        ch[name] = prev[name] + w * (ch[name] - prev[name])
                    prev_walk = self.entries[k - 1].segment.activity in WALKING
                    if prev_walk and e.segment.activity not in WALKING:
                        ch["stance"] = np.ones(tt.shape, bool)
            for name in CHANNELS:
                out[name][mask] = ch[name]
            out["phase"][mask] = ch["phase"]
            out["stance"][mask] = ch["stance"]
            out["activity"][mask] = ACTIVITY_CODES[e.segment.activity]
        return out


class _WalkBatch:
    """The strides of walk-only motions extended together, one row each (:meth:`Motion.stride_tables`):
    their stride sequences and tables move here, and back to a motion that is used alone."""

    def __init__(self, motions: Sequence[Motion]) -> None:
        for m in motions:
            m._unbatch()
        self.motions = motions
        self.sequence = StrideSequence.stack([m._strides for m in motions])
        self.table = StrideTable.stack([m.entries[0].strides for m in motions])
        self.rows = np.arange(len(motions))
        self.retired = False
        for i, m in enumerate(motions):
            m._batch = (self, i)

    @classmethod
    def of(cls, motions: Sequence[Motion]) -> "_WalkBatch":
        """The batch of ``motions`` (the same sequence object as before), a new one if there is none."""
        batch = motions[0]._batch
        if batch is None or batch[0].retired or batch[0].motions is not motions:
            return cls(motions)
        return batch[0]

    def tables(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :meth:`Motion.ensure` (``t1_s``) of each walk does, then the strides covering ``[t0_s, t1_s]``."""
        table = self.table
        table.trim(t1_s - _KEEP_S, _KEEP_STRIDES)
        while True:
            start, duration = table.last(self.rows)
            rows = np.flatnonzero(start + duration <= t1_s + BLEND_S + 1.0)
            if rows.size == 0:
                return table.window(t0_s)
            d, off = self.sequence.next(rows)
            table.append(rows, start[rows] + duration[rows], d, off)


def ankle_position(seg: Segments, ch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Knee and ankle positions (x forward, z up; m) from the hip along the leg chain, in a frame
    that moves with the hip along the walking surface: returns ``ankle_x, ankle_z, knee_x, knee_z``."""
    th = np.radians(ch["thigh_deg"])
    sh = np.radians(ch["shank_deg"])
    return leg_chain(ch["hip_x_m"], ch["hip_z_m"], seg.thigh, ch["shank_m"], np.sin(th), np.cos(th), np.sin(sh), np.cos(sh))


@register_jitable
def leg_chain(hip_x_m, hip_z_m, thigh_m, shank_m, sin_thigh, cos_thigh, sin_shank, cos_shank):
    """:func:`ankle_position` from the sines and cosines of thigh and shank (floats or arrays)."""
    knee_x = hip_x_m + thigh_m * sin_thigh
    knee_z = hip_z_m - thigh_m * cos_thigh
    return knee_x - shank_m * sin_shank, knee_z - shank_m * cos_shank, knee_x, knee_z


def ankle_above_surface(seg: Segments, ch: dict[str, np.ndarray]) -> np.ndarray:
    """Height (m) of the ankle above the walking surface, along its normal: the hip's height
    above it minus the chain projected on the normal (the world height on level ground)."""
    return ch["hip_z_m"] - _normal_extent_m(seg.thigh, ch["shank_m"], ch["thigh_deg"], ch["shank_deg"], ch["slope_deg"])
