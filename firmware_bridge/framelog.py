"""A CSV log of every frame crossing the link, with host timestamps, written as the run goes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TextIO

from firmware_bridge.errors import BridgeError
from firmware_bridge.protocol import definition

HEADER = "host_t_s,dir,seq,msg,wire_hex,fields"


class FrameLog:
    """Appends one line per frame: ``host_t_s,dir,seq,msg,wire_hex,fields``.

    ``dir`` is ``tx`` (host → device), ``rx`` (device → host) or ``err`` (a
    received frame was dropped; ``msg`` names the counter that rose). Each line
    is flushed, so the log is complete up to the last frame even if the process
    dies. Thread-safe.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._fh: TextIO | None = self.path.open("w", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise BridgeError(f"{self.path}: cannot write the frame log ({exc.strerror})") from None
        self._lock = threading.Lock()
        self._fh.write("# fes-sim frame log v1\n" + HEADER + "\n")

    def frame(self, host_t_s: float, direction: str, seq: int, msg: object, wire: bytes) -> None:
        """Log one frame (``wire`` = its COBS bytes)."""
        defn = definition(msg)
        fields = ";".join(f"{f.name}={getattr(msg, f.name)!r}" for f in defn.fields if not f.name.startswith("reserved"))
        self._line(f"{host_t_s:.6f},{direction},{seq},{defn.name},{bytes(wire).hex()},{fields}")

    def error(self, host_t_s: float, counter: str, count: int) -> None:
        """Log that ``count`` received frames were dropped for reason ``counter``."""
        self._line(f"{host_t_s:.6f},err,,{counter},,count={count}")

    def note(self, host_t_s: float, text: str) -> None:
        """Log a free-text event (link opened, port vanished, ...)."""
        self._line(f"{host_t_s:.6f},note,,,,{text.replace(',', ';')}")

    def _line(self, text: str) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.write(text + "\n")

    def close(self) -> None:
        """Flush and close; safe to call twice."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None
