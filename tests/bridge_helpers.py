"""Helpers shared by the bridge tests: an emulator served on a pty by a separate process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


class PtyEmulator:
    """``fes emulate --pty`` in a child process; :attr:`path` is its device path."""

    def __init__(self, *options: str, duration_s: float = 0.0) -> None:
        cmd = [sys.executable, "-m", "fes_sim", "emulate", "--pty", "--duration-s", str(duration_s)]
        for opt in options:
            cmd += ["--set", opt]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("/dev/"):
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.close()
            raise RuntimeError(f"fes emulate did not print a device path: {line!r} {err}")
        self.path = line
        self.started_s = time.monotonic()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> "PtyEmulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_frame_log(path: Path) -> list[list[str]]:
    """Rows of a frame log (after its comment and header lines)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# fes-sim frame log") and lines[1].startswith("host_t_s,")
    return [line.split(",", 5) for line in lines[2:]]
