"""``fes config``: list, show and validate configuration files and presets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fes_sim.cli.options import check_device
from fes_sim.config.presets import KIND_MODULES, config_class, get_preset, preset_names, resolve
from fes_sim.config.schema import load_toml, to_toml
from fes_sim.errors import ConfigError

DESCRIPTION = """\
Presets are built into the package; configs/<kind>s/<name>.toml hold the same
presets as editable files. Kinds: walker, controller, stimulator, and any other
registered kind (see 'fes config list'). 'validate' also checks tuning studies
(configs/studies/, see 'fes tune --help').
"""

#: kinds 'validate' checks beyond the preset kinds, with their folder names
EXTRA_KINDS: dict[str, str] = {"study": "studies"}


def _folder_kinds() -> dict[str, str]:
    """Folder name → config kind, e.g. ``walkers`` → ``walker``."""
    folder_of_kind = {k: k + "s" for k in KIND_MODULES} | EXTRA_KINDS
    return {name: kind for kind, folder in folder_of_kind.items() for name in (kind, folder)}


def _header_kind(path: Path) -> str | None:
    """The kind named by the ``# <kind> <name>`` first line that 'fes config show' writes, if any."""
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            words = f.readline().lstrip("#").split()
    except OSError:
        return None  # the loader reports the unreadable file
    return words[0] if words and words[0] in _folder_kinds().values() else None


def kind_of_file(path: Path, kind: str | None) -> str:
    """The config kind of ``path``: ``--kind`` if given, else its folder (``walkers/`` → walker),
    else the ``# <kind> <name>`` header of a file written by 'fes config show'."""
    if kind is not None:
        return kind
    folder = path.resolve().parent.name
    found = _folder_kinds().get(folder) or _header_kind(path)
    if found is None:
        kinds = ", ".join(sorted(KIND_MODULES) + sorted(EXTRA_KINDS))
        raise ConfigError(
            f"{path}: cannot tell the config kind from folder {folder!r} or a '# <kind> <name>' first line; pass --kind ({kinds})"
        )
    return found


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes config`` and its subcommands."""
    p = subparsers.add_parser("config", help="list, show and validate configuration", description=DESCRIPTION, formatter_class=formatter_class)
    sub = p.add_subparsers(title="config commands", metavar="ACTION", required=True)
    v = sub.add_parser("validate", help="check TOML files: one line per file, exit 2 if any is bad", formatter_class=formatter_class,
                       description="Check each file as its kind and report every file: 'ok' or the error.\n"
                                   "A controller is also checked against the --stimulator's safety limits.\nExit 2 if any failed.")
    v.add_argument("files", nargs="+", type=Path, metavar="FILE", help="TOML files, e.g. configs/*/*.toml")
    v.add_argument("--kind", choices=sorted(KIND_MODULES) + sorted(EXTRA_KINDS), default=None,
                   help="config kind of every FILE (default: from each file's folder, e.g. walkers/ -> walker)")
    v.add_argument("--stimulator", default="default", metavar="NAME|FILE",
                   help="stimulator whose safety limits a controller must respect (default: the preset 'default')")
    v.set_defaults(func=validate)
    s = sub.add_parser("show", help="print a preset, fully resolved, as TOML", formatter_class=formatter_class,
                       description="Print a preset or TOML file of KIND with every field filled in, its unit and range in\n"
                                   "a comment: a starting point for your own file. Exit 2 if it is unknown or invalid.")
    s.add_argument("kind", choices=sorted(KIND_MODULES), metavar="KIND", help=f"config kind: {', '.join(sorted(KIND_MODULES))}")
    s.add_argument("name", metavar="NAME", help="preset name (see 'fes config list') or TOML file")
    s.set_defaults(func=show)
    ls = sub.add_parser("list", help="list the built-in presets of every kind", formatter_class=formatter_class,
                        description="Print one line per config kind with the names of its built-in presets.")
    ls.set_defaults(func=list_presets)


def load_config_file(path: Path, kind: str, stimulator: str = "default") -> object:
    """Read and validate ``path`` as ``kind`` (a study through the tuning's own loader, a
    controller also against the safety limits of ``stimulator``, a preset or file)."""
    if kind == "study":
        from fes_sim.tuning import load_study

        return load_study(path)
    config = load_toml(config_class(kind), path)
    if kind == "controller":
        check_device(config, resolve("stimulator", stimulator), str(path), stimulator)
    return config


def validate(args: argparse.Namespace) -> int:
    """Validate every file as its kind, one line each; exit 2 if any failed."""
    failed = 0
    for path in args.files:
        try:
            if not path.exists():
                raise ConfigError(f"{path}: no such file")
            kind = kind_of_file(path, args.kind)
            load_config_file(path, kind, args.stimulator)
        except ConfigError as exc:
            failed += 1
            message = str(exc)
            print(f"fes: error: {message if message.startswith(str(path)) else f'{path}: {message}'}", file=sys.stderr, flush=True)
        else:
            print(f"{path}: ok ({kind})", flush=True)
    return 2 if failed else 0


def show(args: argparse.Namespace) -> int:
    """Print a preset or file as TOML, every default filled in."""
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
