"""The search space: controller parameters by dotted path, their checks and samplers.

A parameter set is a tuple of floats, one per :class:`~fes_sim.tuning.study.ParameterRange`
in study order; :meth:`SearchSpace.apply` turns it into a checked
:class:`~fes_sim.control.config.ControllerConfig`. Every safety figure of
:func:`fes_sim.control.limits.check_settings` rises or falls monotonically with each
parameter, so the worst case over the box of ranges is at one of its corners:
:meth:`SearchSpace.validate` builds the device pipeline at every corner, and a
study whose box holds any unsafe setting is refused before work starts.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import qmc

from fes_sim.config import resolve
from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.errors import ConfigError, SafetyLimitError
from fes_sim.tuning.study import ParameterRange, Study

#: corners of at most this many parameters are checked exhaustively (2**12 pipelines)
MAX_CORNER_PARAMS = 12


def _numeric_field(path: str) -> dataclasses.Field:
    """The numeric controller field at ``path`` (e.g. ``tilt.heel_off_fraction``)."""
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
        elif tp not in (float, int):
            raise ConfigError(f"{path!r} is not a numeric controller parameter (it is a {getattr(tp, '__name__', tp)})")
    return fields[parts[-1]]


def _replace_path(cfg: typing.Any, parts: list[str], value: float) -> typing.Any:
    if len(parts) == 1:
        return cfg.replace(**{parts[0]: value})
    return cfg.replace(**{parts[0]: _replace_path(getattr(cfg, parts[0]), parts[1:], value)})


@dataclass(frozen=True)
class SearchSpace:
    """Parameters of a study applied to its base controller, checked against its stimulator."""

    base: ControllerConfig
    stimulator: StimulatorConfig
    parameters: tuple[ParameterRange, ...]
    sample_rate_hz: float = 200.0

    @classmethod
    def from_study(cls, study: Study) -> "SearchSpace":
        """Resolve the study's base controller and stimulator; check every parameter path."""
        space = cls(
            _resolve("controller", study.controller),
            _resolve("stimulator", study.stimulator),
            study.parameters,
            study.sample_rate_hz,
        )
        for i, p in enumerate(space.parameters):
            try:
                f = _numeric_field(p.path)
            except ConfigError as exc:
                raise ConfigError(f"parameters[{i}].path: {exc}") from None
            if typing.get_type_hints(_owner(p.path))[f.name] is int:
                for v in p.values or (p.lo, p.hi):
                    if v != int(v):
                        raise ConfigError(f"parameters[{i}]: {p.path} takes whole numbers, not {v!r}")
        return space

    @property
    def names(self) -> tuple[str, ...]:
        """Dotted paths in study order."""
        return tuple(p.path for p in self.parameters)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        """(lo, hi) of each parameter."""
        return [p.bounds for p in self.parameters]

    def apply(self, values: Sequence[float]) -> ControllerConfig:
        """The base controller with ``values`` set (checked on construction)."""
        cfg = self.base
        for p, v in zip(self.parameters, values, strict=True):
            f = _numeric_field(p.path)
            value = int(round(v)) if typing.get_type_hints(_owner(p.path))[f.name] is int else float(v)
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
            for end, v in zip(("lo", "hi"), p.bounds):
                try:
                    self.apply([v if j == i else b for j, b in enumerate(base_values)])
                except ConfigError as exc:
                    raise ConfigError(f"parameters[{i}] ({p.path}) {end} = {v!r}: {exc}") from None
        k = len(self.parameters)
        idx = range(k) if k <= MAX_CORNER_PARAMS else [i for i, p in enumerate(self.parameters) if _safety_relevant(p.path)]
        for corner in itertools.product(*[self.parameters[i].bounds for i in idx]):
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
        """Every combination of each parameter's values (or ``points`` evenly spaced ones)."""
        axes = [np.asarray(p.values, float) if p.values else np.linspace(*p.bounds, points) for p in self.parameters]
        return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(axes))

    def random(self, n: int, seed: int) -> np.ndarray:
        """``n`` sets drawn uniformly in the box."""
        lo, hi = np.array(self.bounds, float).T
        return np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo)))

    def lhs(self, n: int, seed: int) -> np.ndarray:
        """``n`` sets of a Latin hypercube (scipy.stats.qmc) scaled to the box."""
        lo, hi = np.array(self.bounds, float).T
        unit = qmc.LatinHypercube(d=len(lo), seed=np.random.default_rng(seed)).random(n)
        return qmc.scale(unit, lo, hi)


_SAFETY_PATHS = ("stimulation.", "faults.fault_ramp_down_ms", "exercise.on_s", "mode")


def _safety_relevant(path: str) -> bool:
    return path.startswith(_SAFETY_PATHS)


def _owner(path: str) -> type:
    cls: type = ControllerConfig
    for name in path.split(".")[:-1]:
        cls = typing.get_type_hints(cls)[name]
    return cls


def _base_value(cfg: typing.Any, path: str) -> float:
    for name in path.split("."):
        cfg = getattr(cfg, name)
    return float(cfg)


def _resolve(kind: str, name: str) -> typing.Any:
    try:
        return resolve(kind, name)
    except ConfigError as exc:
        raise ConfigError(f"{kind}: {exc}") from None
