"""The strict config loader: types, ranges, unknown keys, and error messages that name everything."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from fes_sim.config.schema import Config, from_mapping, load_toml, param, to_toml
from fes_sim.errors import ConfigError


@dataclass(frozen=True)
class Ramp(Config):
    ramp_up_ms: float = param(100.0, unit="ms", lo=0, hi=2000, doc="rise time")
    steps: int = param(10, lo=1, hi=100)


@dataclass(frozen=True)
class Device(Config):
    name: str = param("dev")
    waveform: Literal["symmetric", "asymmetric"] = param("symmetric")
    current_ma: float = param(40.0, unit="mA", lo=0, hi=100, lo_open=True)
    enabled: bool = param(True)
    ramp: Ramp = param(factory=Ramp)
    channels: tuple[int, ...] = param((1, 2))

    def check(self) -> None:
        if self.ramp.ramp_up_ms > 1000 and self.waveform == "asymmetric":
            raise ConfigError("ramp.ramp_up_ms: asymmetric waveforms allow at most 1000 ms")


def test_defaults_and_round_trip(tmp_path):
    d = from_mapping(Device, {"current_ma": 55, "ramp": {"ramp_up_ms": 250.5}, "channels": [3]})
    assert d.current_ma == 55.0 and isinstance(d.current_ma, float)
    assert d.ramp == Ramp(ramp_up_ms=250.5)
    assert d.channels == (3,)
    path = tmp_path / "d.toml"
    path.write_text(to_toml(d, header="test"))
    assert load_toml(Device, path) == d


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"curent_ma": 5}, ["curent_ma", "unknown key", "current_ma"]),
        ({"current_ma": 150}, ["current_ma", "150", "100", "mA"]),
        ({"current_ma": 0}, ["current_ma", "0 < value <= 100 mA"]),
        ({"current_ma": "high"}, ["current_ma", "'high'", "float"]),
        ({"enabled": 1}, ["enabled", "bool"]),
        ({"waveform": "square"}, ["waveform", "'symmetric'", "'asymmetric'"]),
        ({"ramp": {"ramp_up_ms": -1}}, ["ramp.ramp_up_ms", "-1"]),
        ({"ramp": {"stepz": 3}}, ["ramp.stepz", "unknown key"]),
        ({"ramp": 5}, ["ramp", "not a table"]),
        ({"ramp": {"steps": 2.5}}, ["ramp.steps", "int"]),
        ({"channels": [1, "x"]}, ["channels[1]", "'x'"]),
        ({"waveform": "asymmetric", "ramp": {"ramp_up_ms": 1500}}, ["ramp.ramp_up_ms", "asymmetric"]),
    ],
)
def test_errors_name_source_field_value_and_range(data, fragments):
    with pytest.raises(ConfigError) as info:
        from_mapping(Device, data, source="my.toml")
    message = str(info.value)
    assert message.startswith("my.toml: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_direct_construction_is_checked_too():
    with pytest.raises(ConfigError, match="current_ma"):
        Device(current_ma=float("nan"))
    with pytest.raises(ConfigError, match="ramp_up_ms"):
        Ramp(ramp_up_ms=5000)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_toml(Device, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("current_ma = = 3\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_toml(Device, bad)
    with pytest.raises(ConfigError, match="is a directory"):
        load_toml(Device, tmp_path)
    ok = tmp_path / "ok.toml"
    ok.write_text("[device]\ncurrent_ma = 20\n")
    assert load_toml(Device, ok, table="device").current_ma == 20.0
    with pytest.raises(ConfigError, match=r"missing table \[other\]"):
        load_toml(Device, ok, table="other")


def test_non_utf8_and_settingless_files_are_named_errors(tmp_path):
    latin = tmp_path / "latin1.toml"
    latin.write_bytes("name = 'M\xfcller'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml: not UTF-8 text \(byte 0xfc at offset 9\)"):
        load_toml(Device, latin)
    for text in ("", "\n  \n", "# current_ma = 20\n"):
        empty = tmp_path / "empty.toml"
        empty.write_text(text)
        with pytest.raises(ConfigError, match=r"empty\.toml: no settings"):
            load_toml(Device, empty)


def test_configs_are_frozen():
    d = Device()
    with pytest.raises(AttributeError):
        d.current_ma = 10  # type: ignore[misc]
    assert d.replace(current_ma=10).current_ma == 10
