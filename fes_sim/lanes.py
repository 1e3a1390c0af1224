"""Walker lanes: the state of the compiled plant step (:mod:`fes_sim.population_kernel`).

:class:`Lanes` holds what :func:`~fes_sim.population_kernel.advance` reads and writes for N
walkers (muscle, foot, delay lines, stride bookkeeping and each walker's constants) and
advances them over part of a block. :class:`~fes_sim.population.Population` holds N lanes,
:class:`~fes_sim.plant.WalkingPlant` one, so a lone walker and a population run the same
compiled equations.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Sequence

import numpy as np

from fes_sim import population_kernel as kn
from fes_sim.body.block import LOADING_TAU_S, Block
from fes_sim.body.foot import FootBody, SwingFoot
from fes_sim.body.loading import HeelRocker
from fes_sim.body.muscle import emd_steps
from fes_sim.body.spasticity import reflex_decays, reflex_line_length
from fes_sim.body.strides import LEG_STATE_SIZE
from fes_sim.gait.motion import Segments
from fes_sim.gait.walker import WalkerConfig

#: sensor periods per call of the compiled step at most (bounds its event and stride buffers)
SAMPLES_PER_CALL = 32
#: walker fields the muscle equations read
_MUSCLE_FIELDS: tuple[str, ...] = (
    "tau_act_ms", "tau_deact_ms", "max_evoked_torque_nm", "surviving_axon_fraction", "fatigue_mu_min", "fatigue_time_s", "recovery_time_s",
    "charge_half_uc", "charge_width_uc", "fusion_constant_s",
)
_WALKER_FIELDS = frozenset(f.name for f in dataclasses.fields(WalkerConfig))
_NONE = np.empty((0, 0))


def lane_constants(walkers: Sequence[WalkerConfig], heel_contact_m: np.ndarray) -> np.ndarray:
    """The constant array ``C`` of :mod:`fes_sim.population_kernel`, one row per walker."""
    col: Callable[[str], np.ndarray] = lambda name: np.array([float(getattr(w, name)) for w in walkers])  # noqa: E731
    n = len(walkers)
    seg = Segments.of(col("height_m"))
    foot = FootBody.of(col("height_m"), col("mass_kg"), col("shoe_mass_kg"), col("foot_inertia_kgm2"))
    c = {name: col(name) for name in (*_MUSCLE_FIELDS, *kn.K_FIELDS) if name in _WALKER_FIELDS}
    rocker = HeelRocker.of(col, foot, seg.heel_back, seg.heel_below)
    swing = SwingFoot.of(col, foot)
    return kn.constants({
        **c, "tau_act_s": c["tau_act_ms"] * 1e-3, "tau_deact_s": c["tau_deact_ms"] * 1e-3,
        "t_max_nm": c["max_evoked_torque_nm"] * c["surviving_axon_fraction"], "toe_forward_m": seg.toe_forward, "toe_below_m": seg.toe_below,
        "heel_back_m": seg.heel_back, "heel_below_m": seg.heel_below, "heel_contact_m": np.broadcast_to(heel_contact_m, (n,)),
        **{f"swing_{f.name}": np.broadcast_to(getattr(swing, f.name), (n,)) for f in dataclasses.fields(swing)},
        **{f"rocker_{f.name}": np.broadcast_to(getattr(rocker, f.name), (n,)) for f in dataclasses.fields(rocker)},
    })


class Lanes:
    """N walkers' state for the compiled plant step.

    Parameters
    ----------
    walkers
        One profile per lane (Riener force model).
    row
        Block row of each lane (lanes that repeat a walker and its run may share one).
    heel_contact_m
        Heel height counted as floor contact, per lane.
    plant_rate_hz, sub
        Plant rate and plant steps per sensor period.
    """

    def __init__(self, walkers: Sequence[WalkerConfig], row: np.ndarray, heel_contact_m: np.ndarray, plant_rate_hz: float, sub: int) -> None:
        n = self.n = len(walkers)
        self.row = np.asarray(row, np.int64)
        self.sub = sub
        self.plant_rate_hz = plant_rate_hz
        self.dt = 1.0 / plant_rate_hz
        self.C = lane_constants(walkers, heel_contact_m)
        self.kind = np.array([kn.RECRUITMENT_KINDS.index(w.recruitment) for w in walkers])
        emd_n = np.array([emd_steps(w.emd_ms, plant_rate_hz) for w in walkers])
        spas_n = reflex_line_length(np.array([w.spasticity_delay_ms for w in walkers]), plant_rate_hz)
        self.F = np.zeros((n, kn.N_FLOAT))
        self.I = np.zeros((n, kn.N_FLAG), np.int64)  # noqa: E741
        self.F[:, kn.F_MU] = 1.0
        self.F[:, kn.F_MIN_TOE] = np.inf
        self.F[:, kn.F_T_MIN_TOE] = np.nan
        self.F[:, kn.F_ANKLE_MIN_PO] = np.inf
        self.F[:, [kn.F_DECAY_U, kn.F_CUR, kn.F_PW, kn.F_FREQ, kn.F_TRIG_RAD]] = np.nan
        self.I[:, kn.I_EMD_N] = emd_n
        self.I[:, kn.I_SPAS_N] = spas_n
        self.emd_buf = np.zeros((n, int(emd_n.max()) + 1))
        self.emd_pos = 0
        self.spas_buf = np.zeros((n, int(np.max(spas_n))))
        self.leg = np.zeros((n, LEG_STATE_SIZE))
        self.lr_decay = math.exp(-self.dt / LOADING_TAU_S)
        self.reflex_decays = reflex_decays(self.dt)
        self._event_buf = np.empty((kn.EVENTS_PER_STEP * sub * SAMPLES_PER_CALL * n, kn.EVENT_WIDTH))
        self._stride_buf = np.empty((sub * SAMPLES_PER_CALL * n, kn.STRIDE_WIDTH))

    def start(self, blk: Block) -> None:
        """Put each foot on its prescribed path at the block's first step."""
        self.F[:, kn.F_ALPHA] = blk.alpha_ref[self.row, 0]
        self.F[:, kn.F_ALPHA_DOT] = blk.alpha_ref_dot[self.row, 0]

    def set_walker(self, walker: WalkerConfig, heel_contact_m: float) -> None:
        """A lone lane's walker changes: new constants; muscle, foot and fatigue states carry on.
        A delay line whose length changes restarts empty (drive or reflex in flight is dropped)."""
        self.C = lane_constants([walker], np.array([heel_contact_m]))
        self.kind[0] = kn.RECRUITMENT_KINDS.index(walker.recruitment)
        self.F[0, [kn.F_DECAY_U, kn.F_CUR, kn.F_PW, kn.F_FREQ]] = np.nan  # a new drive and activation decay at the next step
        emd_n = emd_steps(walker.emd_ms, self.plant_rate_hz)
        if emd_n != self.I[0, kn.I_EMD_N]:
            self.I[0, kn.I_EMD_N] = emd_n
            self.emd_buf = np.zeros((1, emd_n + 1))
            self.emd_pos = 0
        spas_n = int(reflex_line_length(walker.spasticity_delay_ms, self.plant_rate_hz))
        if spas_n != self.I[0, kn.I_SPAS_N]:
            self.I[0, kn.I_SPAS_N] = spas_n
            self.I[0, kn.I_SPAS_POS] = 0
            self.spas_buf = np.zeros((1, spas_n))

    def advance(self, blk: Block, i0: int, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every lane over K sensor periods (inputs (K, N), K <= :data:`SAMPLES_PER_CALL`)
        from step ``i0`` of block ``blk``; the true events and completed strides of those periods
        as rows (views of reused buffers: copy what you keep)."""
        n_ev, n_str = kn.advance(
            i0, self.sub, blk.start, self.dt, self.lr_decay, *self.reflex_decays, current_ma, pulse_width_us, frequency_hz, self.kind, self.row,
            blk.record, self.C, self.F, self.I, self.emd_buf, self.emd_pos, self.spas_buf, self.leg, self._event_buf, self._stride_buf,
        )
        self.emd_pos = (self.emd_pos + current_ma.shape[0] * self.sub) % self.emd_buf.shape[1]
        return (self._event_buf[:n_ev] if n_ev else _NONE), (self._stride_buf[:n_str] if n_str else _NONE)
