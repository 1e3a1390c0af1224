"""Typed, validated configuration: schema helpers and built-in presets."""

from fes_sim.config.presets import get_preset, preset_names, resolve
from fes_sim.config.schema import Config, from_mapping, load_toml, param, to_toml

__all__ = ["Config", "param", "from_mapping", "load_toml", "to_toml", "get_preset", "preset_names", "resolve"]
