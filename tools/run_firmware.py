#!/usr/bin/env python3
"""Build the reference firmware if needed and run it in QEMU on a pty.

``qemu-system-arm -M mps2-an385 -serial pty`` connects the board's CMSDK UART0
to a new pseudo-terminal. This module starts QEMU, reads the device path from
its "char device redirected to /dev/pts/N" line and hands it back, so any
serial client (pyserial, ``fes hil``) can open it like a USB board.

Library use (tests, ``fes emulate --firmware``)::

    from run_firmware import FirmwareQemu     # tools/ on sys.path
    with FirmwareQemu.start() as fw:          # builds with make if needed
        print(fw.port)                        # "/dev/pts/7"

Command line: ``python tools/run_firmware.py`` prints the path and serves
until Ctrl-C (``--build-only`` just builds).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
ELF_NAME = "fes_fw.elf"
MACHINE = "mps2-an385"
_PTY_LINE = re.compile(rb"char device redirected to (\S+)")


class FirmwareUnavailable(RuntimeError):
    """The ARM toolchain or QEMU is missing, or the firmware does not build."""


def missing_tools() -> list[str]:
    """Names of the executables the firmware needs that are not on PATH."""
    return [t for t in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(t) is None]


def build_firmware(firmware_dir: Path = FIRMWARE_DIR, build_dir: Path | None = None) -> Path:
    """Run ``make`` (a no-op when up to date) and return the ELF path."""
    missing = missing_tools()
    if missing:
        raise FirmwareUnavailable(f"missing {', '.join(missing)}")
    build_dir = build_dir or firmware_dir / "build"
    proc = subprocess.run(
        ["make", "-C", str(firmware_dir), f"BUILD={build_dir}"],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise FirmwareUnavailable(f"firmware build failed:\n{proc.stdout}{proc.stderr}")
    return build_dir / ELF_NAME


@dataclass
class FirmwareQemu:
    """A running QEMU instance with the firmware; ``port`` is its serial device."""

    process: subprocess.Popen
    port: str
    elf: Path
    _closed: bool = field(default=False, repr=False)

    @classmethod
    def start(cls, elf: Path | None = None, timeout_s: float = 10.0) -> "FirmwareQemu":
        """Build if needed, boot QEMU with ``-serial pty``, return once the pty exists."""
        elf = elf or build_firmware()
        cmd = [
            "qemu-system-arm", "-M", MACHINE, "-display", "none", "-monitor", "none",
            "-serial", "pty", "-kernel", str(elf),
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
                match = _PTY_LINE.search(seen)
                if match:
                    port = match.group(1).decode()
                    log.info("firmware %s running in QEMU pid %d on %s", elf.name, proc.pid, port)
                    return cls(proc, port, elf)
            elif proc.poll() is not None:
                break
        proc.kill()
        proc.wait()
        raise FirmwareUnavailable(f"QEMU did not report its pty: {seen.decode(errors='replace').strip()}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Stop QEMU (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> "FirmwareQemu":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
