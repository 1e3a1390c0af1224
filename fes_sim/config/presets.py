"""Built-in presets, found by kind and name, and resolution of NAME|FILE arguments.

Each kind's owning module defines ``CONFIG_CLASS`` (a :class:`~fes_sim.config.schema.Config`
subclass) and ``PRESETS`` (a dict of name → instance). Modules are imported lazily,
so a kind whose optional dependencies are missing never breaks the others.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from fes_sim.config.schema import Config, load_toml
from fes_sim.errors import ConfigError

#: kind → module that defines CONFIG_CLASS and PRESETS for it
KIND_MODULES: dict[str, str] = {
    "walker": "fes_sim.gait.walker",
    "controller": "fes_sim.control.config",
    "stimulator": "fes_sim.control.limits",
    "scenario": "fes_sim.gait.scenario",
    "afo": "fes_sim.body.orthosis",
}


def _module(kind: str) -> ModuleType:
    try:
        return importlib.import_module(KIND_MODULES[kind])
    except KeyError:
        raise ConfigError(f"unknown config kind {kind!r} (known: {', '.join(sorted(KIND_MODULES))})") from None


def config_class(kind: str) -> type[Config]:
    """The configuration class of ``kind``."""
    return _module(kind).CONFIG_CLASS


def preset_names(kind: str) -> list[str]:
    """Names of the built-in presets of ``kind``, sorted."""
    return sorted(_module(kind).PRESETS)


def get_preset(kind: str, name: str) -> Config:
    """The built-in preset ``name`` of ``kind``; ConfigError lists the known names."""
    presets = _module(kind).PRESETS
    try:
        return presets[name]
    except KeyError:
        raise ConfigError(f"unknown {kind} preset {name!r} (known: {', '.join(sorted(presets))})") from None


def looks_like_file(name: str) -> bool:
    """True when ``name`` names a file rather than a preset (has a suffix or a path separator)."""
    return name.endswith(".toml") or "/" in name or "\\" in name or Path(name).is_file()


def resolve(kind: str, name_or_file: str) -> Config:
    """A preset by name, or a TOML file validated as ``kind``."""
    if looks_like_file(name_or_file):
        return load_toml(config_class(kind), name_or_file)
    return get_preset(kind, name_or_file)
