"""``fes emulate``: serve the device emulator, or the reference firmware in QEMU, on a pseudo-terminal until stopped."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from typing import Any, Callable

from fes_sim.cli.options import Number
from fes_sim.config.schema import describe_range

DESCRIPTION = """\
Starts an emulated stimulator speaking the wire protocol (docs/protocol.md) on a
new pseudo-terminal, prints the device path on the first line of stdout, and
serves until interrupted (Ctrl-C, SIGTERM) or --duration-s has passed. Any tool
that opens serial ports can then use that path, e.g.

    fes emulate --pty &            # prints /dev/pts/N
    fes hil host --port /dev/pts/N

Device options are the fields of firmware_bridge.emulator.EmulatorConfig; the
common ones have flags, any other is given with --set KEY=VALUE (fault
injection: flip_per_byte, drop, duplicate, delay, delay_ms, disconnect_after_s).

With --firmware it serves the reference C firmware instead (firmware/, built with
make and arm-none-eabi-gcc if out of date) running in qemu-system-arm on the
emulated mps2-an385 board, whose UART is the printed pty; the emulator's device
options do not apply to it. It needs a source checkout of fes-sim.
"""

#: EmulatorConfig fields that get their own flag (help, default and unit come from the field)
_FLAGS = ("watchdog_ms", "sample_rate_hz", "source", "walker", "recording", "controller", "stimulator", "seed", "baudrate")


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes emulate``."""
    from firmware_bridge.emulator.config import EmulatorConfig

    fields = {f.name: f for f in dataclasses.fields(EmulatorConfig)}
    p = subparsers.add_parser("emulate", help="serve the device emulator on a pty", description=DESCRIPTION,
                              formatter_class=formatter_class)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="serve the Python emulator on a new pseudo-terminal")
    where.add_argument("--firmware", action="store_true",
                       help="serve the reference firmware in QEMU on a new pseudo-terminal (builds it if needed)")
    for name in _FLAGS:
        f = fields[name]
        unit = f.metadata.get("unit")
        limits = describe_range(f)
        text = f.metadata["doc"] + (f", {limits}" if limits else f" [{unit}]" if unit else "")
        if f.default == "":
            text += " (default: none)"
        metavar = unit.upper() if unit else "N" if isinstance(f.default, int) else "NAME"
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=type(f.default), default=f.default,
                       metavar=metavar, help=text)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other EmulatorConfig field, repeatable; overrides the flags (default: none)")
    p.add_argument("--duration-s", type=Number(float, 0, None, "s"), default=0.0, metavar="S",
                   help="stop after this many seconds, value >= 0 s; 0 = serve until interrupted")
    p.add_argument("--realtime", action="store_true",
                   help="serve at raised scheduling priority (SCHED_FIFO, else nice -10; needs root or "
                        "CAP_SYS_NICE, otherwise a logged note and normal priority), as a bench device would")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace) -> dict[str, str]:
    from fes_sim.errors import ConfigError

    options = {name: str(getattr(args, name)) for name in _FLAGS}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def run(args: argparse.Namespace) -> int:
    """Serve until stopped; exit 0, or 3 if the emulator (or QEMU) failed."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        return _run_firmware(args, stop) if args.firmware else _run_emulator(args, stop)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_emulator(args: argparse.Namespace, stop: threading.Event) -> int:
    from firmware_bridge.emulator import config_from_options, serve_pty
    from firmware_bridge.emulator.device import make_source
    from firmware_bridge.realtime import realtime

    config = config_from_options(_options(args), source="fes emulate")
    if config.source != "synthetic":
        make_source(config, config.sample_rate_hz)  # fail now, not at the host's SET_MODE
    with realtime(args.realtime) as priority:  # raised before the serving thread starts: it inherits the priority
        emulator, path = serve_pty(config)
        print(path, flush=True)
        if args.realtime:
            print(f"priority: {priority.description}", flush=True)
        try:
            _serve(lambda: emulator.running, stop, args.duration_s)
        finally:
            emulator.stop()
    if emulator.error is not None:
        print(f"fes: error: emulator failed: {emulator.error}", file=sys.stderr)
        return 3
    return 0


def _run_firmware(args: argparse.Namespace, stop: threading.Event) -> int:
    from fes_sim.errors import ConfigError
    from firmware_bridge.firmware import FirmwareQemu

    if args.set:
        raise ConfigError("--set: emulator options do not apply to --firmware")
    firmware = FirmwareQemu.start()  # FirmwareUnavailable: one line, exit 3
    print(firmware.port, flush=True)
    try:
        _serve(firmware.alive, stop, args.duration_s)
        crashed = not firmware.alive()
    finally:
        firmware.close()
    if crashed:
        print(f"fes: error: QEMU exited with code {firmware.process.returncode}", file=sys.stderr)
        return 3
    return 0


def _serve(running: Callable[[], bool], stop: threading.Event, duration_s: float) -> None:
    """Wait for a signal, the device's end or ``duration_s`` (0 = no limit)."""
    waited = 0.0
    try:
        while not stop.is_set() and running() and (duration_s <= 0 or waited < duration_s):
            stop.wait(0.1)
            waited += 0.1
    except KeyboardInterrupt:
        pass
