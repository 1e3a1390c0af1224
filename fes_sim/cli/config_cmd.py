"""``fes config``: list, show and validate configuration files and presets."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fes_sim.config.presets import KIND_MODULES, config_class, get_preset, preset_names
from fes_sim.config.schema import load_toml, to_toml
from fes_sim.errors import ConfigError

DESCRIPTION = """\
Presets are built into the package; configs/<kind>s/<name>.toml hold the same
presets as editable files. Kinds: walker, controller, stimulator, and any other
registered kind (see 'fes config list').
"""


def kind_of_file(path: Path, kind: str | None) -> str:
    """The config kind of ``path``: ``--kind`` if given, else its folder (``walkers/`` → walker)."""
    if kind is not None:
        return kind
    folder = path.resolve().parent.name
    for k in KIND_MODULES:
        if folder in (k, k + "s"):
            return k
    raise ConfigError(f"{path}: cannot tell the config kind from folder {folder!r}; pass --kind ({', '.join(KIND_MODULES)})")


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes config`` and its subcommands."""
    p = subparsers.add_parser("config", help="list, show and validate configuration", description=DESCRIPTION, formatter_class=formatter_class)
    sub = p.add_subparsers(title="config commands", metavar="ACTION", required=True)
    v = sub.add_parser("validate", help="check TOML files; exit 2 on the first error", formatter_class=formatter_class)
    v.add_argument("files", nargs="+", type=Path, metavar="FILE")
    v.add_argument("--kind", choices=sorted(KIND_MODULES), default=None, help="config kind (default: from the file's folder)")
    v.set_defaults(func=validate)
    s = sub.add_parser("show", help="print a preset, fully resolved, as TOML", formatter_class=formatter_class)
    s.add_argument("kind", choices=sorted(KIND_MODULES))
    s.add_argument("name", help="preset name or TOML file")
    s.set_defaults(func=show)
    ls = sub.add_parser("list", help="list the built-in presets of every kind", formatter_class=formatter_class)
    ls.set_defaults(func=list_presets)


def validate(args: argparse.Namespace) -> int:
    """Validate each file as its kind; the first error stops with exit 2."""
    for path in args.files:
        kind = kind_of_file(path, args.kind)
        load_toml(config_class(kind), path)
        print(f"{path}: ok ({kind})")
    return 0


def show(args: argparse.Namespace) -> int:
    """Print a preset or file as TOML, every default filled in."""
    from fes_sim.config.presets import resolve

    obj = resolve(args.kind, args.name)
    print(to_toml(obj, header=f"{args.kind} {args.name}"), end="")
    return 0


def list_presets(args: argparse.Namespace) -> int:
    """Print each kind with its preset names."""
    for kind in KIND_MODULES:
        print(f"{kind}: {', '.join(preset_names(kind))}")
    return 0


def preset_toml(kind: str, name: str) -> str:
    """The text of ``configs/<kind>s/<name>.toml`` for a built-in preset."""
    return to_toml(get_preset(kind, name), header=f"{kind} preset '{name}' (built into fes_sim; edit a copy)")
