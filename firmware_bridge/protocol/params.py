"""Controller parameters carried by SET_PARAM: the table, wire encoding and application.

SET_CONFIG carries the output (current, pulse width, rate, ramps, extension);
every other setting of the device's own controller that changes what it does in
DEVICE_LOOP mode travels as one SET_PARAM each: the detector choice and the tilt
trigger's thresholds, the tilt estimator, the sensor-fault rules and the
stimulation timing. The table is derived from
:class:`fes_sim.control.config.ControllerConfig` (names, units, ranges and
defaults), so host, emulator and the generated C header
(``tools/gen_protocol_c.py``) cannot drift apart. A ``Literal`` setting goes on
the wire as the index of its choice. Values are binary64, so the device runs
exactly the host's numbers.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Mapping

from fes_sim.control.config import ControllerConfig, EstimatorConfig, SensorFaultConfig, StimulationConfig, TiltTriggerConfig
from fes_sim.errors import ConfigError

#: SET_CONFIG fields, and settings the device has no use for (no protocol message runs a test burst;
#: the waveform is the stimulator's business), are not parameters
_NOT_PARAMS = frozenset({"current_ma", "pulse_width_us", "frequency_hz", "ramp_up_ms", "ramp_down_ms", "extension_ms",
                         "waveform", "test_burst_ms"})  # fmt: skip
#: (prefix, config class) in wire order; ids are assigned in this order from 1
_TABLES: tuple[tuple[str, type], ...] = (
    ("", ControllerConfig),
    ("estimator.", EstimatorConfig),
    ("tilt.", TiltTriggerConfig),
    ("stimulation.", StimulationConfig),
    ("faults.", SensorFaultConfig),
)


@dataclass(frozen=True)
class ParamDef:
    """One SET_PARAM parameter: id, dotted ``ControllerConfig`` key and its rules."""

    param_id: int
    key: str
    unit: str
    lo: float
    hi: float
    lo_open: bool
    choices: tuple[str, ...]
    default: float
    doc: str

    @property
    def c_name(self) -> str:
        """Upper-case identifier for the C header (``TILT_HEEL_OFF_TILT_DEG``)."""
        return self.key.replace(".", "_").upper()

    def encode(self, value: Any) -> float:
        """The wire value of a config value (choice index for a ``Literal``)."""
        return float(self.choices.index(value)) if self.choices else float(value)

    def decode(self, wire_value: float) -> Any:
        """The config value of a wire value; ConfigError when out of range."""
        self.check(wire_value)
        return self.choices[int(wire_value)] if self.choices else float(wire_value)

    def check(self, wire_value: float) -> None:
        """ConfigError unless ``wire_value`` is finite and inside the parameter's range."""
        v = wire_value
        bad = not math.isfinite(v) or v < self.lo or v > self.hi or (self.lo_open and v <= self.lo)
        if bad or (self.choices and v != int(v)):
            allowed = f"one of 0..{len(self.choices) - 1} ({', '.join(self.choices)})" if self.choices else (
                f"{self.lo:g} {'<' if self.lo_open else '<='} value <= {self.hi:g}")
            raise ConfigError(f"{self.key}: {v!r} must be {allowed}")


def _build() -> dict[int, ParamDef]:
    params: dict[int, ParamDef] = {}
    defaults = ControllerConfig()
    for prefix, cls in _TABLES:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]) or f.name in _NOT_PARAMS:
                continue
            key = prefix + f.name
            choices = tuple(typing.get_args(hints[f.name])) if typing.get_origin(hints[f.name]) is typing.Literal else ()
            meta = f.metadata
            pid = len(params) + 1
            pdef = ParamDef(pid, key, meta.get("unit", ""), 0.0 if choices else float(meta["lo"]),
                            float(len(choices) - 1) if choices else float(meta["hi"]), bool(meta.get("lo_open")),
                            choices, 0.0, meta.get("doc", ""))  # fmt: skip
            params[pid] = dataclasses.replace(pdef, default=pdef.encode(config_value(defaults, key)))
    return params


def config_value(config: ControllerConfig, key: str) -> Any:
    """The value at dotted ``key`` of ``config``."""
    value: Any = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


PARAMS: dict[int, ParamDef] = _build()
"""Parameter id → definition, in id order."""

BY_KEY: dict[str, ParamDef] = {p.key: p for p in PARAMS.values()}
"""Dotted key (``tilt.heel_off_fraction``) → definition."""


def markdown_table() -> str:
    """The parameter table of docs/protocol.md (a test keeps the document equal to it)."""
    rows = ["| id | key | unit | range | default |", "|---:|---|---|---|---|"]
    for p in PARAMS.values():
        if p.choices:
            allowed = " / ".join(f"{i} {c}" for i, c in enumerate(p.choices))
            default = f"{p.default:g} ({p.choices[int(p.default)]})"
        else:
            allowed = f"{p.lo:g} {'<' if p.lo_open else '≤'} v ≤ {p.hi:g}"
            default = f"{p.default:g}"
        rows.append(f"| {p.param_id} | `{p.key}` | {p.unit} | {allowed} | {default} |")
    return "\n".join(rows) + "\n"


def controller_params(config: ControllerConfig) -> list[tuple[int, float]]:
    """``(param_id, wire value)`` of every parameter of ``config``, in id order."""
    return [(p.param_id, p.encode(config_value(config, p.key))) for p in PARAMS.values()]


def apply_params(config: ControllerConfig, values: Mapping[int, float]) -> ControllerConfig:
    """``config`` with the given wire values applied; ConfigError for an unknown id or a bad value."""
    tables: dict[str, dict[str, Any]] = {}
    for pid, wire_value in values.items():
        pdef = PARAMS.get(pid)
        if pdef is None:
            raise ConfigError(f"SET_PARAM: unknown parameter id {pid}")
        table, _, name = pdef.key.rpartition(".")
        tables.setdefault(table, {})[name] = pdef.decode(wire_value)
    top = tables.pop("", {})
    for table, changes in tables.items():
        top[table] = getattr(config, table).replace(**changes)
    return config.replace(**top) if top else config
