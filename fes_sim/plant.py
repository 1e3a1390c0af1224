"""The walking plant: one walker stepped one sensor sample at a time.

``WalkingPlant`` joins the prescribed leg motion (:mod:`fes_sim.gait`), the swing-foot
dynamics and the stimulated tibialis anterior (:mod:`fes_sim.body`) and the shank sensor
(:mod:`fes_sim.sensors`)::

    plant = WalkingPlant(get_preset("walker", "drop_foot_severe"))
    sample = plant.reset(seed=1)
    for _ in range(2000):
        sample = plant.step(current_ma, pulse_width_us, frequency_hz)
    plant.strides[-1].mtc_mm

Speed: the motion of hip, thigh and shank and every sensor signal do not depend on the
stimulation, so they are computed one block (1 s) at a time with numpy
(:mod:`fes_sim.body.block`); each step then runs only the muscle and swing-foot
integration as scalar Python over the plant substeps.

Stance: the foot follows the prescribed path; in push-off (heel-off to toe-off) an
orthosis moves the ankle by τ_orth/K_push-off. Swing starts at toe-off from the
prescribed foot state. Initial contact is the first floor contact of toe or heel in
terminal swing (or the nominal heel strike); after an early contact the foot rolls on
its contact point until the nominal heel strike, then returns to the prescribed path
with a 30 ms time constant (loading response).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from fes_sim.body.block import Block, BlockBuilder, Zone
from fes_sim.body import muscle as mu
from fes_sim.body.passive import passive_moment_nm
from fes_sim.errors import ConfigError
from fes_sim.gait.motion import ACTIVITY_LABELS
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.samples import GRAVITY_MPS2, GaitEvent, ShankSample
from fes_sim.sensors.imu import SensorConfig

Orthosis = Callable[[float, float], float]

_LOADING_TAU_S = 0.03


@dataclass(frozen=True, slots=True)
class StrideOutcome:
    """One completed stride of the simulated leg, from its initial contact to the next.

    Swing figures (MTC, drag) belong to this stride's swing; ``foot_slap`` and
    ``foot_pitch_ic_deg`` to the initial contact that ends it (``t_end_s``).
    ``push_off_pf_deg`` is the peak plantarflexion between heel-off and toe-off, as a
    positive number of degrees (ankle −20° gives 20).
    """

    t_heel_strike_s: float
    t_heel_off_s: float
    t_toe_off_s: float
    t_end_s: float
    mtc_mm: float
    toe_drag: bool
    drag_depth_mm: float
    drag_duration_s: float
    foot_slap: bool
    foot_pitch_ic_deg: float
    push_off_pf_deg: float


class PlantState:
    """Ground truth at the last returned sample (updated in place)."""

    __slots__ = (
        "t_s", "true_tilt_deg", "ankle_deg", "foot_pitch_deg", "toe_height_mm", "torque_nm", "fatigue", "activity",
        "knee_deg", "hip_deg", "thigh_deg", "in_swing", "activation",
        "hip_x_m", "hip_z_m", "knee_x_m", "knee_z_m", "ankle_x_m", "ankle_z_m", "toe_x_m", "toe_z_m",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0.0)
        self.activity = "walk"
        self.in_swing = False
        self.fatigue = 1.0

    def as_dict(self) -> dict[str, Any]:
        """A copy of every field."""
        return {name: getattr(self, name) for name in self.__slots__}


class WalkingPlant:
    """One walker with a stimulated tibialis anterior and a shank sensor.

    Parameters
    ----------
    walker
        The walker profile.
    scenario
        Activities in order; ``None`` walks on level ground for ever.
    sensor
        IMU and tilt-sensor configuration; ``None`` uses the defaults.
    sample_rate_hz
        Sensor rate, 100-1000 Hz.
    plant_rate_hz
        Integration rate of muscle and foot; an integer multiple of ``sample_rate_hz``.
    orthosis
        Optional callable ``(ankle_deg, ankle_vel_dps) -> torque_nm`` (dorsiflexing
        positive), acting in swing and in push-off.
    """

    def __init__(
        self, walker: WalkerConfig, *, scenario: Scenario | None = None, sensor: SensorConfig | None = None,
        sample_rate_hz: float = 200.0, plant_rate_hz: float = 1000.0, orthosis: Orthosis | None = None,
    ) -> None:
        if not 100.0 <= sample_rate_hz <= 1000.0:
            raise ConfigError(f"sample_rate_hz: {sample_rate_hz!r} is out of range (100 <= value <= 1000 Hz)")
        ratio = plant_rate_hz / sample_rate_hz
        if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
            raise ConfigError(f"plant_rate_hz: {plant_rate_hz!r} must be an integer multiple of sample_rate_hz {sample_rate_hz!r}")
        self.walker = walker
        self.scenario = scenario if scenario is not None else Scenario()
        self.sensor = sensor if sensor is not None else SensorConfig()
        self.sample_rate_hz = float(sample_rate_hz)
        self.plant_rate_hz = float(plant_rate_hz)
        self.orthosis = orthosis
        self.sub = int(round(ratio))
        self.dt = 1.0 / plant_rate_hz
        self.state = PlantState()
        self.events: list[tuple[float, GaitEvent]] = []
        self.strides: list[StrideOutcome] = []
        self.t_s = 0.0
        w = walker
        self._tau_act, self._tau_deact = w.tau_act_ms * 1e-3, w.tau_deact_ms * 1e-3
        self._t_max = w.max_evoked_torque_nm * w.surviving_axon_fraction
        self._vol = 1.0 - w.drop_foot_severity
        self._emd_n = int(round(w.emd_ms * 1e-3 * plant_rate_hz))
        self._spas_n = max(1, int(round(w.spasticity_delay_ms * 1e-3 * plant_rate_hz)))
        self._slap_nm = w.slap_torque_nm_per_kg * w.mass_kg
        self._ding: Any = None
        self._builder: BlockBuilder | None = None

    # ------------------------------------------------------------------ public API
    def reset(self, seed: int) -> ShankSample:
        """Start a new run; the same seed gives the identical run. Returns the sample at t = 0."""
        self._builder = BlockBuilder(self.walker, self.scenario, self.sensor, self.sample_rate_hz, self.sub, seed)
        self.events = []
        self.strides = []
        self._blocks: dict[int, Block] = {}
        self._k = 0  # index of the last returned sample
        self._a = 0.0
        self._mu = 1.0
        self._u = 0.0
        self._cmd: tuple[float, float, float] | None = None
        self._emd_buf = [0.0] * self._emd_n
        self._emd_i = 0
        self._spas_buf = [0.0] * self._spas_n
        self._spas_i = 0
        if self.walker.force_model == "ding2003":
            from fes_sim.body.ding import Ding2003State

            self._ding = Ding2003State(self.walker.fatigue_time_s)
        blk = self._block(0)
        self._alpha = blk.alpha_ref[0]
        self._alpha_dot = blk.alpha_ref_dot[0]
        self._lr_delta = 0.0
        self._swing = False
        self._contact_lock: str | None = None
        self._tau = 0.0
        self._stride: dict[str, Any] | None = None
        self._ankle_min_po = math.inf
        self.sample = ShankSample(0.0)
        self._emit(0)
        return self.sample

    def step(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> ShankSample:
        """Hold the stimulation output over the next sensor period; return the next sample.

        ``current_ma = 0`` means no stimulation.
        """
        cmd = (current_ma, pulse_width_us, frequency_hz)
        if cmd != self._cmd:
            self._cmd = cmd
            self._u = self._drive(current_ma, pulse_width_us, frequency_hz)
        k = self._k
        j0 = k * self.sub
        blk = self._block_of(j0)
        for j in range(j0, j0 + self.sub):
            if j >= blk.end:
                blk = self._block_of(j)
            self._substep(blk, j - blk.start, j)
        if self._ding is None:
            self._mu = mu.riener_fatigue_step(
                self._mu, self._a, self.sub * self.dt, self.walker.fatigue_mu_min, self.walker.fatigue_time_s, self.walker.recovery_time_s
            )
        self._k = k + 1
        self._emit(self._k)
        return self.sample

    # ------------------------------------------------------------------ internals
    def _drive(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> float:
        w = self.walker
        if current_ma <= 0.0 or pulse_width_us <= 0.0 or frequency_hz <= 0.0:
            if self._ding is not None:
                self._ding.set_train(0.0, 0.0)
            return 0.0
        r = mu.recruitment(w.recruitment, current_ma, pulse_width_us, w.charge_half_uc, w.charge_width_uc)
        if self._ding is not None:
            self._ding.set_train(frequency_hz, r)
            return r
        return min(1.0, max(0.0, r * mu.fusion_factor(frequency_hz, w.fusion_constant_s)))

    def _block(self, b: int) -> Block:
        blk = self._blocks.get(b)
        if blk is None:
            assert self._builder is not None
            self._blocks = {i: x for i, x in self._blocks.items() if i >= b - 1}
            blk = self._builder.build(b)
            self._blocks[b] = blk
        return blk

    def _block_of(self, j: int) -> Block:
        assert self._builder is not None
        return self._block(j // self._builder.block_substeps)

    def _evoked(self, theta_deg: float) -> float:
        w = self.walker
        if self._ding is not None:
            level = self._ding.force_fraction
        else:
            level = self._a * self._mu
        if level <= 0.0:
            return 0.0
        return self._t_max * level * mu.torque_angle_factor(theta_deg, w.torque_angle_opt_deg, w.torque_angle_width_deg)

    def _substep(self, blk: Block, i: int, j: int) -> None:
        """Advance muscle and foot from substep ``j`` to ``j + 1`` (block-local index ``i``)."""
        dt = self.dt
        w = self.walker
        # electromechanical delay, then activation (or the Ding force model)
        if self._emd_n:
            u = self._emd_buf[self._emd_i]
            self._emd_buf[self._emd_i] = self._u
            self._emd_i = (self._emd_i + 1) % self._emd_n
        else:
            u = self._u
        if self._ding is not None:
            self._ding.step(dt, u > 0.0)
        elif u > 0.0 or self._a > 1e-9:
            self._a = mu.activation_step(self._a, u, dt, self._tau_act, self._tau_deact)
        else:
            self._a = 0.0
        t = j * dt
        ev = blk.event[i]
        if ev:
            self._on_event(ev, t, blk, i)
        zone = blk.zone[i]
        psi_a = blk.psi_a[i]
        if zone == Zone.STANCE or self._contact_lock is not None:
            self._stance_substep(blk, i, zone)
            theta = self._alpha + psi_a
            self._tau = self._evoked(math.degrees(theta))
            if zone != Zone.STANCE and zone != Zone.EARLY_SWING:
                self._roll_on_contact(blk, i)
            return
        if not self._swing:
            self._swing = True
        alpha, alpha_dot = self._alpha, self._alpha_dot
        theta = alpha + psi_a
        theta_dot = alpha_dot + blk.psi_a_dot[i]
        theta_deg = theta * 57.29577951308232
        tau_ev = self._evoked(theta_deg)
        self._tau = tau_ev
        # voluntary tracking: feed-forward and PD, dorsiflexing part lost with severity
        ff = blk.tau_ff[i]
        pd = w.voluntary_kp_nm_per_rad * (blk.theta_ref[i] - theta) + w.voluntary_kd_nms_per_rad * (blk.theta_ref_dot[i] - theta_dot)
        tau_vol = self._vol * (max(ff, 0.0) + pd) + min(ff, 0.0)
        knee = blk.knee[i]
        tau = tau_ev + tau_vol + passive_moment_nm(theta_deg, knee, w.passive_stiffness_scale, w.contracture_deg)
        tau -= w.damping_nms_per_rad * theta_dot
        if w.spasticity_gain_nms_per_deg > 0.0:
            v_dps = theta_dot * 57.29577951308232
            delayed = self._spas_buf[self._spas_i]
            self._spas_buf[self._spas_i] = v_dps
            self._spas_i = (self._spas_i + 1) % self._spas_n
            tau -= w.spasticity_gain_nms_per_deg * max(0.0, delayed - w.spasticity_threshold_dps)
        if self.orthosis is not None:
            tau += self.orthosis(theta_deg, theta_dot * 57.29577951308232)
        ca, sa = math.cos(alpha), math.sin(alpha)
        fb = blk.foot
        x_c = fb.com_forward_m * ca + fb.com_below_m * sa
        z_c = fb.com_forward_m * sa - fb.com_below_m * ca
        tau += fb.mass_kg * (blk.acc_x[i] * z_c - (GRAVITY_MPS2 + blk.acc_z[i]) * x_c)
        alpha_dot += tau / fb.inertia_kgm2 * dt
        alpha += alpha_dot * dt
        self._alpha, self._alpha_dot = alpha, alpha_dot
        if zone == Zone.EARLY_SWING:
            return
        rel = alpha - blk.slope[i]
        seg = blk.seg
        toe_z = blk.ankle_z[i] + seg.toe_forward * math.sin(rel) - seg.toe_below * math.cos(rel)
        st = self._stride
        if zone == Zone.MID_SWING:
            if st is not None:
                if toe_z < st["min_toe"]:
                    st["min_toe"] = toe_z
                if toe_z < 0.0:
                    st["drag_s"] += dt
            return
        heel_z = blk.ankle_z[i] - seg.heel_back * math.sin(rel) - seg.heel_below * math.cos(rel)
        if toe_z <= 0.0 or heel_z <= 0.0:
            self._initial_contact(t + dt, "heel" if heel_z <= toe_z else "toe", blk, i)

    def _stance_substep(self, blk: Block, i: int, zone: int) -> None:
        if self._contact_lock is not None:
            return
        self._lr_delta *= blk.lr_decay
        alpha = blk.alpha_ref[i] + self._lr_delta
        if self.orthosis is not None and blk.pushoff[i]:
            alpha = self._pushoff_with_orthosis(blk, i)
        self._alpha_dot = blk.alpha_ref_dot[i]
        self._alpha = alpha
        if blk.pushoff[i]:
            theta_deg = math.degrees(alpha + blk.psi_a[i])
            if theta_deg < self._ankle_min_po:
                self._ankle_min_po = theta_deg

    def _pushoff_with_orthosis(self, blk: Block, i: int) -> float:
        """Ankle in push-off with an orthosis: K·(θ − θ_ref) = τ_orth(θ), by Newton iterations.

        The slope of τ_orth comes from a 0.01° finite difference. Newton converges for an
        orthosis stiffer than K, where plain fixed-point iteration diverges; a piecewise
        linear orthosis is solved exactly in one or two steps.
        """
        assert self.orthosis is not None
        k = self.walker.pushoff_stiffness_nm_per_deg
        ref = math.degrees(blk.theta_ref[i])
        vel = math.degrees(blk.theta_ref_dot[i])
        theta = ref
        for _ in range(6):
            tau = self.orthosis(theta, vel)
            slope = max(k, k - (self.orthosis(theta + 0.01, vel) - tau) / 0.01)
            step = (k * (theta - ref) - tau) / slope
            theta -= step
            if abs(step) < 1e-6:
                break
        return math.radians(theta) - blk.psi_a[i]

    def _roll_on_contact(self, blk: Block, i: int) -> None:
        """After an early contact in terminal swing the foot rolls on its contact point."""
        seg = blk.seg
        z = blk.ankle_z[i]
        if self._contact_lock == "toe":
            r, phi = math.hypot(seg.toe_forward, seg.toe_below), math.atan2(seg.toe_below, seg.toe_forward)
            rel = phi + math.asin(max(-1.0, min(1.0, -z / r)))
        else:
            r, phi = math.hypot(seg.heel_back, seg.heel_below), math.atan2(seg.heel_below, seg.heel_back)
            rel = -(phi + math.asin(max(-1.0, min(1.0, -z / r))))
        new = rel + blk.slope[i]
        self._alpha_dot = (new - self._alpha) / self.dt
        self._alpha = new

    def _initial_contact(self, t: float, point: str, blk: Block, i: int) -> None:
        alpha_deg = math.degrees(self._alpha - blk.slope[i])
        capacity = self._vol * self.walker.voluntary_df_torque_nm + self._tau
        slap = point == "heel" and capacity < self._slap_nm
        self._swing = False
        self._contact_lock = point
        self.events.append((t, GaitEvent.HEEL_STRIKE))
        st = self._stride
        if st is not None and "t_to" in st:
            min_toe = st["min_toe"]
            self.strides.append(
                StrideOutcome(
                    st["t_hs"], st.get("t_ho", math.nan), st["t_to"], t, min_toe * 1e3, min_toe < 0.0,
                    max(0.0, -min_toe * 1e3), st["drag_s"], slap, alpha_deg,
                    -st.get("po_min", math.nan),
                )
            )
        self._stride = {"t_hs": t, "min_toe": math.inf, "drag_s": 0.0}

    def _on_event(self, ev: int, t: float, blk: Block, i: int) -> None:
        if ev == GaitEvent.HEEL_STRIKE:
            if self._contact_lock is None:
                if self._swing:
                    rel = self._alpha - blk.slope[i]
                    seg = blk.seg
                    toe_z = blk.ankle_z[i] + seg.toe_forward * math.sin(rel) - seg.toe_below * math.cos(rel)
                    heel_z = blk.ankle_z[i] - seg.heel_back * math.sin(rel) - seg.heel_below * math.cos(rel)
                    self._initial_contact(t, "heel" if heel_z <= toe_z else "toe", blk, i)
                else:
                    return
            self._contact_lock = None
            self._lr_delta = self._alpha - blk.alpha_ref[i]
        elif ev == GaitEvent.HEEL_OFF:
            self.events.append((t, GaitEvent.HEEL_OFF))
            self._ankle_min_po = math.inf
            if self._stride is not None:
                self._stride["t_ho"] = t
        elif ev == GaitEvent.TOE_OFF:
            self.events.append((t, GaitEvent.TOE_OFF))
            self._lr_delta = 0.0
            if self._stride is not None:
                self._stride["t_to"] = t
                self._stride["po_min"] = self._ankle_min_po
        elif ev == Block.WALK_END:
            self._stride = None
            self._swing = False
            self._contact_lock = None

    def _emit(self, k: int) -> None:
        """Fill ``sample`` and ``state`` for sensor sample ``k``."""
        assert self._builder is not None
        j = k * self.sub
        blk = self._block_of(j)
        i = j - blk.start
        ks = k - blk.start // self.sub
        out = blk.sensor
        s = self.sample
        t = k / self.sample_rate_hz
        self.t_s = t
        s.t_s = t
        s.acc_x_mps2 = out["acc_x_mps2"][ks]
        s.acc_y_mps2 = out["acc_y_mps2"][ks]
        s.acc_z_mps2 = out["acc_z_mps2"][ks]
        s.gyr_x_dps = out["gyr_x_dps"][ks]
        s.gyr_y_dps = out["gyr_y_dps"][ks]
        s.gyr_z_dps = out["gyr_z_dps"][ks]
        s.tilt_deg = out["tilt_deg"][ks]
        s.footswitch = out["footswitch"][ks]
        st = self.state
        alpha = self._alpha
        rel = alpha - blk.slope[i]
        seg = blk.seg
        ankle_z = blk.ankle_z[i]
        toe_z = ankle_z + seg.toe_forward * math.sin(rel) - seg.toe_below * math.cos(rel)
        in_swing = self._swing and self._contact_lock is None
        st.t_s = t
        st.true_tilt_deg = blk.tilt[i]
        st.ankle_deg = math.degrees(alpha + blk.psi_a[i])
        st.foot_pitch_deg = math.degrees(rel)
        st.toe_height_mm = toe_z * 1e3 if in_swing else max(0.0, toe_z * 1e3)
        st.torque_nm = self._tau
        st.fatigue = self._ding.fatigue if self._ding is not None else self._mu
        st.activation = self._ding.force_fraction if self._ding is not None else self._a
        st.activity = ACTIVITY_LABELS[blk.activity[i]]
        st.knee_deg = blk.knee[i]
        st.hip_deg = blk.hip[i]
        st.thigh_deg = blk.thigh[i]
        st.in_swing = in_swing
        st.hip_x_m, st.hip_z_m = blk.hip_x[i], blk.hip_z[i]
        st.knee_x_m, st.knee_z_m = blk.knee_x[i], blk.knee_z[i]
        st.ankle_x_m, st.ankle_z_m = blk.ankle_x[i], ankle_z
        st.toe_x_m = blk.ankle_x[i] + seg.toe_forward * math.cos(rel) + seg.toe_below * math.sin(rel)
        st.toe_z_m = toe_z
