#!/usr/bin/env python3
"""Build the reference firmware if needed and run it in QEMU on a pty (same as ``fes emulate --firmware``).

Prints the device path and serves until Ctrl-C or SIGTERM; ``--build-only`` just
builds and prints the ELF path. The work is done by :mod:`firmware_bridge.firmware`.
"""

from __future__ import annotations

import argparse
import signal
import sys

from firmware_bridge.firmware import FirmwareQemu, FirmwareUnavailable, build_firmware


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-only", action="store_true", help="build the firmware and exit")
    args = parser.parse_args(argv)
    try:
        if args.build_only:
            print(build_firmware())
            return 0
        fw = FirmwareQemu.start()
    except FirmwareUnavailable as exc:
        print(f"run_firmware: {exc}", file=sys.stderr)
        return 2
    print(fw.port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        fw.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
