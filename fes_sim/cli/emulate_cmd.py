"""``fes emulate``: serve the device emulator on a pseudo-terminal until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

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
"""

_FLAGS = {
    "watchdog_ms": "watchdog time-out before the host sets limits (ms)",
    "sample_rate_hz": "native sensor rate announced in HELLO (Hz)",
    "source": "HOST_LOOP sensor: synthetic, plant (walking simulator) or recording",
    "walker": "walker preset or file (source plant)",
    "recording": "recording file (source recording)",
    "controller": "controller preset or file run on the device in DEVICE_LOOP",
    "stimulator": "stimulator preset or file: the hardware maxima",
    "seed": "seed of the sensor source and fault injection",
    "baudrate": "emulate wire timing at this many bit/s (0 = none)",
}


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes emulate``."""
    p = subparsers.add_parser("emulate", help="serve the device emulator on a pty", description=DESCRIPTION,
                              formatter_class=formatter_class)
    p.add_argument("--pty", action="store_true", required=True, help="serve on a new pseudo-terminal (the only transport)")
    for name, text in _FLAGS.items():
        p.add_argument("--" + name.replace("_", "-"), dest=name, default=None, metavar="VALUE", help=text)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other EmulatorConfig field")
    p.add_argument("--duration-s", type=float, default=0.0, help="stop after this long (0 = until interrupted)")
    p.set_defaults(func=run)


def _options(args: argparse.Namespace) -> dict[str, str]:
    from fes_sim.errors import ConfigError

    options = {name: str(getattr(args, name)) for name in _FLAGS if getattr(args, name) is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def run(args: argparse.Namespace) -> int:
    """Serve until stopped; exit 0, or 3 if the emulator failed."""
    from firmware_bridge.emulator import config_from_options, serve_pty
    from firmware_bridge.emulator.device import make_source

    config = config_from_options(_options(args), source="fes emulate")
    if config.source != "synthetic":
        make_source(config, config.sample_rate_hz)  # fail now, not at the host's SET_MODE
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emulator, path = serve_pty(config)
    print(path, flush=True)
    try:
        deadline = args.duration_s if args.duration_s > 0 else None
        waited = 0.0
        while not stop.is_set() and emulator.running and (deadline is None or waited < deadline):
            stop.wait(0.1)
            waited += 0.1
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
        signal.signal(signal.SIGTERM, previous)
    if emulator.error is not None:
        print(f"fes: error: emulator failed: {emulator.error}", file=sys.stderr)
        return 3
    return 0
