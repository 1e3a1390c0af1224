"""What every subcommand shares: the help layout, one-line usage errors, checked numbers,
output paths and the controller's safety limits checked before any work starts."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, NoReturn

from fes_sim.config.presets import looks_like_file, resolve
from fes_sim.config.schema import range_text
from fes_sim.errors import OutputError, SafetyLimitError


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks and appends ``(default: X)`` to an option's help.

    Nothing is appended when the help already states ``default:`` in words, when the
    default is ``None`` (the help must say what happens then), for flags and for
    required options.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        no_value = action.nargs == 0 or action.default in (None, argparse.SUPPRESS)
        if no_value or action.required or not action.option_strings or "default:" in text:
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"fes: error: {message} (see '{self.prog} --help')\n")


class Number:
    """An argparse ``type``: a finite int or float within a range, refused in one line.

    Parameters
    ----------
    kind
        ``int`` or ``float``.
    lo, hi
        Inclusive bounds (``None``: unbounded); ``lo_open`` makes ``lo`` exclusive.
    unit
        Unit shown in :attr:`range` and in error messages.
    """

    def __init__(self, kind: type, lo: float | None = None, hi: float | None = None, unit: str = "", lo_open: bool = False) -> None:
        self.kind, self.lo, self.hi, self.lo_open = kind, lo, hi, lo_open
        self.range = range_text(lo, hi, unit, lo_open)
        self.__name__ = "integer" if kind is int else "number"  # argparse names the type by this

    def __call__(self, text: str) -> int | float:
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if self.kind is int else 'a number'}") from None
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        if not math.isfinite(value) or too_low or (self.hi is not None and value > self.hi):
            raise argparse.ArgumentTypeError(f"{text} is out of range ({self.range})")
        return value


#: a random seed, as the emulator and firmware take it (unsigned 32 bit)
SEED = Number(int, 0, 2**32 - 1)
#: shank sensor rates the 1 kHz plant can run (it needs an integer number of substeps per sample)
SAMPLE_RATE_HZ = Number(float, 100, 1000, "Hz")
SAMPLE_RATE_HELP = f"shank sensor sampling rate, {SAMPLE_RATE_HZ.range}, a divisor of the plant's 1000 Hz"
SEED_HELP = f"random seed, {SEED.range}; the same seed gives the same walk"


def check_output_file(path: Path | None, option: str) -> None:
    """Refuse, before any work, an output file that is a directory or whose folder is missing."""
    if path is None:
        return
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name")
    if not path.parent.is_dir():
        raise OutputError(f"{option} {path}: folder {path.parent} does not exist")


def check_device(controller: Any, stimulator: Any, controller_name: str, stimulator_name: str) -> None:
    """Refuse a controller beyond the stimulator's safety limits, naming the controller file
    (or preset), each field path and the stimulator, e.g. ``cur.toml: stimulation.current_ma = 150
    exceeds the stimulator's max_current_ma 100 (default stimulator)``."""
    from fes_sim.device import check_limits

    try:
        check_limits(controller, stimulator)
    except SafetyLimitError as exc:
        where = controller_name if looks_like_file(controller_name) else f"controller {controller_name!r}"
        which = f"stimulator {stimulator_name}" if looks_like_file(stimulator_name) else f"{stimulator_name} stimulator"
        raise SafetyLimitError(f"{where}: {exc} ({which})") from None


def resolve_device(controller_name: str, stimulator_name: str) -> tuple[Any, Any]:
    """The controller and stimulator named on the command line (presets or files), checked by :func:`check_device`."""
    controller, stimulator = resolve("controller", controller_name), resolve("stimulator", stimulator_name)
    check_device(controller, stimulator, controller_name, stimulator_name)
    return controller, stimulator
