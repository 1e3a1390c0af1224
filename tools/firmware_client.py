"""A minimal protocol client over a serial port for the firmware tests and benchmark.

It deliberately uses only :mod:`firmware_bridge.protocol` (codec) and pyserial,
not the bridge's link layer, so the firmware is checked against the wire
specification itself.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import serial

from firmware_bridge.protocol import framing


class FirmwareClient:
    """Sends protocol messages and collects every decoded device frame with its host time."""

    def __init__(self, port: str) -> None:
        self.serial = serial.Serial(port, timeout=0.01)
        self.decoder = framing.FrameDecoder()
        self.frames: list[tuple[float, Any]] = []
        self._cond = threading.Condition()
        self._seq = 0
        self._stop = False
        self.serial.write(b"\x00")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop:
            data = self.serial.read(self.serial.in_waiting or 1)
            if data:
                now = time.perf_counter()
                packets = self.decoder.feed(data)
                if packets:
                    with self._cond:
                        self.frames.extend((now, p.message) for p in packets)
                        self._cond.notify_all()

    def next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def send(self, msg: object, seq: int | None = None) -> int:
        """Write one frame; returns its seq."""
        seq = self.next_seq() if seq is None else seq
        self.serial.write(framing.encode(msg, seq))
        return seq

    def wait_for(self, kind: type, start: int = 0, timeout_s: float = 2.0, **match: Any) -> tuple[float, Any]:
        """The first frame of ``kind`` (with these field values) at or after index ``start``."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for t, m in self.frames[start:]:
                    if isinstance(m, kind) and all(getattr(m, k) == v for k, v in match.items()):
                        return t, m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind.__name__} {match} from the device")
                self._cond.wait(left)

    def request(self, msg: object, kind: type, timeout_s: float = 2.0) -> Any:
        """Send a command and return its answer of type ``kind`` (or a NAK, which is returned too)."""
        start = len(self.frames)
        seq = self.send(msg)
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for _, m in self.frames[start:]:
                    if getattr(m, "req_seq", None) == seq:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to {type(msg).__name__}")
                self._cond.wait(left)

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=1)
        self.serial.close()
