"""Settings of an emulated device, from keyword arguments or ``fesemu://`` URL options."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qsl, urlparse

from fes_sim.config.schema import Config, from_mapping, param
from firmware_bridge.errors import BackendError
from fes_sim.errors import ConfigError


@dataclass(frozen=True)
class FaultInjection(Config):
    """Random corruption applied to the bytes in both directions of the emulated wire."""

    flip_per_byte: float = param(0.0, lo=0, hi=0.5, doc="probability that one bit of a byte is flipped")
    drop: float = param(0.0, lo=0, hi=1, doc="probability that a chunk of bytes is dropped")
    duplicate: float = param(0.0, lo=0, hi=1, doc="probability that a chunk is delivered twice")
    delay: float = param(0.0, lo=0, hi=1, doc="probability that a chunk is held back by delay_ms")
    delay_ms: float = param(20.0, unit="ms", lo=0, hi=5000, doc="hold-back time of a delayed chunk")
    disconnect_after_s: float = param(0.0, unit="s", lo=0, hi=86400, doc="the port vanishes after this long; 0 = never")

    @property
    def active(self) -> bool:
        """True when any corruption is configured."""
        return bool(self.flip_per_byte or self.drop or self.duplicate or self.delay)


@dataclass(frozen=True)
class EmulatorConfig(Config):
    """An emulated stimulator: identity, hardware, device logic, sensor source, wire."""

    device_id: int = param(0x00FE5E01, lo=0, hi=0xFFFFFFFF, doc="serial number in HELLO")
    channels: int = param(1, lo=1, hi=8, doc="output channels")
    watchdog_ms: int = param(250, unit="ms", lo=10, hi=1000, doc="watchdog time-out before any SET_LIMITS")
    sample_rate_hz: int = param(200, unit="Hz", lo=1, hi=1000, doc="native sensor rate announced in HELLO")
    min_frequency_hz: float = param(1.0, unit="Hz", lo=0, lo_open=True, hi=200, doc="hardware minimum pulse rate")
    stimulator: str = param("default", doc="stimulator preset or TOML file: the hardware maxima")
    controller: str = param("walkaide_tilt", doc="controller preset or TOML file run in DEVICE_LOOP mode")
    source: str = param("synthetic", doc="HOST_LOOP sensor: 'synthetic', 'plant' (walking simulator) or 'recording'")
    walker: str = param("drop_foot_mild", doc="walker preset or file for source = plant")
    recording: str = param("", doc="recording file for source = recording")
    seed: int = param(0, lo=0, hi=2**32 - 1, doc="seed of the sensor source and of fault injection")
    baudrate: int = param(0, unit="bit/s", lo=0, hi=100_000_000, doc="emulate wire timing at this rate (10 bits/byte); 0 = none")
    clock_drift_ppm: float = param(0.0, unit="ppm", lo=-10_000, hi=10_000,
                                   doc="rate error of the device clock against the host's, as a crystal's (20-100 ppm typical)")
    faults: FaultInjection = param(factory=FaultInjection)

    def check(self) -> None:
        if self.source not in ("synthetic", "plant", "recording"):
            raise ConfigError(f"source: {self.source!r} is not one of 'synthetic', 'plant', 'recording'")
        if self.source == "recording" and not self.recording:
            raise ConfigError("recording: a file is needed when source = 'recording'")


_FAULT_KEYS = {f.name for f in dataclasses.fields(FaultInjection)}


def config_from_url(url: str) -> EmulatorConfig:
    """Parse ``fesemu://?key=value&...`` (fault keys may be given without ``faults.``)."""
    parts = urlparse(url)
    if parts.scheme != "fesemu":
        raise BackendError(f"{url!r} is not a fesemu:// URL")
    return config_from_options(dict(parse_qsl(parts.query, keep_blank_values=True)), source=url)


def config_from_options(options: Mapping[str, str], source: str = "<options>") -> EmulatorConfig:
    """Build an :class:`EmulatorConfig` from string options, converting numbers by field type."""
    top: dict[str, object] = {}
    faults: dict[str, object] = {}
    kinds = {f.name: f.type for f in dataclasses.fields(EmulatorConfig)}
    kinds |= {f.name: f.type for f in dataclasses.fields(FaultInjection)}
    for key, text in options.items():
        name = key.removeprefix("faults.")
        target = faults if name in _FAULT_KEYS else top
        kind = kinds.get(name, "str")
        try:
            value: object = int(text, 0) if kind == "int" else float(text) if kind == "float" else text
        except ValueError:
            raise BackendError(f"{source}: {key}={text!r} is not a number") from None
        target[name] = value
    if faults:
        top["faults"] = faults
    try:
        return from_mapping(EmulatorConfig, top, source)
    except ConfigError as exc:
        raise BackendError(str(exc)) from None
