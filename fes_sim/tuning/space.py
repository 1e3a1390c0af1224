"""The search space: controller and stimulator parameters by dotted path, their checks and samplers.

A parameter path names a controller field (``stimulation.current_ma``) or, after
``stimulator.``, a field of the study's stimulator (``stimulator.max_current_ma``).
A parameter set is a sequence of values, one per :class:`~fes_sim.tuning.study.ParameterRange`
in study order: a number, or the name of a categorical setting (``"percent"`` for
``stimulation.timing``). Samplers return float arrays in which a categorical column
holds an index into its names; :meth:`SearchSpace.decode` turns a row into values,
:meth:`SearchSpace.apply` turns values into a checked
:class:`~fes_sim.control.config.ControllerConfig` and :meth:`SearchSpace.stimulator_for`
into the :class:`~fes_sim.control.limits.StimulatorConfig` that set runs with. Every
safety figure of :func:`fes_sim.control.limits.check_settings` rises or falls
monotonically with each numeric parameter (a setting or a limit), so the worst case
over the box of ranges is at one of its corners (with every combination of named
settings): :meth:`SearchSpace.validate` builds the device pipeline at every corner, and
a study whose box holds any unsafe setting is refused before work starts.
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

#: a parameter path starting with this names a field of the study's stimulator
STIMULATOR = "stimulator."


def _owner(path: str) -> tuple[str, type, list[str]]:
    """``("controller" | "stimulator", its config class, the path inside it)``."""
    if path.startswith(STIMULATOR):
        return "stimulator", StimulatorConfig, path.removeprefix(STIMULATOR).split(".")
    return "controller", ControllerConfig, path.split(".")


@functools.lru_cache(maxsize=None)
def _field_type(path: str) -> typing.Any:
    """Type of the field at ``path`` (e.g. ``tilt.heel_off_fraction``, ``stimulator.max_current_ma``): float, int or a Literal of names."""
    owner, cls, parts = _owner(path)
    for depth, name in enumerate(parts):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if name not in fields:
            where = ".".join(parts[:depth]) or owner
            hint = "; stimulator limits as stimulator.<field>" if owner == "controller" and depth == 0 else ""
            raise ConfigError(f"{path!r} is not a {owner} parameter ({where} has: {', '.join(sorted(fields))}{hint})")
        tp = typing.get_type_hints(cls)[name]
        if depth < len(parts) - 1:
            if not dataclasses.is_dataclass(tp):
                raise ConfigError(f"{path!r} is not a {owner} parameter ({'.'.join(parts[:depth + 1])} is not a table)")
            cls = tp
        elif tp not in (float, int) and typing.get_origin(tp) is not Literal:
            raise ConfigError(f"{path!r} is neither a numeric nor a categorical {owner} parameter (it is a {getattr(tp, '__name__', tp)})")
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
    """Parameters of a study applied to its base controller and stimulator; each set is checked against its own stimulator."""

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
        """The base controller with the controller values of ``values`` set (checked on construction)."""
        return self._set("controller", values)

    def stimulator_for(self, values: Sequence[Value]) -> StimulatorConfig:
        """The study's stimulator with the ``stimulator.*`` values of ``values`` set (checked on construction)."""
        return self._set("stimulator", values)

    def _root(self, owner: str) -> typing.Any:
        return self.stimulator if owner == "stimulator" else self.base

    def _set(self, owner: str, values: Sequence[Value]) -> typing.Any:
        cfg = self._root(owner)
        for p, v in zip(self.parameters, values, strict=True):
            field_owner, _, parts = _owner(p.path)
            if field_owner == owner:
                cfg = _replace_path(cfg, parts, int(round(v)) if _field_type(p.path) is int else v)  # type: ignore[arg-type]
        return cfg

    def check_safe(self, values: Sequence[Value]) -> None:
        """Raise SafetyLimitError when the controller of ``values`` is beyond the limits of its stimulator."""
        from fes_sim.device import DevicePipeline

        DevicePipeline(self.apply(values), self.stimulator_for(values), self.sample_rate_hz)

    def validate(self) -> None:
        """Refuse ranges outside a field's own range and corners beyond the safety limits."""
        if self.base.mode == "exercise":
            raise ConfigError("controller: exercise mode has no gait timing to tune (use a gait-mode controller)")
        base_values = [self._base_value(p.path) for p in self.parameters]
        for i, p in enumerate(self.parameters):
            labels = [f"values[{j}]" for j in range(len(p.values))] if p.categorical else ["lo", "hi"]
            for label, v in zip(labels, _extremes(p)):
                try:
                    values = [v if j == i else b for j, b in enumerate(base_values)]
                    self.apply(values)
                    self.stimulator_for(values)
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
                self.check_safe(values)
            except SafetyLimitError as exc:
                raise SafetyLimitError(f"parameters ({where}): {exc}") from None
            except ConfigError as exc:
                raise ConfigError(f"parameters ({where}): {exc}") from None

    def _base_value(self, path: str) -> Value:
        owner, _, parts = _owner(path)
        cfg = self._root(owner)
        for name in parts:
            cfg = getattr(cfg, name)
        return cfg if isinstance(cfg, str) else float(cfg)

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


_SAFETY_PATHS = ("stimulation.", "faults.fault_ramp_down_ms", "exercise.on_s", "mode", STIMULATOR)


def _safety_relevant(path: str) -> bool:
    return path.startswith(_SAFETY_PATHS)


def _extremes(p: ParameterRange) -> list[Value]:
    """Values a safety corner takes: both ends of a range, or every named setting."""
    return list(p.values) if p.categorical else list(p.bounds)


def _resolve(kind: str, name: str) -> typing.Any:
    try:
        return resolve(kind, name)
    except ConfigError as exc:
        raise ConfigError(f"{kind}: {exc}") from None
