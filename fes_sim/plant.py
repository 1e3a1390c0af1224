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
(:mod:`fes_sim.body.block`); each step runs only the muscle and foot integration over
the plant substeps. A walker with the Riener force model and no orthosis runs them in the
compiled step of :mod:`fes_sim.population_kernel`, as a population of one
(:mod:`fes_sim.lanes`); the Ding force model and an orthosis (a Python callable) run the
same equations as the scalar Python below, which is also the readable reference
(``plant.compiled = False`` runs it for any walker; the tests check the two agree).

Foot model: in stance the foot follows the prescribed path; from foot-flat to toe-off
the ankle settles where the walker's stance stiffness K balances an orthosis and the
evoked torque, K·(θ − θ_ref) = τ_orth(θ) + τ_ev, and the foot may pitch heel-up but not toe-up off the
floor (a brace that resists dorsiflexion lifts the heel early in mid-stance, one that
resists plantarflexion holds the heel down in push-off). Swing starts at toe-off from
the prescribed foot state, integrated at the plant rate with a linearly implicit step
(:mod:`fes_sim.body.foot`: stable for any allowed stiffness, damping and foot inertia);
a spastic walker's reflex (:mod:`fes_sim.body.spasticity`) is fed the ankle velocity at
every plant step and acts in swing and loading response.
Initial contact is the first floor contact of toe or heel in terminal swing (or the
nominal heel strike). After a heel-first contact the foot rotates down about the heel
under the body load, against passive, voluntary and evoked dorsiflexion, until
forefoot contact (loading response, :mod:`fes_sim.body.loading`); its angular velocity
then decides foot slap. After a toe-first contact the foot rolls on the toe until the
nominal heel strike and the heel comes down. After foot-flat the foot stays flat until
the prescribed path is flat, then returns to it with a 30 ms time constant.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from fes_sim import population_kernel as kn
from fes_sim.body import muscle as mu
from fes_sim.body.block import (
    EARLY_SWING, LOADING_TAU_S, MID_SWING, RECORD_FIELDS, RECORD_OFFSET, SENSOR_CHANNELS, STANCE, WALK_END, Block, BlockBuilder,
)
from fes_sim.body.foot import FootBody, SwingFoot, swing_foot_step
from fes_sim.body.loading import FOOT_FLAT_RAD, HeelRocker, heel_rocker_step
from fes_sim.body.spasticity import reflex_decays, reflex_line_length, reflex_torque_update
from fes_sim.body.stance import contact_angle, stance_pitch_with_drive
from fes_sim.body.strides import LegEvents, StrideOutcome, stride_outcome
from fes_sim.errors import ConfigError
from fes_sim.gait.motion import ACTIVITY_LABELS, Segments
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.lanes import Lanes
from fes_sim.samples import GaitEvent, ShankSample
from fes_sim.sensors.imu import SensorConfig

__all__ = ["WalkingPlant", "StrideOutcome", "PlantState", "Orthosis"]

Orthosis = Callable[[float, float], float]
_DEG = 180.0 / math.pi
#: the plant's rate unless one is given (Hz)
DEFAULT_PLANT_RATE_HZ = 1000.0


def check_rates(sample_rate_hz: float, plant_rate_hz: float) -> int:
    """Substeps per sensor sample; ConfigError for rates the plant cannot run."""
    if not 100.0 <= sample_rate_hz <= 1000.0:
        raise ConfigError(f"sample_rate_hz: {sample_rate_hz!r} is out of range (100 <= value <= 1000 Hz)")
    ratio = plant_rate_hz / sample_rate_hz
    if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
        raise ConfigError(f"plant_rate_hz: {plant_rate_hz!r} must be an integer multiple of sample_rate_hz {sample_rate_hz!r}")
    return int(round(ratio))


#: the integer fields of a block's record (stored as floats there)
_RECORD_MARKS = frozenset(("zone", "event", "pushoff"))


class _BlockRow:
    """A lone walker's block as Python lists (fast scalar reads), each field converted on first use;
    ``arrays`` is the block itself, for the compiled step."""

    def __init__(self, blk: Block) -> None:
        self.arrays = blk
        self.start = blk.start
        self.end = blk.end
        #: the sensor channels of each sample, in :data:`~fes_sim.body.block.SENSOR_CHANNELS` order
        self.samples = list(zip(*(blk.sensor[name][0].tolist() for name in SENSOR_CHANNELS)))

    def __getattr__(self, name: str) -> list:
        if name.startswith("_") or name == "arrays":  # not a block field (copy, pickle, a half-made row)
            raise AttributeError(name)
        if name in RECORD_FIELDS:  # with the step after the block's last (a step reads its end too)
            k, n = RECORD_FIELDS.index(name), self.end - self.start
            values = self.arrays.record[0, RECORD_OFFSET : RECORD_OFFSET + n + 1, k].tolist()
            if name in _RECORD_MARKS:
                values = [int(v) for v in values]
        else:
            values = getattr(self.arrays, name)[0].tolist()
        setattr(self, name, values)
        return values


class PlantState:
    """Ground truth at the last returned sample, updated in place by every step.

    Fields: ``t_s``, ``true_tilt_deg``, ``ankle_deg``, ``foot_pitch_deg`` (toe up, relative
    to the walking surface), ``toe_height_mm``, ``torque_nm`` (evoked), ``fatigue`` (1 =
    fresh), ``activation``, ``activity``, ``knee_deg``, ``hip_deg``, ``thigh_deg`` (knee ahead
    of hip positive), ``in_swing``, and sagittal positions (m, x forward, z up) of hip, knee,
    ankle and toe for a stick figure (ankle and toe heights above the walking surface). The step stores the foot state and an index into the
    precomputed block; the fields are read from them on access.
    """

    __slots__ = ("t_s", "torque_nm", "fatigue", "activation", "in_swing", "_alpha", "_blk", "_i", "_seg")

    FIELDS: tuple[str, ...] = (
        "t_s", "true_tilt_deg", "ankle_deg", "foot_pitch_deg", "toe_height_mm", "torque_nm", "fatigue", "activation", "activity",
        "knee_deg", "hip_deg", "thigh_deg", "in_swing", "hip_x_m", "hip_z_m", "knee_x_m", "knee_z_m", "ankle_x_m", "ankle_z_m",
        "toe_x_m", "toe_z_m",
    )

    def __init__(self, seg: Segments) -> None:
        self._seg = seg
        self.t_s = 0.0
        self.torque_nm = 0.0
        self.fatigue = 1.0
        self.activation = 0.0
        self.in_swing = False

    def _set(self, blk: _BlockRow, i: int, alpha: float) -> None:
        self._blk, self._i, self._alpha = blk, i, alpha

    @property
    def true_tilt_deg(self) -> float:
        return self._blk.tilt[self._i]

    @property
    def ankle_deg(self) -> float:
        return (self._alpha + self._blk.psi_a[self._i]) * _DEG

    @property
    def foot_pitch_deg(self) -> float:
        return (self._alpha - self._blk.slope[self._i]) * _DEG

    @property
    def toe_z_m(self) -> float:
        rel = self._alpha - self._blk.slope[self._i]
        return self._blk.ankle_z[self._i] + self._seg.toe_forward * math.sin(rel) - self._seg.toe_below * math.cos(rel)

    @property
    def toe_height_mm(self) -> float:
        """Toe height above the walking surface; on the ground the foot rests on its lowest point."""
        if self.in_swing:
            return self.toe_z_m * 1e3
        rel = self._alpha - self._blk.slope[self._i]
        seg = self._seg
        toe = seg.toe_forward * math.sin(rel) - seg.toe_below * math.cos(rel)
        heel = -seg.heel_back * math.sin(rel) - seg.heel_below * math.cos(rel)
        return (toe - min(toe, heel)) * 1e3

    @property
    def toe_x_m(self) -> float:
        rel = self._alpha - self._blk.slope[self._i]
        return self._blk.ankle_x[self._i] + self._seg.toe_forward * math.cos(rel) + self._seg.toe_below * math.sin(rel)

    @property
    def activity(self) -> str:
        return ACTIVITY_LABELS[self._blk.activity[self._i]]

    knee_deg = property(lambda self: self._blk.knee[self._i])
    hip_deg = property(lambda self: self._blk.hip[self._i])
    thigh_deg = property(lambda self: self._blk.thigh[self._i])
    hip_x_m = property(lambda self: self._blk.hip_x[self._i])
    hip_z_m = property(lambda self: self._blk.hip_z[self._i])
    knee_x_m = property(lambda self: self._blk.knee_x[self._i])
    knee_z_m = property(lambda self: self._blk.knee_z[self._i])
    ankle_x_m = property(lambda self: self._blk.ankle_x[self._i])
    ankle_z_m = property(lambda self: self._blk.ankle_z[self._i])

    def as_dict(self) -> dict[str, Any]:
        """A copy of every field."""
        return {name: getattr(self, name) for name in self.FIELDS}


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
        sample_rate_hz: float = 200.0, plant_rate_hz: float = DEFAULT_PLANT_RATE_HZ, orthosis: Orthosis | None = None,
    ) -> None:
        self.sub = check_rates(sample_rate_hz, plant_rate_hz)
        self.walker = walker
        self.scenario = scenario if scenario is not None else Scenario()
        self.sensor = sensor if sensor is not None else SensorConfig()
        self.sample_rate_hz = float(sample_rate_hz)
        self.plant_rate_hz = float(plant_rate_hz)
        self.orthosis = orthosis
        self.dt = 1.0 / plant_rate_hz
        self.seg = Segments.of(walker.height_m)
        self.state = PlantState(self.seg)
        self.sample = ShankSample(0.0)
        self.t_s = 0.0
        self._use_foot(walker)
        self._legs = LegEvents(walker.slap_velocity_dps)
        self._builder: BlockBuilder | None = None
        self._pending_walker: WalkerConfig | None = None
        #: run a Riener walker without orthosis in the compiled step (as one lane of a
        #: population); False runs the Python reference path (read at ``reset``)
        self.compiled = True

    @property
    def events(self) -> list[tuple[float, GaitEvent]]:
        """True heel strikes (initial contacts), heel-offs and toe-offs so far."""
        return self._legs.events

    @property
    def strides(self) -> list[StrideOutcome]:
        """Completed strides."""
        return self._legs.strides

    # ------------------------------------------------------------------ public API
    def reset(self, seed: int) -> ShankSample:
        """Start a new run; the same seed gives the identical run. Returns the sample at t = 0."""
        w = self.walker
        self._builder = BlockBuilder([w], self.scenario, self.sensor, self.sample_rate_hz, self.sub, [seed], pose=True)
        self._legs = LegEvents(w.slap_velocity_dps)
        self._use_foot(w)
        self._t_contact = 0.0
        self._heel_contact = self._builder.heel_contact_m
        self._pending_walker = None
        self._blk = _BlockRow(self._builder.build(0))
        self._i = 0
        self._k = 0
        self._lanes: Lanes | None = None
        if self.compiled and w.force_model == "riener" and self.orthosis is None:
            self._lanes = Lanes([w], np.zeros(1, np.int64), np.array([self._heel_contact]), self.plant_rate_hz, self.sub)
            self._lanes.start(self._blk.arrays)
            self._stim = np.zeros((3, 1, 1))  # current, pulse width, frequency of one period, one lane
            self._stim_flat = self._stim.reshape(3)
            self._lane_f, self._lane_i = self._lanes.F[0], self._lanes.I[0]
        self._a = 0.0
        self._mu = 1.0
        self._u = 0.0
        self._cmd: tuple[float, float, float] | None = None
        self._emd_n = mu.emd_steps(w.emd_ms, self.plant_rate_hz)
        self._emd_buf = [0.0] * self._emd_n
        self._emd_i = 0
        self._spas_n = reflex_line_length(w.spasticity_delay_ms, self.plant_rate_hz)
        self._spas_buf = [0.0] * self._spas_n
        self._spas_i = 0
        self._spas_tau = 0.0
        self._ding: Any = None
        if w.force_model == "ding2003":
            from fes_sim.body.ding import DING2007, Ding2003State

            # cocofest's τ_fat (127 s) scaled by the walker's fatigue time over Riener's default 30 s;
            # Ding 2007's own constants go with its pulse-width recruitment
            self._ding = Ding2003State(127.0 * w.fatigue_time_s / 30.0, DING2007 if w.recruitment == "ding2007" else None)
        self._alpha = self._blk.alpha_ref[0]
        self._alpha_dot = self._blk.alpha_ref_dot[0]
        self._lr_delta = 0.0
        self._toe_landing = False
        self._lr_decay = math.exp(-self.dt / LOADING_TAU_S)
        self._reflex_decays = reflex_decays(self.dt)
        self._decay_u = math.nan
        self._decay = 0.0
        self._lr_decay_period = self._lr_decay**self.sub
        self._busy_until = 0
        self._swing = False
        self._lock: str | None = None
        self._tau = 0.0
        self._min_toe = math.inf
        self._t_min_toe = math.nan
        self._drag_s = 0.0
        self._ankle_min_po = math.inf
        self.sample = ShankSample(0.0)
        self._emit(0)
        return self.sample

    def step(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> ShankSample:
        """Hold the stimulation output over the next sensor period; return the next sample.

        ``current_ma = 0`` means no stimulation.
        """
        if self._builder is None:
            raise RuntimeError("WalkingPlant.step() before reset(seed)")
        blk = self._blk
        if self._i >= self._builder.block_substeps:
            blk = self._next_block()
        if self._lanes is not None:
            self._advance_compiled(blk, current_ma, pulse_width_us, frequency_hz)
        else:
            self._advance_python(blk, current_ma, pulse_width_us, frequency_hz)
        self._k += 1
        self._emit(self._k)
        return self.sample

    def _advance_compiled(self, blk: "_BlockRow", current_ma: float, pulse_width_us: float, frequency_hz: float) -> None:
        """One sensor period in the compiled step (:mod:`fes_sim.population_kernel`), as one lane."""
        stim, flat = self._stim, self._stim_flat
        flat[0], flat[1], flat[2] = current_ma, pulse_width_us, frequency_hz
        events, strides = self._lanes.advance(blk.arrays, self._i, stim[0], stim[1], stim[2])  # type: ignore[union-attr]
        if len(events):
            self._legs.events.extend((t_s, GaitEvent(int(code))) for _, code, t_s in events.tolist())
        if len(strides):
            self._legs.strides.extend(stride_outcome(row[1:]) for row in strides.tolist())
        self._i += self.sub

    def _advance_python(self, blk: "_BlockRow", current_ma: float, pulse_width_us: float, frequency_hz: float) -> None:
        """One sensor period in Python: the Ding force model or an orthosis (a Python callable)."""
        cmd = (current_ma, pulse_width_us, frequency_hz)
        if cmd != self._cmd:
            self._cmd = cmd
            self._u = self._drive(current_ma, pulse_width_us, frequency_hz)
        i = self._i
        j = blk.start + i
        if self._u > 0.0:
            self._busy_until = j + self.sub + self._emd_n
        quiet = self._a == 0.0 and j >= self._busy_until and self._lock is None and not self._toe_landing
        if quiet and self._ding is None and blk.quiet[i // self.sub] and self.walker.spasticity_gain_nms_per_deg == 0.0 and self.orthosis is None:
            # muscle at rest and the foot on the floor all period: only the prescribed path moves
            last = i + self.sub - 1
            self._lr_delta *= self._lr_decay_period
            self._alpha = blk.alpha_ref[last] + self._lr_delta
            self._alpha_dot = blk.alpha_ref_dot[last]
            self._tau = 0.0
            self._i = i + self.sub
        else:
            for _ in range(self.sub):
                self._substep(blk, self._i)
                self._i += 1
        if self._ding is None:
            w = self.walker
            self._mu = mu.riener_fatigue_step(self._mu, self._a, self.sub * self.dt, w.fatigue_mu_min, w.fatigue_time_s, w.recovery_time_s)

    #: walker fields that need a new plant (body size, sensor placement, force model)
    FIXED_FIELDS: tuple[str, ...] = ("height_m", "sensor_below_knee_m", "sensor_misalignment_deg", "force_model")

    def set_walker(self, walker: WalkerConfig) -> None:
        """Change the walker without restarting: speed, cadence, timing, severity, muscle, ...

        It takes effect at the next block (within 1 s of simulated time): strides drawn
        from then on get its timing, the leg motion fades to it over 0.3 s, and muscle and
        foot use its parameters; IMU, tilt filter, muscle state and fatigue carry on.
        Changing a field of :attr:`FIXED_FIELDS` is a ConfigError (start a new plant).
        """
        if self._builder is None:
            raise RuntimeError("WalkingPlant.set_walker() before reset(seed)")
        for name in self.FIXED_FIELDS:
            if getattr(walker, name) != getattr(self.walker, name):
                raise ConfigError(f"{name}: cannot change mid-run ({getattr(self.walker, name)!r} -> {getattr(walker, name)!r}); start a new plant")
        self._pending_walker = walker

    def _next_block(self) -> "_BlockRow":
        """Build the next block, switching to a pending walker first."""
        b = self._builder
        assert b is not None
        w = self._pending_walker
        if w is not None:
            self._pending_walker = None
            b.set_walker(w)
            self._use_walker(w)
        self._blk = _BlockRow(b.build(self._blk.end // b.block_substeps))
        self._i = 0
        return self._blk

    def _use_walker(self, w: WalkerConfig) -> None:
        """Muscle, foot and stride-record parameters of walker ``w`` (the states carry on)."""
        self.walker = w
        self._use_foot(w)
        self._decay_u = math.nan  # the activation time constants may differ
        self._heel_contact = self._builder.heel_contact_m  # type: ignore[union-attr]
        self._legs.slap_velocity_dps = w.slap_velocity_dps
        emd_n = mu.emd_steps(w.emd_ms, self.plant_rate_hz)
        if emd_n != self._emd_n:  # a new delay line (drive in flight is dropped)
            self._emd_n, self._emd_buf, self._emd_i = emd_n, [0.0] * emd_n, 0
        spas_n = reflex_line_length(w.spasticity_delay_ms, self.plant_rate_hz)
        if spas_n != self._spas_n:
            self._spas_n, self._spas_buf, self._spas_i = spas_n, [0.0] * spas_n, 0
        if self._cmd is not None:
            self._u = self._drive(*self._cmd)
        if self._lanes is not None:
            self._lanes.set_walker(w, self._heel_contact)

    # ------------------------------------------------------------------ internals
    def _use_foot(self, w: WalkerConfig) -> None:
        """Constants of the swing foot and the heel rocker for walker ``w``."""
        field = lambda name: getattr(w, name)  # noqa: E731
        self.foot = FootBody.of(w.height_m, w.mass_kg, w.shoe_mass_kg, w.foot_inertia_kgm2)
        self._swing_foot = SwingFoot.of(field, self.foot)
        self._rocker = HeelRocker.of(field, self.foot, self.seg.heel_back, self.seg.heel_below)

    def _drive(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> float:
        """Recruited, frequency-weighted drive u (0..1) of one stimulation setting."""
        w = self.walker
        on = current_ma > 0.0 and pulse_width_us > 0.0 and frequency_hz > 0.0
        r = mu.recruitment(w.recruitment, current_ma, pulse_width_us, w.charge_half_uc, w.charge_width_uc) if on else 0.0
        if self._ding is not None:
            self._ding.set_train(frequency_hz if on else 0.0)
            return r
        return min(1.0, max(0.0, r * mu.fusion_factor(frequency_hz, w.fusion_constant_s))) if on else 0.0

    def _substep(self, blk: _BlockRow, i: int) -> None:
        """Advance muscle and foot over one plant step from block-local substep ``i``."""
        dt = self.dt
        w = self.walker
        u = self._u
        if self._emd_n:  # electromechanical delay line
            e = self._emd_i
            u, self._emd_buf[e] = self._emd_buf[e], u
            self._emd_i = e + 1 if e + 1 < self._emd_n else 0
        if self._ding is not None:
            level_start = self._ding.force_fraction
            self._ding.step(dt, u)
            level = self._ding.force_fraction
        else:
            a = self._a
            level_start = a * self._mu
            if u > 0.0 or a > mu.ACTIVATION_FLOOR:
                if u != self._decay_u:  # the decay factor of activation_step, kept while the drive holds
                    self._decay_u, self._decay = u, mu.activation_decay(u, dt, w.tau_act_ms * 1e-3, w.tau_deact_ms * 1e-3)
                a = u + (a - u) * self._decay
            else:
                a = 0.0
            self._a = a
            level = a * self._mu
        ev = blk.event[i]
        if ev:
            self._on_event(ev, (blk.start + i) * dt, blk, i)
        spastic = w.spasticity_gain_nms_per_deg > 0.0
        if spastic:  # the reflex torque from the delayed ankle velocity (the line is fed at the end of every step)
            self._spas_tau = reflex_torque_update(
                self._spas_tau, self._spas_buf[self._spas_i], w.spasticity_gain_nms_per_deg, w.spasticity_threshold_dps, *self._reflex_decays,
            )
        zone = blk.zone[i]
        t_full = w.max_evoked_torque_nm * w.surviving_axon_fraction  # at full activation and fitness
        t_max = t_full * level
        if self._lock == "heel":
            self._loading(blk, i, t_max)
        elif zone == STANCE or self._lock is not None:
            if self._lock is None:
                self._stance(blk, i, t_max)
            elif zone != STANCE:
                self._roll(blk, i)
            theta_deg = (self._alpha + blk.psi_a[i]) * _DEG
            self._tau = self._evoked_torque(t_max, theta_deg)
        else:  # the step's mean activation (the swing step is second order)
            self._swing_step(blk, i, t_full * (0.5 * (level_start + level)))
        if spastic:
            s = self._spas_i
            self._spas_buf[s] = (self._alpha_dot + blk.psi_a_dot[i]) * _DEG
            self._spas_i = s + 1 if s + 1 < self._spas_n else 0

    def _evoked_torque(self, t_max: float, theta_deg: float) -> float:
        """The walker's evoked torque (:func:`fes_sim.body.muscle.evoked_torque_nm`)."""
        return mu.evoked_torque_nm(t_max, theta_deg, self.walker.torque_angle_opt_deg, self.walker.torque_angle_width_deg)

    def _orthosis_terms(self, theta_deg: float, theta_dot_dps: float) -> tuple[float, float, float]:
        """Moment (N·m) of the orthosis and its stiffness (N·m/rad) and damping (N·m·s/rad), the
        slopes by finite differences (exact for a piecewise linear brace away from its kink)."""
        orth = self.orthosis
        if orth is None:
            return 0.0, 0.0, 0.0
        tau = orth(theta_deg, theta_dot_dps)
        k = (tau - orth(theta_deg + 0.01, theta_dot_dps)) / 0.01 * _DEG
        d = tau - orth(theta_deg, theta_dot_dps + 1.0)
        return tau, max(k, 0.0), max(d * _DEG, 0.0)

    def _swing_step(self, blk: _BlockRow, i: int, t_max: float) -> None:
        """The swing foot (:func:`fes_sim.body.foot.swing_foot_step`) and its clearance and floor contact."""
        self._swing = True
        alpha, alpha_dot = self._alpha, self._alpha_dot
        mid = lambda x: 0.5 * (x[i] + x[i + 1])  # noqa: E731 - the input at the middle of the step
        psi_a = mid(blk.psi_a)
        theta_deg = (alpha + psi_a) * _DEG
        tau_ev = self._evoked_torque(t_max, theta_deg)
        self._tau = tau_ev
        psi_a_dot = mid(blk.psi_a_dot)
        tau_o, k_o, d_o = self._orthosis_terms(theta_deg, (alpha_dot + psi_a_dot) * _DEG)
        alpha, alpha_dot = swing_foot_step(
            self._swing_foot, alpha, alpha_dot, tau_ev - self._spas_tau + tau_o, k_o, d_o, mid(blk.theta_ref), mid(blk.theta_ref_dot),
            mid(blk.tau_ff), psi_a, psi_a_dot, mid(blk.knee), mid(blk.acc_x), mid(blk.acc_z), self.dt,
        )
        self._alpha, self._alpha_dot = alpha, alpha_dot
        zone = blk.zone[i + 1]  # the clearance at the end of the step: its pitch, ankle and zone
        if zone == EARLY_SWING or zone == STANCE:
            return
        rel = alpha - blk.slope[i + 1]
        seg = self.seg
        sr, cr = math.sin(rel), math.cos(rel)
        z = blk.ankle_z[i + 1]
        toe_z = z + seg.toe_forward * sr - seg.toe_below * cr
        if zone == MID_SWING:
            if toe_z < self._min_toe:
                self._min_toe = toe_z
                self._t_min_toe = (blk.start + i + 1) * self.dt
            if toe_z < 0.0:
                self._drag_s += self.dt
            return
        heel_z = z - seg.heel_back * sr - seg.heel_below * cr - self._heel_contact
        if toe_z <= 0.0 or heel_z <= 0.0:
            self._contact((blk.start + i + 1) * self.dt, heel_z <= toe_z, rel)

    def _loading(self, blk: _BlockRow, i: int, t_max: float) -> None:
        """Heel rocker after a heel-first contact, until forefoot contact."""
        alpha, alpha_dot = self._alpha, self._alpha_dot
        theta_deg = (alpha + blk.psi_a[i]) * _DEG
        tau_ev = self._evoked_torque(t_max, theta_deg)
        self._tau = tau_ev
        tau_o, k_o, d_o = self._orthosis_terms(theta_deg, (alpha_dot + blk.psi_a_dot[i]) * _DEG)
        self._alpha, self._alpha_dot = heel_rocker_step(
            self._rocker, alpha, alpha_dot, (blk.start + i) * self.dt - self._t_contact, tau_ev, tau_o - self._spas_tau, k_o, d_o,
            blk.alpha_ref[i], blk.alpha_ref_dot[i], blk.psi_a[i], blk.psi_a_dot[i], blk.knee[i], self.dt,
        )
        if self._alpha - blk.slope[i] <= FOOT_FLAT_RAD:
            self._foot_flat(blk, i)

    def _foot_flat(self, blk: _BlockRow, i: int) -> None:
        """Forefoot contact: record its velocity, hold the foot flat until the path is flat."""
        self._legs.foot_flat(-(self._alpha_dot + blk.psi_a_dot[i]) * _DEG)
        flat = blk.slope[i]
        self._lock = None
        self._toe_landing = True
        self._alpha = max(self._alpha, flat)
        self._lr_delta = self._alpha - min(blk.alpha_ref[i], flat)
        self._alpha_dot = blk.alpha_ref_dot[i]

    def _stance(self, blk: _BlockRow, i: int, t_max: float) -> None:
        self._lr_delta *= self._lr_decay
        ref = blk.alpha_ref[i]
        if self._toe_landing:  # after a toe-first contact or a foot-flat: held flat until the path is
            flat = blk.slope[i]
            if ref <= flat:
                self._toe_landing = False
            else:
                ref = flat
        alpha = ref + self._lr_delta
        w = self.walker
        theta_deg = (alpha + blk.psi_a[i]) * _DEG
        tau_ev = self._evoked_torque(t_max, theta_deg)
        if self.orthosis is not None:
            alpha = min(blk.slope[i], self._stance_with_orthosis(theta_deg, tau_ev) / _DEG - blk.psi_a[i])
        else:
            alpha = stance_pitch_with_drive(alpha, blk.slope[i], tau_ev, w.pushoff_stiffness_nm_per_deg)
        if blk.pushoff[i]:
            theta_deg = (alpha + blk.psi_a[i]) * _DEG
            if theta_deg < self._ankle_min_po:
                self._ankle_min_po = theta_deg
        self._alpha_dot = blk.alpha_ref_dot[i]
        self._alpha = alpha

    def _stance_with_orthosis(self, ref_deg: float, tau_ev_nm: float) -> float:
        """Ankle (deg) on the floor with an orthosis: K·(θ − θ_ref) = τ_orth(θ) + τ_ev (quasi-static,
        the brace's spring and the evoked torque at the path), by Newton iterations; the caller keeps the foot from pitching toe-up
        off the floor, so a brace resisting dorsiflexion lifts the heel early and one resisting
        plantarflexion holds it down in push-off.

        The slope of τ_orth comes from a 0.01° finite difference. Newton converges for an
        orthosis stiffer than K, where plain fixed-point iteration diverges; a piecewise
        linear orthosis is solved exactly in one or two steps.
        """
        assert self.orthosis is not None
        k = self.walker.pushoff_stiffness_nm_per_deg
        ref = ref_deg
        theta = ref
        for _ in range(6):
            tau = self.orthosis(theta, 0.0)
            slope = max(k, k - (self.orthosis(theta + 0.01, 0.0) - tau) / 0.01)
            step = (k * (theta - ref) - tau - tau_ev_nm) / slope
            theta -= step
            if abs(step) < 1e-6:
                break
        return theta

    def _roll(self, blk: _BlockRow, i: int) -> None:
        """After a toe-first contact in terminal swing the foot rolls on its toe."""
        seg = self.seg
        new = contact_angle(blk.ankle_z[i], seg.toe_forward, seg.toe_below) + blk.slope[i]
        self._alpha_dot = (new - self._alpha) / self.dt
        self._alpha = new

    def _contact(self, t_s: float, heel_first: bool, pitch_rad: float) -> None:
        """Initial contact at foot pitch ``pitch_rad`` (on the surface): close the stride; the heel
        rocker starts, or the foot rolls on its toe."""
        self._legs.initial_contact(t_s, heel_first, pitch_rad * _DEG, self._min_toe, self._drag_s, self._t_min_toe)
        self._t_contact = t_s
        self._swing = False
        self._lock = "heel" if heel_first else "toe"
        self._min_toe = math.inf
        self._t_min_toe = math.nan
        self._drag_s = 0.0

    def _on_event(self, ev: int, t_s: float, blk: _BlockRow, i: int) -> None:
        if ev == GaitEvent.HEEL_STRIKE:
            if self._lock is None and self._swing:  # no contact yet: the heel strikes at the nominal time
                rel = self._alpha - blk.slope[i]
                seg = self.seg
                toe_z = seg.toe_forward * math.sin(rel) - seg.toe_below * math.cos(rel)
                heel_z = -seg.heel_back * math.sin(rel) - seg.heel_below * math.cos(rel) - self._heel_contact
                self._contact(t_s, heel_z <= toe_z, rel)
            if self._lock == "toe":
                self._toe_landing = True
                self._lock = None
                self._lr_delta = self._alpha - min(blk.alpha_ref[i], blk.slope[i])
        elif ev == GaitEvent.HEEL_OFF:
            if self._lock == "heel":  # the forefoot never came down: flat at heel-off at the latest
                self._foot_flat(blk, i)
            self._legs.heel_off(t_s)
            self._ankle_min_po = math.inf
        elif ev == GaitEvent.TOE_OFF:
            self._legs.toe_off(t_s, self._ankle_min_po)
            self._lr_delta = 0.0
        elif ev == WALK_END:
            if self._lock == "heel":
                self._foot_flat(blk, i)
            self._legs.walk_end()
            self._swing = False
            self._lock = None

    def _emit(self, k: int) -> None:
        """Fill ``sample`` and ``state`` for sensor sample ``k`` (substep ``k·sub``)."""
        blk = self._blk
        i = self._i
        if i >= self._builder.block_substeps:  # type: ignore[union-attr]
            blk, i = self._next_block(), 0
        ks = i // self.sub
        s = self.sample
        t = k / self.sample_rate_hz
        self.t_s = t
        s.t_s = t
        s.acc_x_mps2, s.acc_y_mps2, s.acc_z_mps2, s.gyr_x_dps, s.gyr_y_dps, s.gyr_z_dps, s.tilt_deg, s.footswitch = blk.samples[ks]
        st = self.state
        st.t_s = t
        if self._lanes is not None:
            f = self._lane_f.tolist()
            st._set(blk, i, f[kn.F_ALPHA])
            st.torque_nm, st.fatigue, st.activation = f[kn.F_TAU], f[kn.F_MU], f[kn.F_A]
            flags = self._lane_i.tolist()
            st.in_swing = flags[kn.I_SWING] != 0 and flags[kn.I_LOCK] == kn.NO_LOCK
            return
        st._set(blk, i, self._alpha)
        st.torque_nm = self._tau
        st.in_swing = self._swing and self._lock is None
        if self._ding is not None:
            st.fatigue, st.activation = self._ding.fatigue, self._ding.force_fraction
        else:
            st.fatigue, st.activation = self._mu, self._a
