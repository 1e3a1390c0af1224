"""The search space: controller parameters by dotted path, their checks and samplers.

A parameter set is a sequence of values, one per :class:`~fes_sim.tuning.study.ParameterRange`
in study order: a number, or the name of a categorical setting (``"percent"`` for
``stimulation.timing``). Samplers return float arrays in which a categorical column
holds an index into its names; :meth:`SearchSpace.decode` turns a row into values and
:meth:`SearchSpace.apply` turns values into a checked
:class:`~fes_sim.control.config.ControllerConfig`. Every safety figure of
:func:`fes_sim.control.limits.check_settings` rises or falls monotonically with each
numeric parameter, so the worst case over the box of ranges is at one of its corners
(with every combination of named settings): :meth:`SearchSpace.validate` builds the
device pipeline at every corner, and a study whose box holds any unsafe setting is
refused before work starts.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import typing
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from scipy.stats import qmc

from fes_sim.config import resolve
from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.errors import ConfigError, SafetyLimitError
from fes_sim.tuning.study import ParameterRange, Study

#: corners of at most this many parameters are checked exhaustively (2**12 pipelines)
MAX_CORNER_PARAMS = 12

#: named settings that are not tuning targets (the lanes engine runs gait mode and off)
_REFUSED_SETTINGS = {"mode": ("exercise",)}

Value = float | str


@functools.lru_cache(maxsize=None)
def _field_type(path: str) -> typing.Any:
    """Type of the controller field at ``path`` (e.g. ``tilt.heel_off_fraction``): float, int or a Literal of names."""
    cls: type = ControllerConfig
    parts = path.split(".")
    for depth, name in enumerate(parts):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        where = ".".join(parts[:depth]) or "controller"
        if name not in fields:
            raise ConfigError(f"{path!r} is not a controller parameter ({where} has: {', '.join(sorted(fields))})")
        tp = typing.get_type_hints(cls)[name]
        if depth < len(parts) - 1:
            if not dataclasses.is_dataclass(tp):
                raise ConfigError(f"{path!r} is not a controller parameter ({'.'.join(parts[:depth + 1])} is not a table)")
            cls = tp
        elif tp not in (float, int) and typing.get_origin(tp) is not Literal:
            raise ConfigError(f"{path!r} is neither a numeric nor a categorical controller parameter (it is a {getattr(tp, '__name__', tp)})")
    return tp


def _settings(path: str) -> tuple[str, ...] | None:
    """The named settings of a categorical field, None for a numeric one."""
    tp = _field_type(path)
    return typing.get_args(tp) if typing.get_origin(tp) is Literal else None


def _replace_path(cfg: typing.Any, parts: list[str], value: Value) -> typing.Any:
    if len(parts) == 1:
        return cfg.replace(**{parts[0]: value})
    return cfg.replace(**{parts[0]: _replace_path(getattr(cfg, parts[0]), parts[1:], value)})


def _check_parameter(p: ParameterRange) -> None:
    """The parameter's values suit its field: names of a categorical one, whole numbers of an int one.

    Errors start with the parameter's field (``values[1]: ...``)."""
    names = _settings(p.path)
    if names is not None:
        allowed = ", ".join(repr(n) for n in names)
        if not p.categorical:
            raise ConfigError(f"values: {p.path} takes one of {allowed}: give values = [...] of those names, not numbers")
        for j, v in enumerate(p.values):
            if v not in names or v in _REFUSED_SETTINGS.get(p.path, ()):
                ok = ", ".join(repr(n) for n in names if n not in _REFUSED_SETTINGS.get(p.path, ()))
                raise ConfigError(f"values[{j}]: {v!r} is not a setting of {p.path} to tune (allowed: {ok})")
    elif p.categorical:
        raise ConfigError(f"values: {p.path} is a number, not one of {list(p.values)!r}")
    elif _field_type(p.path) is int:
        labels = [f"values[{j}]" for j in range(len(p.values))] if p.values else ["lo", "hi"]
        for label, v in zip(labels, p.values or (p.lo, p.hi)):
            if v != int(v):  # type: ignore[arg-type]
                raise ConfigError(f"{label}: {p.path} takes whole numbers, not {v!r}")


@dataclass(frozen=True)
class SearchSpace:
    """Parameters of a study applied to its base controller, checked against its stimulator."""

    base: ControllerConfig
    stimulator: StimulatorConfig
    parameters: tuple[ParameterRange, ...]
    sample_rate_hz: float = 200.0

    @classmethod
    def from_study(cls, study: Study) -> "SearchSpace":
        """Resolve the study's base controller and stimulator; check every parameter path and its values."""
        space = cls(
            _resolve("controller", study.controller),
            _resolve("stimulator", study.stimulator),
            study.parameters,
            study.sample_rate_hz,
        )
        for i, p in enumerate(space.parameters):
            try:
                _field_type(p.path)
            except ConfigError as exc:
                raise ConfigError(f"parameters[{i}].path: {exc}") from None
            try:
                _check_parameter(p)
            except ConfigError as exc:
                raise ConfigError(f"parameters[{i}].{exc}") from None
        return space

    @property
    def names(self) -> tuple[str, ...]:
        """Dotted paths in study order."""
        return tuple(p.path for p in self.parameters)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """(lo, hi) of each parameter (of its index for named settings)."""
        return [p.bounds for p in self.parameters]

    def decode(self, row: Sequence[float]) -> list[Value]:
        """Values of one sampled row: numbers as floats, categorical indices as their names."""
        return [p.values[min(int(v), len(p.values) - 1)] if p.categorical else float(v) for p, v in zip(self.parameters, row, strict=True)]

    def apply(self, values: Sequence[Value]) -> ControllerConfig:
        """The base controller with ``values`` set (checked on construction)."""
        cfg = self.base
        for p, v in zip(self.parameters, values, strict=True):
            value = int(round(v)) if _field_type(p.path) is int else v  # type: ignore[arg-type]
            cfg = _replace_path(cfg, p.path.split("."), value)
        return cfg

    def check_safe(self, cfg: ControllerConfig) -> None:
        """Raise SafetyLimitError when ``cfg`` is beyond the stimulator's limits."""
        from fes_sim.device import DevicePipeline

        DevicePipeline(cfg, self.stimulator, self.sample_rate_hz)

    def validate(self) -> None:
        """Refuse ranges outside a field's own range and corners beyond the safety limits."""
        if self.base.mode == "exercise":
            raise ConfigError("controller: exercise mode has no gait timing to tune (use a gait-mode controller)")
        base_values = [_base_value(self.base, p.path) for p in self.parameters]
        for i, p in enumerate(self.parameters):
            labels = [f"values[{j}]" for j in range(len(p.values))] if p.categorical else ["lo", "hi"]
            for label, v in zip(labels, _extremes(p)):
                try:
                    self.apply([v if j == i else b for j, b in enumerate(base_values)])
                except ConfigError as exc:
                    raise ConfigError(f"parameters[{i}] ({p.path}) {label} = {v!r}: {exc}") from None
        k = len(self.parameters)
        idx = range(k) if k <= MAX_CORNER_PARAMS else [i for i, p in enumerate(self.parameters) if _safety_relevant(p.path)]
        for corner in itertools.product(*[_extremes(self.parameters[i]) for i in idx]):
            values = list(base_values)
            for i, v in zip(idx, corner):
                values[i] = v
            where = ", ".join(f"{self.parameters[i].path} = {v!r}" for i, v in zip(idx, corner))
            try:
                self.check_safe(self.apply(values))
            except SafetyLimitError as exc:
                raise SafetyLimitError(f"parameters ({where}): {exc}") from None
            except ConfigError as exc:
                raise ConfigError(f"parameters ({where}): {exc}") from None

    # ------------------------------------------------------------------ samplers
    def grid(self, points: int) -> np.ndarray:
        """Every combination of each parameter's values (or ``points`` evenly spaced ones); named settings as indices."""
        axes = [
            np.arange(len(p.values), dtype=float) if p.categorical else np.asarray(p.values, float) if p.values else np.linspace(*p.bounds, points)
            for p in self.parameters
        ]
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(axes))

    def random(self, n: int, seed: int) -> np.ndarray:
        """``n`` sets drawn uniformly in the box (each named setting equally likely)."""
        lo, hi = np.array(self.bounds, float).T
        return np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo)))

    def lhs(self, n: int, seed: int) -> np.ndarray:
        """``n`` sets of a Latin hypercube (scipy.stats.qmc) scaled to the box (named settings stratified too)."""
        lo, hi = np.array(self.bounds, float).T
        unit = qmc.LatinHypercube(d=len(lo), seed=np.random.default_rng(seed)).random(n)
        return qmc.scale(unit, lo, hi)


_SAFETY_PATHS = ("stimulation.", "faults.fault_ramp_down_ms", "exercise.on_s", "mode")


def _safety_relevant(path: str) -> bool:
    return path.startswith(_SAFETY_PATHS)


def _extremes(p: ParameterRange) -> list[Value]:
    """Values a safety corner takes: both ends of a range, or every named setting."""
    return list(p.values) if p.categorical else list(p.bounds)


def _base_value(cfg: typing.Any, path: str) -> Value:
    for name in path.split("."):
        cfg = getattr(cfg, name)
    return cfg if isinstance(cfg, str) else float(cfg)


def _resolve(kind: str, name: str) -> typing.Any:
    try:
        return resolve(kind, name)
    except ConfigError as exc:
        raise ConfigError(f"{kind}: {exc}") from None
