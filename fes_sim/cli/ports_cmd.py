"""``fes ports``: list the serial ports of this machine with their descriptions."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes ports``."""
    p = subparsers.add_parser("ports", help="list serial ports", formatter_class=formatter_class,
                              description="Lists serial ports (pyserial's list_ports) with description and hardware id. "
                                          "Any of them, any pyserial URL, or fesemu:// can be given to 'fes hil --port'.")
    p.add_argument("--all", action="store_true", help="also list ports without a description (e.g. legacy ttyS); without it they are hidden")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one row per port; exit 0 (also when there are none)."""
    from fes_sim.cli.table import format_table
    from firmware_bridge.ports import list_ports

    rows = [(p.device, p.description, p.hwid) for p in list_ports(include_all=args.all)]
    if not rows:
        print("no serial ports found (fesemu:// is always available)")
        return 0
    print(format_table(("port", "description", "hardware id"), rows))
    return 0
