"""Many walkers in one vectorised numpy pass, stepped like the single plant.

``Population`` is the interface a vectorised controller drives::

    pop = Population.sample(get_preset("walker", "drop_foot_severe"), n=1000, seed=7)
    out = pop.reset(seed=1)                     # dict of arrays (N,): sensor channels and truth
    out = pop.step(current_ma, pulse_width_us, frequency_hz)   # arrays of length N
    pop.advance(current_ma, pulse_width_us, frequency_hz)      # or: no outputs, and
    sensors = pop.sensors()                     # only the sensor channels (faster: see advance)
    pop.strides[i]                              # StrideOutcome list of walker i

``Population(..., sensor_output=False)`` simulates no sensor, for a controller that reads
detections made beforehand (``fes tune``).

Walker ``i`` of a run with ``seed`` is :class:`~fes_sim.plant.WalkingPlant` with seed
``seed_of(seed, i)`` at the same rates: the same blocks and the same compiled step, which
holds N walker lanes here and one there (:mod:`fes_sim.lanes`; the test suite checks the
two agree). Prescribed motion and sensor output are built per block for
all walkers at once, once per distinct (walker, run seed) pair: walkers that repeat another
with the same run seed (``fes tune`` runs each walker once per parameter set) read its rows.
The muscle and foot equations and the gait events run in compiled calls over the walkers
(:mod:`fes_sim.population_kernel`), each covering one sensor period or, for periods run ahead
(:meth:`Population.advance_many`) or held back (:meth:`Population.advance`), up to
:data:`~fes_sim.lanes.SAMPLES_PER_CALL` of them; the stride records are assembled from the
rows they leave when they are read.

Limits: the Riener force model and no orthosis. Walk-only scenarios build the
prescribed motion for all walkers at once; scenarios with other activities evaluate each
walker's motion in turn, which is several times slower.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from fes_sim.body.block import SENSOR_CHANNELS, BlockBuilder
from fes_sim.body.strides import STRIDE_FIELDS, StrideOutcome, stride_outcome
from fes_sim.errors import ConfigError
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim import population_kernel as kn
from fes_sim.lanes import SAMPLES_PER_CALL, Lanes
from fes_sim.plant import DEFAULT_PLANT_RATE_HZ, check_rates
from fes_sim.samples import GaitEvent
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

#: column of a stride's end in the compiled step's stride rows (walker, then the stride fields)
_STRIDE_END = 1 + STRIDE_FIELDS.index("t_end_s")
#: ground-truth arrays returned beside the sensor channels
TRUTH_FIELDS: tuple[str, ...] = (*kn.TRUTH_ROWS, "in_swing")


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
    sensor_output
        ``False``: the outputs hold no sensor channels, which are then not simulated (about a
        third of the work at a 200 Hz plant); the plant's motion and results are the same.
        For a controller that does not read the plant's sensor, such as ``fes tune``'s, which
        reads detections made beforehand.
    """

    def __init__(
        self, walkers: Sequence[WalkerConfig], *, scenario: Scenario | None = None, sensor: SensorConfig | None = None,
        sample_rate_hz: float = 200.0, plant_rate_hz: float = DEFAULT_PLANT_RATE_HZ, sensor_output: bool = True,
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
        self.plant_rate_hz = float(plant_rate_hz)
        self.sensor_output = sensor_output
        self.t_s = 0.0

    @classmethod
    def sample(cls, base: WalkerConfig, n: int, seed: int, **kwargs) -> "Population":
        """A population of ``n`` walkers sampled around ``base``."""
        return cls(sample_walkers(base, n, seed), **kwargs)

    @property
    def strides(self) -> list[list[StrideOutcome]]:
        """Completed strides of each walker."""
        walker, rows = self.stride_table()  # (runs held-back periods)
        if len(rows) > self._strides_seen:
            for w, row in zip(walker[self._strides_seen :].tolist(), rows[self._strides_seen :].tolist()):
                self._strides[w].append(stride_outcome(row))
            self._strides_seen = len(rows)
        return self._strides

    def stride_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Completed strides of all walkers as arrays: the walker of each, and its
        :data:`~fes_sim.body.strides.STRIDE_FIELDS`, in order of completion (``t_end_s``, then
        walker), however the periods were run."""
        self._flush()
        if len(self._stride_rows) > 1:
            self._stride_rows = [np.concatenate(self._stride_rows)]
        rows = self._stride_rows[0] if self._stride_rows else np.empty((0, kn.STRIDE_WIDTH))
        return rows[:, 0].astype(np.int64), rows[:, 1:]

    @property
    def events(self) -> list[list[tuple[float, GaitEvent]]]:
        """True events of each walker."""
        self._flush()
        out: list[list[tuple[float, GaitEvent]]] = [[] for _ in range(self.n)]
        for w, code, t_s in (np.concatenate(self._events) if self._events else np.empty((0, 3))).tolist():
            out[int(w)].append((t_s, GaitEvent(int(code))))
        return out

    # ------------------------------------------------------------------ API
    def reset(self, seed: int, seeds: Sequence[int] | None = None) -> dict[str, np.ndarray]:
        """Start every walker (walker i with :func:`seed_of` (seed, i)); arrays at t = 0.

        ``seeds`` gives walker i the run seed ``seeds[i]`` instead (as ``WalkingPlant.reset(seeds[i])``),
        so lanes that repeat a walker can repeat its run too (``fes tune``): such lanes share
        the blocks of the first of them.
        """
        n = self.n
        run_seeds = [seed_of(seed, i) for i in range(n)] if seeds is None else [int(s) for s in seeds]
        if len(run_seeds) != n:
            raise ConfigError(f"seeds: {len(run_seeds)} seeds for {n} walkers")
        pairs: dict[tuple[WalkerConfig, int], int] = {}
        self._row = np.array([pairs.setdefault((w, s), len(pairs)) for w, s in zip(self.walkers, run_seeds)], np.int64)
        self._builder = BlockBuilder(
            [w for w, _ in pairs], self.scenario, self.sensor, self.sample_rate_hz, self.sub, [s for _, s in pairs], reuse=True,
            sensor_output=self.sensor_output,
        )
        self._all_rows = len(pairs) == n
        self._events: list[np.ndarray] = []
        self._stride_rows: list[np.ndarray] = []
        self._strides: list[list[StrideOutcome]] = [[] for _ in range(n)]
        self._strides_seen = 0
        self._blk = self._builder.build(0)
        self._i = 0
        self._k = 0
        self._held = np.empty((3, SAMPLES_PER_CALL, n))  # stimulation of the periods advance() holds back
        self._pending = 0
        heel_contact = np.atleast_1d(self._builder.heel_contact_m)[self._row]
        self._lanes = Lanes(self.walkers, self._row, heel_contact, self.plant_rate_hz, self.sub)
        self._lanes.start(self._blk)
        return self._collect()

    def step(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> dict[str, np.ndarray]:
        """One sensor period for every walker with its own stimulation output (arrays of N, or scalars)."""
        self.advance(current_ma, pulse_width_us, frequency_hz)
        return self._collect()

    def advance(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> None:
        """:meth:`step` without its outputs (read :meth:`sensors`, :attr:`fatigue`, :attr:`strides` as needed).

        The periods are held back and run together, up to :data:`~fes_sim.lanes.SAMPLES_PER_CALL`
        of them or to the block's end, or as soon as anything reads the plant (its truth,
        fatigue, strides or events): the same numbers in fewer calls of the compiled step,
        for a controller that reads only the sensor (:meth:`sensors`).
        """
        p = self._pending
        held = self._held
        held[0, p : p + 1] = current_ma  # scalars, (N,) or (1, N) values (arrays or lists), as numpy broadcasts them
        held[1, p : p + 1] = pulse_width_us
        held[2, p : p + 1] = frequency_hz
        self._pending = p + 1
        if self._pending == SAMPLES_PER_CALL or self._i // self.sub + self._pending == self._builder.block_samples:
            self._flush()

    def sensors(self) -> dict[str, np.ndarray]:
        """The sensor channels and ``t_s`` of the latest period, as :meth:`step` returns them, without
        running held-back periods (the sensor does not depend on the stimulation)."""
        return self._sensor_outputs(self._k + self._pending, self._i // self.sub + self._pending)

    def advance_many(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> None:
        """Several sensor periods: period ``k`` holds row ``k`` of ``current_ma`` (K, N); pulse width and
        frequency are (K, N), (N,) or scalars. The same as K calls of :meth:`advance`, in fewer calls
        of the compiled step (a controller that does not read the plant can run ahead)."""
        self._flush()
        current = np.asarray(current_ma, float)
        self._run(current, *(self._periods(x, current.shape) for x in (pulse_width_us, frequency_hz)))

    def _flush(self) -> None:
        """Run the periods that :meth:`advance` holds back (those not run keep waiting if it is interrupted)."""
        p, k0 = self._pending, self._k
        if not p:
            return
        try:
            held = self._held
            self._run(held[0, :p], held[1, :p], held[2, :p])
        finally:
            ran = self._k - k0
            if ran < p:
                self._held[:, : p - ran] = self._held[:, ran:p].copy()
            self._pending = p - ran

    def _run(self, current: np.ndarray, pw: np.ndarray, freq: np.ndarray) -> None:
        """Periods (rows of the (K, N) arrays) in calls of the compiled step, building blocks as they end."""
        k_all = current.shape[0]
        k = 0
        while k < k_all:
            if self._i >= self._builder.block_substeps:  # a block ended and its successor is not built (an interrupted build)
                self._next_block()
            blk, per_block = self._blk, self._builder.block_substeps // self.sub
            m = min(k_all - k, per_block - self._i // self.sub, SAMPLES_PER_CALL)
            events, strides = self._lanes.advance(blk, self._i, current[k:k + m], pw[k:k + m], freq[k:k + m])
            if len(events):
                self._events.append(events.copy())
            if len(strides):  # a call leaves them walker by walker: in order of completion, then walker
                self._stride_rows.append(strides[np.lexsort((strides[:, 0], strides[:, _STRIDE_END]))])
            self._i += m * self.sub
            self._k += m
            k += m
            if self._i >= self._builder.block_substeps:
                self._next_block()

    def _next_block(self) -> None:
        """Build the block that follows the current one and start at its first step."""
        self._blk = self._builder.build(self._blk.end // self._builder.block_substeps)
        self._i = 0

    @property
    def fatigue(self) -> np.ndarray:
        """Riener fitness of every walker (1 = fresh), as a new array."""
        self._flush()
        return self._lanes.F[:, kn.F_MU].copy()

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _periods(x: np.ndarray | float, shape: tuple[int, int]) -> np.ndarray:
        """``x`` (scalar, (N,) or (K, N)) as (K, N) floats, a view without copy where it can be."""
        a = np.asarray(x, float)
        return a if a.shape == shape else np.broadcast_to(a, shape)

    def _sensor_outputs(self, k: int, ks: int) -> dict[str, np.ndarray]:
        """The sensor channels at sample ``ks`` of the block and ``t_s`` of period ``k``."""
        blk = self._blk
        pick = slice(None) if self._all_rows else self._row
        out = {name: blk.sensor[name][pick, ks] for name in SENSOR_CHANNELS} if self.sensor_output else {}
        t_s = out["t_s"] = np.empty(self.n)
        t_s.fill(k / self.sample_rate_hz)  # (numpy.full takes a microsecond longer)
        return out

    def _collect(self) -> dict[str, np.ndarray]:
        """Every output of the latest period (running held-back periods first)."""
        self._flush()
        blk, i, lanes = self._blk, self._i, self._lanes
        self.t_s = self._k / self.sample_rate_hz
        out = self._sensor_outputs(self._k, i // self.sub)
        truth, in_swing = np.empty((len(kn.TRUTH_ROWS), self.n)), np.empty(self.n, np.bool_)
        kn.truth(i, self._row, blk.record, lanes.C, lanes.F, lanes.I, truth, in_swing)
        out.update(zip(kn.TRUTH_ROWS, truth))
        out["in_swing"] = in_swing
        return out
