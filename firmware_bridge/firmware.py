"""The reference firmware (``firmware/``) built and run in QEMU on a pseudo-terminal.

``qemu-system-arm -M mps2-an385 -serial pty`` connects the board's CMSDK UART0 to
a new pseudo-terminal; :meth:`FirmwareQemu.start` builds the firmware with
``make`` when it is out of date, starts QEMU, reads the device path from its
"char device redirected to /dev/pts/N" line and hands it back, so any serial
client (pyserial, ``fes hil``) can open it like a USB board. ``fes emulate
--firmware`` and ``tools/run_firmware.py`` are its command lines. The firmware
sources come with a source checkout of this repository, not with the package.
"""

from __future__ import annotations

import logging
import os
import re
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from firmware_bridge.errors import BridgeError

log = logging.getLogger(__name__)

FIRMWARE_DIR = Path(__file__).resolve().parents[1] / "firmware"
ELF_NAME = "fes_fw.elf"
MACHINE = "mps2-an385"
_PTY_LINE = re.compile(rb"char device redirected to (\S+)")


class FirmwareUnavailable(BridgeError):
    """The ARM toolchain or QEMU is missing, the sources are absent, or the firmware does not build."""


def missing_tools() -> list[str]:
    """Names of the executables the firmware needs that are not on PATH."""
    return [t for t in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(t) is None]


def build_firmware(firmware_dir: Path = FIRMWARE_DIR, build_dir: Path | None = None) -> Path:
    """Run ``make`` (a no-op when up to date) and return the ELF path."""
    missing = missing_tools()
    if missing:
        raise FirmwareUnavailable(f"cannot build the firmware: {', '.join(missing)} not installed")
    if not (firmware_dir / "Makefile").is_file():
        raise FirmwareUnavailable(f"no firmware sources at {firmware_dir} (a source checkout is needed)")
    build_dir = build_dir or firmware_dir / "build"
    proc = subprocess.run(["make", "-C", str(firmware_dir), f"BUILD={build_dir}"], capture_output=True, text=True)
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
        """True while QEMU runs."""
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
