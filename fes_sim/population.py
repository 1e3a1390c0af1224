"""Many walkers in one vectorised numpy pass, stepped like the single plant.

``Population`` is the interface a vectorised controller drives::

    pop = Population.sample(get_preset("walker", "drop_foot_severe"), n=1000, seed=7)
    out = pop.reset(seed=1)                     # dict of arrays (N,): sensor channels and truth
    out = pop.step(current_ma, pulse_width_us, frequency_hz)   # arrays of length N
    pop.strides[i]                              # StrideOutcome list of walker i

Walker ``i`` of a run with ``seed`` is :class:`~fes_sim.plant.WalkingPlant` with seed
``seed_of(seed, i)`` at the same rates: the same equations, here over arrays (the test
suite checks the two agree). Prescribed motion and sensor output are built per block for
all walkers at once; per plant step the muscle and foot equations run as numpy
operations over the walkers, and only the rare discrete events (heel-off, toe-off,
initial contact) are handled walker by walker.

Limits: the Riener force model and no orthosis. Walk-only scenarios build the
prescribed motion for all walkers at once; scenarios with other activities evaluate each
walker's motion in turn, which is several times slower.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from fes_sim.body import muscle as mu
from fes_sim.body.block import LOADING_TAU_S, MID_SWING, SENSOR_CHANNELS, STANCE, TERMINAL_SWING, WALK_END, Block, BlockBuilder
from fes_sim.body.foot import FootBody
from fes_sim.body.loading import FOOT_FLAT_RAD, HeelRocker, heel_rocker_step
from fes_sim.body.passive import passive_moment_nm
from fes_sim.body.strides import LegEvents, StrideOutcome
from fes_sim.errors import ConfigError
from fes_sim.gait.motion import Segments
from fes_sim.gait.scenario import WALKING, Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.plant import check_rates, contact_angle
from fes_sim.samples import GRAVITY_MPS2, GaitEvent
from fes_sim.sensors.imu import SensorConfig

#: walker fields sampled by :func:`sample_walkers`, with their log-normal SD
SAMPLED_FIELDS: dict[str, float] = {
    "height_m": 0.05,
    "mass_kg": 0.15,
    "speed_mps": 0.15,
    "max_evoked_torque_nm": 0.25,
    "passive_stiffness_scale": 0.2,
    "charge_half_uc": 0.2,
    "mtc_target_mm": 0.25,
}

#: ground-truth arrays returned beside the sensor channels
TRUTH_FIELDS: tuple[str, ...] = ("true_tilt_deg", "ankle_deg", "toe_height_mm", "torque_nm", "fatigue", "in_swing")

_NO_LOCK, _TOE, _HEEL = 0, 1, 2


def seed_of(seed: int, index: int) -> int:
    """Run seed of walker ``index`` in a population run with ``seed``."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def sample_walkers(base: WalkerConfig, n: int, seed: int) -> list[WalkerConfig]:
    """``n`` walkers around ``base``: each field of :data:`SAMPLED_FIELDS` log-normally
    scattered and clipped to its allowed range (cadence follows speed as √v)."""
    rng = np.random.default_rng(seed)
    limits = {f.name: (f.metadata.get("lo"), f.metadata.get("hi")) for f in dataclasses.fields(base)}
    out = []
    for _ in range(n):
        changes = {}
        for name, sd in SAMPLED_FIELDS.items():
            lo, hi = limits[name]
            changes[name] = float(np.clip(getattr(base, name) * np.exp(rng.normal(0.0, sd)), lo, hi))
        if base.cadence_spm > 0:
            changes["cadence_spm"] = float(np.clip(base.cadence_spm * math.sqrt(changes["speed_mps"] / base.speed_mps), 40, 160))
        out.append(base.replace(**changes))
    return out


class SharedBlocks:
    """Blocks built once per distinct (walker, run seed) pair and expanded to every walker.

    Walkers that repeat another walker with the same run seed (``fes tune`` runs each
    walker once per parameter set) share its prescribed motion and sensor output, the
    larger part of a population step, so each distinct pair is built once. Offers the
    part of :class:`~fes_sim.body.block.BlockBuilder` a population uses.
    """

    def __init__(
        self, walkers: Sequence[WalkerConfig], scenario: Scenario, sensor: SensorConfig, sample_rate_hz: float, sub: int, seeds: Sequence[int],
    ) -> None:
        segs = scenario.segments
        if len(walkers) > 1 and not (len(segs) == 1 and segs[0].activity in WALKING):
            raise ConfigError(f"scenario: population mode needs a single walking activity, got {scenario.name!r}")
        pairs: dict[tuple[WalkerConfig, int], int] = {}
        self._idx = np.array([pairs.setdefault((w, s), len(pairs)) for w, s in zip(walkers, seeds)])
        self._inner = BlockBuilder([w for w, _ in pairs], scenario, sensor, sample_rate_hz, sub, [s for _, s in pairs])
        self.block_substeps = self._inner.block_substeps
        self.heel_contact_m = np.atleast_1d(self._inner.heel_contact_m)[self._idx]

    def build(self, b: int) -> Block:
        """Block ``b`` for every walker (fields as (substeps, N) arrays, sensor channels (N, samples))."""
        blk = self._inner.build(b)
        idx = self._idx
        out = {}
        for f in dataclasses.fields(Block):
            v = getattr(blk, f.name)
            if f.name in ("start", "end"):
                out[f.name] = v
            elif f.name == "sensor":
                out[f.name] = {k: np.atleast_2d(np.asarray(x))[idx] for k, x in v.items()}
            elif f.name == "quiet":
                out[f.name] = np.atleast_2d(np.asarray(v))[idx]
            else:
                a = np.asarray(v)
                out[f.name] = a.reshape(len(a), -1)[:, idx]
        return Block(**out)


class Population:
    """N walkers stepped together; inputs and outputs are arrays of length N.

    Parameters
    ----------
    walkers
        One profile per walker (see :func:`sample_walkers`).
    scenario
        A single walking activity; ``None`` walks on level ground.
    sensor, sample_rate_hz, plant_rate_hz
        As for :class:`~fes_sim.plant.WalkingPlant`.
    """

    def __init__(
        self, walkers: Sequence[WalkerConfig], *, scenario: Scenario | None = None, sensor: SensorConfig | None = None,
        sample_rate_hz: float = 200.0, plant_rate_hz: float = 1000.0,
    ) -> None:
        if not walkers:
            raise ConfigError("walkers: a population needs at least one walker")
        bad = [i for i, w in enumerate(walkers) if w.force_model != "riener"]
        if bad:
            raise ConfigError(f"walkers[{bad[0]}].force_model: population mode supports 'riener' only")
        self.sub = check_rates(sample_rate_hz, plant_rate_hz)
        self.walkers = list(walkers)
        self.n = len(self.walkers)
        self.scenario = scenario if scenario is not None else Scenario()
        self.sensor = sensor if sensor is not None else SensorConfig()
        self.sample_rate_hz = float(sample_rate_hz)
        self.dt = 1.0 / plant_rate_hz
        col = lambda name: np.array([float(getattr(w, name)) for w in self.walkers])  # noqa: E731
        self._col = col
        self.seg = Segments.of(col("height_m"))
        self.foot = FootBody.of(col("height_m"), col("mass_kg"), col("shoe_mass_kg"), col("foot_inertia_kgm2"))
        self._emd_n = np.rint(col("emd_ms") * 1e-3 * plant_rate_hz).astype(int)
        self._spas_n = np.maximum(1, np.rint(col("spasticity_delay_ms") * 1e-3 * plant_rate_hz).astype(int))
        self._kinds = {k: np.array([w.recruitment == k for w in self.walkers]) for k in ("sigmoid", "hmed2018", "ding2007")}
        self._idx = np.arange(self.n)
        self.t_s = 0.0

    @classmethod
    def sample(cls, base: WalkerConfig, n: int, seed: int, **kwargs) -> "Population":
        """A population of ``n`` walkers sampled around ``base``."""
        return cls(sample_walkers(base, n, seed), **kwargs)

    @property
    def strides(self) -> list[list[StrideOutcome]]:
        """Completed strides of each walker."""
        return [legs.strides for legs in self._legs]

    @property
    def events(self) -> list[list[tuple[float, GaitEvent]]]:
        """True events of each walker."""
        return [legs.events for legs in self._legs]

    # ------------------------------------------------------------------ API
    def reset(self, seed: int, seeds: Sequence[int] | None = None) -> dict[str, np.ndarray]:
        """Start every walker (walker i with :func:`seed_of` (seed, i)); arrays at t = 0.

        ``seeds`` gives walker i the run seed ``seeds[i]`` instead (as ``WalkingPlant.reset(seeds[i])``),
        so lanes that repeat a walker can repeat its run too (``fes tune``).
        """
        n, col = self.n, self._col
        run_seeds = [seed_of(seed, i) for i in range(n)] if seeds is None else [int(s) for s in seeds]
        if len(run_seeds) != n:
            raise ConfigError(f"seeds: {len(run_seeds)} seeds for {n} walkers")
        shared = len(set(zip(self.walkers, run_seeds))) < n
        self._builder = (SharedBlocks if shared else BlockBuilder)(self.walkers, self.scenario, self.sensor, self.sample_rate_hz, self.sub, run_seeds)
        self._legs = [LegEvents(w.slap_velocity_dps) for w in self.walkers]
        self._rocker = HeelRocker.of(col, self.foot, self.seg.heel_back, self.seg.heel_below)
        self._t_contact = np.zeros(n)
        self._heel_contact = self._builder.heel_contact_m
        self._blk = self._builder.build(0)
        self._i = 0
        self._k = 0
        self._a = np.zeros(n)
        self._mu = np.ones(n)
        self._u = np.zeros(n)
        self._cmd: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._emd_len = int(self._emd_n.max()) + 1
        self._emd_buf = np.zeros((self._emd_len, n))
        self._emd_pos = 0
        self._spas_buf = np.zeros((int(self._spas_n.max()), n))
        self._spas_pos = np.zeros(n, int)
        self._alpha = self._blk.alpha_ref[0].copy()
        self._alpha_dot = self._blk.alpha_ref_dot[0].copy()
        self._lr_delta = np.zeros(n)
        self._toe_landing = np.zeros(n, bool)
        self._lr_decay = math.exp(-self.dt / LOADING_TAU_S)
        self._swing = np.zeros(n, bool)
        self._lock = np.zeros(n, np.int8)
        self._tau = np.zeros(n)
        self._min_toe = np.full(n, np.inf)
        self._t_min_toe = np.full(n, np.nan)
        self._drag_s = np.zeros(n)
        self._ankle_min_po = np.full(n, np.inf)
        self._c = {
            name: col(name) for name in (
                "tau_act_ms", "tau_deact_ms", "max_evoked_torque_nm", "surviving_axon_fraction", "torque_angle_opt_deg",
                "torque_angle_width_deg", "voluntary_kp_nm_per_rad", "voluntary_kd_nms_per_rad", "drop_foot_severity",
                "passive_stiffness_scale", "contracture_deg", "damping_nms_per_rad", "spasticity_gain_nms_per_deg",
                "spasticity_threshold_dps", "fatigue_mu_min", "fatigue_time_s", "recovery_time_s", "voluntary_df_torque_nm",
                "charge_half_uc", "charge_width_uc", "fusion_constant_s",
            )
        }
        self._t_max = self._c["max_evoked_torque_nm"] * self._c["surviving_axon_fraction"]
        return self._collect(0)

    def step(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> dict[str, np.ndarray]:
        """One sensor period for every walker with its own stimulation output (arrays of N, or scalars)."""
        cmd = tuple(np.broadcast_to(np.asarray(x, float), (self.n,)).copy() for x in (current_ma, pulse_width_us, frequency_hz))
        if self._cmd is None or any(not np.array_equal(a, b) for a, b in zip(cmd, self._cmd)):
            self._cmd = cmd  # type: ignore[assignment]
            self._u = self._drive(*cmd)
        for _ in range(self.sub):
            if self._i >= self._builder.block_substeps:
                self._blk = self._builder.build(self._blk.end // self._builder.block_substeps)
                self._i = 0
            self._substep(self._blk, self._i)
            self._i += 1
        c = self._c
        self._mu = mu.riener_fatigue_step(self._mu, self._a, self.sub * self.dt, c["fatigue_mu_min"], c["fatigue_time_s"], c["recovery_time_s"])
        self._k += 1
        if self._i >= self._builder.block_substeps:
            self._blk = self._builder.build(self._blk.end // self._builder.block_substeps)
            self._i = 0
        return self._collect(self._k)

    # ------------------------------------------------------------------ internals
    def _drive(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> np.ndarray:
        c = self._c
        on = (current_ma > 0.0) & (pulse_width_us > 0.0) & (frequency_hz > 0.0)
        r = np.zeros(self.n)
        k = self._kinds
        if k["sigmoid"].any():
            r = np.where(k["sigmoid"], mu.recruit_sigmoid(current_ma, pulse_width_us, c["charge_half_uc"], c["charge_width_uc"], exp=np.exp), r)
        if k["hmed2018"].any():
            r = np.where(k["hmed2018"], mu.recruit_hmed2018(current_ma, tanh=np.tanh), r)
        if k["ding2007"].any():
            r = np.where(k["ding2007"], mu.recruit_ding2007(pulse_width_us, exp=np.exp), r)
        u = np.clip(r * mu.fusion_factor(frequency_hz, c["fusion_constant_s"]), 0.0, 1.0)
        return np.where(on, u, 0.0)

    def _substep(self, blk: Block, i: int) -> None:
        c, dt, seg, fb = self._c, self.dt, self.seg, self.foot
        # electromechanical delay: walker w reads what was written emd_n[w] substeps ago
        pos = self._emd_pos
        self._emd_buf[pos] = self._u
        u = self._emd_buf[(pos - self._emd_n) % self._emd_len, self._idx]
        self._emd_pos = (pos + 1) % self._emd_len
        a = self._a
        active = (u > 0.0) | (a > mu.ACTIVATION_FLOOR)
        a = np.where(active, mu.activation_step(a, u, dt, c["tau_act_ms"] * 1e-3, c["tau_deact_ms"] * 1e-3, exp=np.exp), 0.0)
        self._a = a
        t_max = self._t_max * a * self._mu
        ev = blk.event[i]
        if ev.any():
            for w in np.flatnonzero(ev):
                self._on_event(int(w), int(ev[w]), (blk.start + i) * dt, blk, i)
        zone = blk.zone[i]
        psi_a = blk.psi_a[i]
        locked = self._lock != _NO_LOCK
        stance = (zone == STANCE) | locked
        # stance: prescribed path with the loading-response decay; rolling on an early contact
        free = stance & ~locked
        self._lr_delta = np.where(free, self._lr_delta * self._lr_decay, self._lr_delta)
        ref, flat = blk.alpha_ref[i], blk.slope[i]
        # after a toe-first contact the heel comes down: no heel rocker until the path is flat
        self._toe_landing &= ~(free & (ref <= flat))
        alpha_st = np.where(free & self._toe_landing, flat, ref) + self._lr_delta
        po = free & blk.pushoff[i]
        self._ankle_min_po = np.where(po, np.minimum(self._ankle_min_po, np.degrees(alpha_st + psi_a)), self._ankle_min_po)
        rolling = (self._lock == _TOE) & (zone != STANCE)
        loading = self._lock == _HEEL
        if rolling.any():
            alpha_st = np.where(rolling, self._roll_alpha(blk, i), alpha_st)
        # swing: the foot equation for every walker, kept where the foot is in the air
        alpha, alpha_dot = self._alpha, self._alpha_dot
        theta = alpha + psi_a
        theta_dot = alpha_dot + blk.psi_a_dot[i]
        theta_deg = np.degrees(theta)
        tau_ev = t_max * mu.torque_angle_factor(theta_deg, c["torque_angle_opt_deg"], c["torque_angle_width_deg"], exp=np.exp)
        ff = blk.tau_ff[i]
        pd = c["voluntary_kp_nm_per_rad"] * (blk.theta_ref[i] - theta) + c["voluntary_kd_nms_per_rad"] * (blk.theta_ref_dot[i] - theta_dot)
        tau = tau_ev + (1.0 - c["drop_foot_severity"]) * (np.maximum(ff, 0.0) + pd) + np.minimum(ff, 0.0)
        tau += passive_moment_nm(theta_deg, blk.knee[i], c["passive_stiffness_scale"], c["contracture_deg"], exp=np.exp)
        tau -= c["damping_nms_per_rad"] * theta_dot
        swing = ~stance
        if (c["spasticity_gain_nms_per_deg"] > 0.0).any():
            tau -= self._spasticity(np.degrees(theta_dot), swing)
        ca, sa = np.cos(alpha), np.sin(alpha)
        tau += fb.mass_kg * (blk.acc_x[i] * (fb.com_forward_m * sa - fb.com_below_m * ca) - (GRAVITY_MPS2 + blk.acc_z[i]) * (fb.com_forward_m * ca + fb.com_below_m * sa))
        new_dot = alpha_dot + tau / fb.inertia_kgm2 * dt
        new_alpha = alpha + new_dot * dt
        st_dot = np.where(rolling, (alpha_st - alpha) / dt, blk.alpha_ref_dot[i])
        if loading.any():  # heel rocker after a heel-first contact
            lr_alpha, lr_dot = heel_rocker_step(
                self._rocker, alpha, alpha_dot, (blk.start + i) * dt - self._t_contact, tau_ev, 0.0, blk.alpha_ref[i], blk.alpha_ref_dot[i],
                psi_a, blk.psi_a_dot[i], blk.knee[i], dt, exp=np.exp,
            )
            alpha_st, st_dot = np.where(loading, lr_alpha, alpha_st), np.where(loading, lr_dot, st_dot)
        self._alpha = np.where(swing, new_alpha, alpha_st)
        self._alpha_dot = np.where(swing, new_dot, st_dot)
        self._swing |= swing
        theta_st = np.degrees(alpha_st + psi_a)
        tau_st = t_max * mu.torque_angle_factor(theta_st, c["torque_angle_opt_deg"], c["torque_angle_width_deg"], exp=np.exp)
        self._tau = np.where(swing | loading, tau_ev, tau_st)
        if loading.any():
            for w in np.flatnonzero(loading & (self._alpha - blk.slope[i] <= FOOT_FLAT_RAD)):
                self._foot_flat(int(w), blk, i)
        # clearance in mid and terminal swing
        rel = self._alpha - blk.slope[i]
        sr, cr = np.sin(rel), np.cos(rel)
        z = blk.ankle_z[i]
        toe_z = z + seg.toe_forward * sr - seg.toe_below * cr
        mid = swing & (zone == MID_SWING)
        lower = mid & (toe_z < self._min_toe)
        self._min_toe = np.where(lower, toe_z, self._min_toe)
        self._t_min_toe = np.where(lower, (blk.start + i + 1) * dt, self._t_min_toe)
        self._drag_s += np.where(mid & (toe_z < 0.0), dt, 0.0)
        heel_z = z - seg.heel_back * sr - seg.heel_below * cr - self._heel_contact
        hit = swing & (zone == TERMINAL_SWING) & ((toe_z <= 0.0) | (heel_z <= 0.0))
        if hit.any():
            for w in np.flatnonzero(hit):
                self._contact(int(w), (blk.start + i + 1) * dt, bool(heel_z[w] <= toe_z[w]), blk, i)

    def _spasticity(self, dorsiflexion_dps: np.ndarray, swing: np.ndarray) -> np.ndarray:
        """Delayed stretch-velocity torque; each walker's ring buffer advances only in swing,
        as in the single plant."""
        c = self._c
        pos = self._spas_pos
        delayed = self._spas_buf[pos, self._idx]
        self._spas_buf[pos, self._idx] = np.where(swing, dorsiflexion_dps, delayed)
        self._spas_pos = np.where(swing, (pos + 1) % self._spas_n, pos)
        return c["spasticity_gain_nms_per_deg"] * np.maximum(0.0, delayed - c["spasticity_threshold_dps"])

    def _roll_alpha(self, blk: Block, i: int) -> np.ndarray:
        out = np.zeros(self.n)
        seg = self.seg
        for w in np.flatnonzero(self._lock == _TOE):
            out[w] = contact_angle(float(blk.ankle_z[i][w]), float(seg.toe_forward[w]), float(seg.toe_below[w])) + float(blk.slope[i][w])
        return out

    def _foot_flat(self, w: int, blk: Block, i: int) -> None:
        """Forefoot contact of walker ``w`` (as ``WalkingPlant._foot_flat``)."""
        self._legs[w].foot_flat(-float(self._alpha_dot[w] + blk.psi_a_dot[i][w]) * 180.0 / math.pi)
        flat = float(blk.slope[i][w])
        self._lock[w] = _NO_LOCK
        self._toe_landing[w] = True
        self._alpha[w] = max(float(self._alpha[w]), flat)
        self._lr_delta[w] = self._alpha[w] - min(float(blk.alpha_ref[i][w]), flat)
        self._alpha_dot[w] = blk.alpha_ref_dot[i][w]

    def _contact(self, w: int, t_s: float, heel_first: bool, blk: Block, i: int) -> None:
        pitch = math.degrees(float(self._alpha[w] - blk.slope[i][w]))
        self._legs[w].initial_contact(t_s, heel_first, pitch, float(self._min_toe[w]), float(self._drag_s[w]), float(self._t_min_toe[w]))
        self._t_contact[w] = t_s
        self._swing[w] = False
        self._lock[w] = _HEEL if heel_first else _TOE
        self._min_toe[w] = np.inf
        self._t_min_toe[w] = np.nan
        self._drag_s[w] = 0.0

    def _on_event(self, w: int, ev: int, t_s: float, blk: Block, i: int) -> None:
        if ev == GaitEvent.HEEL_STRIKE:
            if self._lock[w] == _NO_LOCK and self._swing[w]:
                rel = float(self._alpha[w] - blk.slope[i][w])
                seg = self.seg
                toe_z = seg.toe_forward[w] * math.sin(rel) - seg.toe_below[w] * math.cos(rel)
                heel_z = -seg.heel_back[w] * math.sin(rel) - seg.heel_below[w] * math.cos(rel) - self._heel_contact[w]
                self._contact(w, t_s, bool(heel_z <= toe_z), blk, i)
            if self._lock[w] == _TOE:
                self._toe_landing[w] = True
                self._lock[w] = _NO_LOCK
                self._lr_delta[w] = self._alpha[w] - min(blk.alpha_ref[i][w], blk.slope[i][w])
        elif ev == GaitEvent.HEEL_OFF:
            if self._lock[w] == _HEEL:
                self._foot_flat(w, blk, i)
            self._legs[w].heel_off(t_s)
            self._ankle_min_po[w] = np.inf
        elif ev == GaitEvent.TOE_OFF:
            self._legs[w].toe_off(t_s, float(self._ankle_min_po[w]))
            self._lr_delta[w] = 0.0
        elif ev == WALK_END:
            if self._lock[w] == _HEEL:
                self._foot_flat(w, blk, i)
            self._legs[w].walk_end()
            self._swing[w] = False
            self._lock[w] = _NO_LOCK

    def _resting_toe_mm(self, rel: np.ndarray) -> np.ndarray:
        """Toe height of a foot on the ground, resting on its lowest point (as the single plant)."""
        seg = self.seg
        toe = seg.toe_forward * np.sin(rel) - seg.toe_below * np.cos(rel)
        heel = -seg.heel_back * np.sin(rel) - seg.heel_below * np.cos(rel)
        return (toe - np.minimum(toe, heel)) * 1e3

    def _collect(self, k: int) -> dict[str, np.ndarray]:
        blk, i = self._blk, self._i
        ks = i // self.sub
        self.t_s = k / self.sample_rate_hz
        out = {name: blk.sensor[name][:, ks] for name in SENSOR_CHANNELS}
        out["t_s"] = np.full(self.n, self.t_s)
        rel = self._alpha - blk.slope[i]
        toe_mm = (blk.ankle_z[i] + self.seg.toe_forward * np.sin(rel) - self.seg.toe_below * np.cos(rel)) * 1e3
        in_swing = self._swing & (self._lock == _NO_LOCK)
        out.update(
            true_tilt_deg=blk.tilt[i].copy(), ankle_deg=np.degrees(self._alpha + blk.psi_a[i]),
            toe_height_mm=np.where(in_swing, toe_mm, self._resting_toe_mm(rel)), torque_nm=self._tau.copy(),
            fatigue=self._mu.copy(), in_swing=in_swing,
        )
        return out
