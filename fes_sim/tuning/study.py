"""The study file: what ``fes tune`` sweeps or optimises, over which walkers, scored how.

A study is a TOML file validated into :class:`Study` (the ``study`` config kind)::

    name = "charge_vs_clearance"
    controller = "walkaide_tilt"        # base controller: preset name or TOML file
    stimulator = "default"              # safety limits every parameter set must respect
    scenarios = ["walk", "false_triggers"]
    duration_s = 60.0

    [walkers]
    walker = "drop_foot_severe"
    population = 20                     # 0: the named walker alone

    [search]
    method = "lhs"                      # grid | random | lhs | differential_evolution
    samples = 64

    [[parameters]]
    path = "stimulation.current_ma"     # any numeric controller field, by dotted path
    lo = 15.0
    hi = 40.0

    [[parameters]]
    path = "stimulator.electrode_area_cm2"  # a stimulator field: each set is checked against its own limits
    lo = 15.9
    hi = 25.0

    [[parameters]]
    path = "stimulation.timing"         # a categorical field: its named settings
    values = ["fixed", "percent"]

    [objective]
    metric = "charge_per_stride_uc"
    goal = "minimize"

    [[constraints]]
    metric = "mtc_p5_mm"
    min = 10.0

:func:`load_study` checks everything before any simulation: unknown parameter
paths, empty ranges, values outside a field's own range, unknown presets (controller,
stimulator, walker, scenarios) and parameter corners beyond the stimulator's safety
limits all raise :class:`~fes_sim.errors.ConfigError` naming the file, the field,
the value and the allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fes_sim.config.schema import Config, from_mapping, param, read_toml
from fes_sim.errors import ConfigError
from fes_sim.plant import DEFAULT_PLANT_RATE_HZ, check_rates
from fes_sim.tuning.metrics import METRICS

Method = Literal["grid", "random", "lhs", "differential_evolution"]


@dataclass(frozen=True)
class ParameterRange(Config):
    """One searched controller or stimulator parameter: a range ``lo..hi``, explicit numbers, or named settings.

    Named settings (``values = ["fixed", "percent"]``) sweep a categorical field such
    as ``stimulation.timing``, ``stimulation.waveform`` or ``detector``.
    """

    path: str = param(
        "stimulation.current_ma",
        doc="dotted path into the controller config, e.g. stimulation.ramp_up_ms, or stimulator.<field> for a safety limit",
    )
    lo: float | None = param(None, doc="lower end of the range (in the field's unit)")
    hi: float | None = param(None, doc="upper end of the range")
    values: tuple[float | str, ...] = param(
        factory=tuple, doc="explicit numbers (grid method) or named settings of a categorical field (grid, random, lhs); replaces lo/hi",
    )

    def check(self) -> None:
        if self.values:
            if self.lo is not None or self.hi is not None:
                raise ConfigError(f"values: give either values or lo/hi for {self.path}, not both")
            if len({isinstance(v, str) for v in self.values}) > 1:
                raise ConfigError(f"values: {list(self.values)!r} mixes numbers and names for {self.path}")
            if len(set(self.values)) < len(self.values):
                raise ConfigError(f"values: {list(self.values)!r} repeats a value for {self.path}")
            return
        if self.lo is None or self.hi is None:
            raise ConfigError(f"lo: {self.path} needs lo and hi (or values)")
        if not self.lo < self.hi:
            raise ConfigError(f"hi: empty range for {self.path}: lo = {self.lo!r} is not below hi = {self.hi!r}")

    @property
    def categorical(self) -> bool:
        """Whether the values are named settings rather than numbers."""
        return bool(self.values) and isinstance(self.values[0], str)

    @property
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest value this parameter can take; for named settings the
        range ``0..n`` of their sampled index (a draw ``u`` picks ``values[int(u)]``)."""
        if self.categorical:
            return 0.0, float(len(self.values))
        if self.values:
            return min(self.values), max(self.values)  # type: ignore[type-var,return-value]
        assert self.lo is not None and self.hi is not None
        return self.lo, self.hi


@dataclass(frozen=True)
class WalkersConfig(Config):
    """Who walks: one named walker, or a population sampled around it."""

    walker: str = param("drop_foot_severe", doc="walker preset name or TOML file")
    population: int = param(0, lo=0, hi=10000, doc="walkers sampled around it (fes_sim.population); 0 = the walker alone")
    population_seed: int = param(7, lo=0, doc="seed of the population's sampled parameters")
    sensor_noise: float = param(1.0, lo=0, hi=5, doc="scale on the IMU noise densities, biases and bias walks (0 = ideal sensor)")


@dataclass(frozen=True)
class SearchConfig(Config):
    """How parameter sets are chosen."""

    method: Method = param("lhs", doc="grid, random, Latin hypercube or scipy.optimize.differential_evolution")
    samples: int = param(32, lo=1, hi=1_000_000, doc="parameter sets drawn by random and lhs")
    grid_points: int = param(5, lo=2, hi=1000, doc="points per parameter range (grid)")
    seed: int = param(0, lo=0, doc="seed of the sampler or optimiser")
    maxiter: int = param(20, lo=1, hi=10000, doc="differential evolution generations")
    popsize: int = param(8, lo=2, hi=1000, doc="differential evolution population per parameter")
    chunk: int = param(0, lo=0, hi=10000, doc="parameter sets per scheduled task; 0 = at most about 1000 walker lanes per task, a task for every worker")


@dataclass(frozen=True)
class ObjectiveConfig(Config):
    """The metric to optimise."""

    metric: str = param("charge_per_stride_uc", doc="a metric name (see fes_sim.tuning.metrics.METRICS)")
    goal: Literal["minimize", "maximize"] = param("minimize", doc="direction")

    def check(self) -> None:
        _check_metric(self.metric)


@dataclass(frozen=True)
class ConstraintConfig(Config):
    """A bound on one metric; a parameter set is feasible when every bound holds."""

    metric: str = param("toe_drag_rate", doc="a metric name")
    min: float | None = param(None, doc="the metric must be >= this")
    max: float | None = param(None, doc="the metric must be <= this")

    def check(self) -> None:
        _check_metric(self.metric)
        if self.min is None and self.max is None:
            raise ConfigError(f"min: constraint on {self.metric} needs min or max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigError(f"max: constraint on {self.metric} has min {self.min!r} above max {self.max!r}")


@dataclass(frozen=True)
class Study(Config):
    """A tuning study (the ``study`` config kind)."""

    name: str = param("study", doc="label used in outputs")
    controller: str = param("walkaide_tilt", doc="base controller preset name or TOML file")
    stimulator: str = param("default", doc="stimulator preset name or TOML file (safety limits)")
    scenarios: tuple[str, ...] = param(
        factory=lambda: ("walk",),
        doc="scenario preset names or TOML files; each walker runs each. Walk-only scenarios run vectorised; "
        "mixed ones (standing, sitting) run one scalar plant per lane, about 10-20x slower",
    )
    duration_s: float = param(60.0, unit="s", lo=1, hi=3600, doc="simulated time per walker and scenario")
    seed: int = param(1, lo=0, doc="run seed (walker i of a population runs with seed_of(seed, i))")
    sample_rate_hz: float = param(200.0, unit="Hz", lo=100, hi=1000, doc="shank sensor rate")
    plant_rate_hz: float = param(
        DEFAULT_PLANT_RATE_HZ, unit="Hz", lo=100, hi=5000,
        doc="walking simulator's rate, an integer multiple of sample_rate_hz; 200 runs the walk-only lanes about "
        "twice as fast and keeps a 2 kHz plant's clearances within 0.5 mm at p95 (docs/architecture.md)",
    )
    engine: Literal["lanes", "loop"] = param("lanes", doc="lanes: vectorised controller over shared detections; loop: the scalar closed loop")
    walkers: WalkersConfig = param(factory=WalkersConfig)
    search: SearchConfig = param(factory=SearchConfig)
    parameters: tuple[ParameterRange, ...] = param(factory=tuple, doc="searched parameters")
    objective: ObjectiveConfig = param(factory=ObjectiveConfig)
    constraints: tuple[ConstraintConfig, ...] = param(factory=tuple, doc="bounds a parameter set must meet")

    def check(self) -> None:
        check_rates(self.sample_rate_hz, self.plant_rate_hz)
        if not self.parameters:
            raise ConfigError("parameters: a study needs at least one [[parameters]] entry")
        if not self.scenarios:
            raise ConfigError("scenarios: a study needs at least one scenario")
        paths = [p.path for p in self.parameters]
        for i, path in enumerate(paths):
            if path in paths[:i]:
                raise ConfigError(f"parameters[{i}].path: {path!r} appears twice")
        for i, p in enumerate(self.parameters):
            if p.categorical and self.search.method == "differential_evolution":
                raise ConfigError(
                    f"parameters[{i}].values: named settings {list(p.values)!r} of {p.path} cannot be searched by "
                    "differential_evolution, a continuous optimiser (use method = 'grid', 'random' or 'lhs')"
                )
            if p.values and not p.categorical and self.search.method != "grid":
                raise ConfigError(f"parameters[{i}].values: explicit values need method = 'grid' (give lo and hi for {self.search.method})")


def _check_metric(name: str) -> None:
    if name not in METRICS:
        raise ConfigError(f"metric: unknown metric {name!r} (known: {', '.join(METRICS)})")


def load_study(path: str | Path) -> Study:
    """Read and fully validate a study file before any work starts.

    Raises
    ------
    ConfigError
        Naming the file, the field, the value and what is allowed: unknown keys or
        parameter paths, empty ranges, values outside a field's range, unknown
        controller, stimulator, walker or scenario presets (or files), or parameter
        corners beyond the stimulator's safety limits
        (:class:`~fes_sim.errors.SafetyLimitError`).
    """
    from fes_sim.tuning.workload import Workload

    study = from_mapping(Study, read_toml(path), str(path))
    try:
        Workload.from_study(study).space.validate()
    except ConfigError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    return study

