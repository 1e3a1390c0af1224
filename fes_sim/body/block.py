"""Per-block precomputation for the plant: everything that does not depend on stimulation.

A block is one second of prescribed leg motion at the plant rate (hip, thigh, shank,
ankle reference, ankle acceleration, the voluntary feed-forward torque, swing zones and
nominal gait events) plus the shank sensor's output at the sensor rate. Building it
with numpy keeps the per-step work of :class:`fes_sim.plant.WalkingPlant` to muscle and
foot integration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from fes_sim.body.clearance import MIDSWING_START, TERMINAL_SWING_START, calibration_offset_m
from fes_sim.body.foot import FootBody, gravity_torque_nm
from fes_sim.body.passive import passive_moment_nm
from fes_sim.gait import kinematics
from fes_sim.gait.motion import Motion, Segments, ankle_position
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.samples import GaitEvent
from fes_sim.sensors.faults import apply_faults
from fes_sim.sensors.imu import ImuModel, SensorConfig
from fes_sim.sensors.tilt import TiltFilter

_MARGIN = 2
_IMPACT_MEMORY_S = 0.3
_HEEL_OFF_PITCH_DEG = 2.0
LOADING_TAU_S = 0.03


class Zone(IntEnum):
    """Where the foot is: on the floor, or in which part of swing."""

    STANCE = 0
    EARLY_SWING = 1  # toe lifting off: below-floor toe is not a drag
    MID_SWING = 2  # MTC and toe drag are measured here
    TERMINAL_SWING = 3  # a floor contact here is the initial contact


@dataclass
class Block:
    """One block of precomputed plant inputs; per-substep values are Python lists."""

    WALK_END = 9

    start: int
    end: int
    psi_a: list
    psi_a_dot: list
    alpha_ref: list
    alpha_ref_dot: list
    theta_ref: list
    theta_ref_dot: list
    tau_ff: list
    knee: list
    hip: list
    thigh: list
    tilt: list
    acc_x: list
    acc_z: list
    ankle_x: list
    ankle_z: list
    hip_x: list
    hip_z: list
    knee_x: list
    knee_z: list
    slope: list
    zone: list
    event: list
    pushoff: list
    activity: list
    sensor: dict
    foot: FootBody
    seg: Segments
    lr_decay: float


def _phase_events(phase: np.ndarray, stance_fraction: float, heel_off: float) -> np.ndarray:
    """Event code at each sample (index ≥ 1) from the walking phase (nan = not walking)."""
    prev, cur = phase[:-1], phase[1:]
    ev = np.zeros(len(phase), np.int8)
    valid = ~np.isnan(prev) & ~np.isnan(cur)
    ev[1:][valid & (cur < prev)] = GaitEvent.HEEL_STRIKE
    ev[1:][valid & (prev < heel_off) & (cur >= heel_off)] = GaitEvent.HEEL_OFF
    ev[1:][valid & (prev < stance_fraction) & (cur >= stance_fraction)] = GaitEvent.TOE_OFF
    ev[1:][~np.isnan(prev) & np.isnan(cur)] = Block.WALK_END
    return ev


class BlockBuilder:
    """Builds consecutive blocks for one walker (blocks must be requested in order)."""

    def __init__(self, walker: WalkerConfig, scenario: Scenario, sensor: SensorConfig, sample_rate_hz: float, sub: int, seed: int) -> None:
        motion_ss, sensor_ss = np.random.SeedSequence(seed).spawn(2)
        self.walker = walker
        self.sensor_config = sensor
        self.motion = Motion(walker, scenario, np.random.default_rng(motion_ss))
        self.seg = self.motion.seg
        self.fs = sample_rate_hz
        self.sub = sub
        self.dt = 1.0 / (sample_rate_hz * sub)
        self.block_samples = int(round(sample_rate_hz))
        self.block_substeps = self.block_samples * sub
        self.foot = FootBody.of(walker.height_m, walker.mass_kg, walker.shoe_mass_kg, walker.foot_inertia_kgm2)
        self.offset_m = calibration_offset_m(walker)
        b = kinematics.warp_coefficient(walker.stance_fraction)
        self.heel_off_phase = kinematics.unwarp_phase(kinematics.heel_off_phase(_HEEL_OFF_PITCH_DEG), float(b))
        self.imu = ImuModel(sensor, sample_rate_hz, walker.sensor_misalignment_deg, np.random.default_rng(sensor_ss))
        self.tilt_filter = TiltFilter(sensor.tilt_tau_s, sensor.tilt_gate_g, sample_rate_hz)
        self._heel_strikes: list[float] = []
        self._held: dict[str, float] = {}
        self._next = 0

    def build(self, b: int) -> Block:
        """Block ``b``: substeps ``[b·M, (b+1)·M)`` and sensor samples ``[b·n, (b+1)·n)``."""
        if b != self._next:
            raise ValueError(f"blocks must be built in order: expected {self._next}, got {b}")
        self._next = b + 1
        w, seg, dt, M = self.walker, self.seg, self.dt, self.block_substeps
        start = b * M
        idx = np.arange(start - _MARGIN, start + M + _MARGIN)
        t = idx * dt
        ch = self.motion.channels(t)
        ankle_x, ankle_z, knee_x, knee_z = ankle_position(seg, ch)
        acc_x = np.gradient(np.gradient(ankle_x, dt), dt)
        acc_z = np.gradient(np.gradient(ankle_z, dt), dt)
        psi_a = np.radians(ch["psi_a_deg"])
        theta_ref = np.radians(ch["ankle_ref_deg"])
        alpha_ref = theta_ref - psi_a
        alpha_dot = np.gradient(alpha_ref, dt)
        alpha_ddot = np.gradient(alpha_dot, dt)
        theta_dot = np.gradient(theta_ref, dt)
        fb = self.foot
        tau_g = gravity_torque_nm(np.cos(alpha_ref), np.sin(alpha_ref), acc_x, acc_z, fb)
        tau_pass = passive_moment_nm(ch["ankle_ref_deg"], ch["knee_deg"], w.passive_stiffness_scale, w.contracture_deg, exp=np.exp)
        tau_ff = fb.inertia_kgm2 * alpha_ddot - tau_pass + w.damping_nms_per_rad * theta_dot - tau_g
        phase = ch["phase"]
        fs_ = w.stance_fraction
        sw = (phase - fs_) / (1.0 - fs_)
        zone = np.full(len(t), int(Zone.STANCE), np.int8)
        swing = ~ch["stance"] & ~np.isnan(phase)
        zone[swing] = Zone.EARLY_SWING
        zone[swing & (sw >= MIDSWING_START)] = Zone.MID_SWING
        zone[swing & (sw >= TERMINAL_SWING_START)] = Zone.TERMINAL_SWING
        events = _phase_events(phase, fs_, self.heel_off_phase)
        pushoff = (phase >= self.heel_off_phase) & (phase < fs_)
        tilt = ch["shank_deg"]
        core = slice(_MARGIN, _MARGIN + M)
        # sensor at sample instants (every sub-th substep of the core)
        sens = slice(_MARGIN, _MARGIN + M, self.sub)
        d = seg.shank - w.sensor_below_knee_m
        sh = np.radians(ch["shank_level_deg"])
        px, pz = ankle_x + d * np.sin(sh), ankle_z + d * np.cos(sh)
        ax = np.gradient(np.gradient(px, dt), dt)
        az = np.gradient(np.gradient(pz, dt), dt)
        gyro = np.gradient(tilt, dt)
        t_s = t[sens]
        hs_now = t[1:][events[1:] == GaitEvent.HEEL_STRIKE]
        hs_now = hs_now[(hs_now >= t[_MARGIN]) & (hs_now < t[_MARGIN + M])]
        self._heel_strikes = [h for h in self._heel_strikes if h > t_s[0] - _IMPACT_MEMORY_S] + hs_now.tolist()
        out = self.imu.measure(t_s, ax[sens], az[sens], tilt[sens], gyro[sens], self._heel_strikes)
        sc = self.sensor_config
        out["tilt_deg"] = (
            self.tilt_filter.run(out["acc_x_mps2"], out["acc_y_mps2"], out["gyr_z_dps"]) if sc.tilt_output else np.full(len(t_s), np.nan)
        )
        if sc.footswitch:
            loaded = ch["stance"] & ~pushoff & (np.degrees(alpha_ref - np.radians(ch["slope_deg"])) > -_HEEL_OFF_PITCH_DEG)
            out["footswitch"] = loaded[sens].astype(float)
        else:
            out["footswitch"] = np.full(len(t_s), np.nan)
        if not sc.imu:
            for name in ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps"):
                out[name] = np.full(len(t_s), np.nan)
        apply_faults(sc, t_s, out, self._held)
        L = lambda x: x[core].tolist()  # noqa: E731
        return Block(
            start=start, end=start + M, psi_a=L(psi_a), psi_a_dot=L(np.gradient(psi_a, dt)), alpha_ref=L(alpha_ref),
            alpha_ref_dot=L(alpha_dot), theta_ref=L(theta_ref), theta_ref_dot=L(theta_dot), tau_ff=L(tau_ff),
            knee=L(ch["knee_deg"]), hip=L(ch["hip_deg"]), thigh=L(ch["thigh_deg"]), tilt=L(tilt), acc_x=L(acc_x), acc_z=L(acc_z),
            ankle_x=L(ankle_x), ankle_z=L(ankle_z + self.offset_m), hip_x=L(ch["hip_x_m"]), hip_z=L(ch["hip_z_m"]),
            knee_x=L(knee_x), knee_z=L(knee_z), slope=L(np.radians(ch["slope_deg"])), zone=L(zone), event=L(events),
            pushoff=L(pushoff), activity=L(ch["activity"]), sensor={k: v.tolist() for k, v in out.items()},
            foot=fb, seg=seg, lr_decay=math.exp(-dt / LOADING_TAU_S),
        )
