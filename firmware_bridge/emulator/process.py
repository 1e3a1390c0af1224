"""``fes emulate --pty`` as a child process, for tests and benchmarks that need the real OS serial path."""

from __future__ import annotations

import subprocess
import sys

from firmware_bridge.errors import BridgeError


class EmulatorProcess:
    """Starts ``fes emulate --pty`` with ``--set`` options; :attr:`path` is the device to open.

    With ``realtime`` the emulator serves at raised scheduling priority
    (``fes emulate --realtime``); :attr:`priority` then says what it got.
    A context manager: leaving it terminates the process (the port vanishes).
    """

    def __init__(self, *options: str, duration_s: float = 0.0, realtime: bool = False) -> None:
        cmd = [sys.executable, "-m", "fes_sim", "emulate", "--pty", "--duration-s", str(duration_s)]
        if realtime:
            cmd.append("--realtime")
        for opt in options:
            cmd += ["--set", opt]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("/dev/"):
            self.proc.wait(5)
            err = self.proc.stderr.read().strip()
            self.close()
            raise BridgeError(f"fes emulate did not start: {err or line or 'no output'}")
        self.path = line
        self.priority = "normal (not requested)"
        if realtime:
            self.priority = self.proc.stdout.readline().strip().removeprefix("priority: ")

    def close(self) -> None:
        """Terminate the emulator (idempotent)."""
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

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
