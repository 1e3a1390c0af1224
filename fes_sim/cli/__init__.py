"""The ``fes`` command.

Each subcommand lives in its own module under :mod:`fes_sim.cli` and defines
``add_parser(subparsers, formatter_class)`` (which sets ``func`` on its parser) and
is listed in :data:`SUBCOMMANDS`. Usage errors and errors derived from
:class:`~fes_sim.errors.FesError` become one line on stderr and exit code 2; bridge
errors carry their own ``exit_code``. Output cut short because its reader has gone
(``fes ... | head``) ends quietly with :data:`EXIT_BROKEN_PIPE`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Sequence

from fes_sim.cli.options import HelpFormatter, Parser
from fes_sim.errors import FesError

#: subcommand modules, in the order ``fes --help`` lists them
SUBCOMMANDS: tuple[str, ...] = (
    "fes_sim.cli.run_cmd",
    "fes_sim.cli.replay_cmd",
    "fes_sim.cli.compare_cmd",
    "fes_sim.cli.calibrate_cmd",
    "fes_sim.cli.tune_cmd",
    "fes_sim.cli.config_cmd",
    "fes_sim.cli.view_cmd",
    "fes_sim.cli.emulate_cmd",
    "fes_sim.cli.hil_cmd",
    "fes_sim.cli.ports_cmd",
)

#: exit status when stdout's reader has gone: 128 + SIGPIPE, as a shell reports a process the signal ended
EXIT_BROKEN_PIPE = 141


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand that imports cleanly."""
    parser = Parser(
        prog="fes",
        description="Simulate, replay, tune and bridge a peroneal stimulator for foot drop.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug; default: warnings only)")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(name).add_parser(subparsers, HelpFormatter)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fes`` console script; returns the exit code."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:
        # the reader has gone: what is still buffered goes nowhere, without a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error, already printed in one line (2)
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FesError as exc:
        print(f"fes: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fes: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # bridge errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is None:
            raise
        print(f"fes: error: {exc}", file=sys.stderr)
        return int(code)
