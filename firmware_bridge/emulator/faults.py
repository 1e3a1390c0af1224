"""Random corruption of the emulated wire: bit flips, drops, duplicates, delays."""

from __future__ import annotations

import numpy as np

from firmware_bridge.emulator.config import FaultInjection


class FaultInjector:
    """Applies :class:`FaultInjection` frame by frame, with a seeded generator.

    :meth:`apply` returns ``(delay_s, piece)`` pairs to deliver: none for a
    dropped frame, two for a duplicated one. A delayed frame is overtaken by
    the frames after it (reordering), as on a lossy link.
    """

    def __init__(self, config: FaultInjection, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self.flipped_bits = 0
        self.dropped = 0
        self.duplicated = 0
        self.delayed = 0

    def apply(self, chunk: bytes) -> list[tuple[float, bytes]]:
        """Corrupt a chunk frame by frame (pieces ending at a 0x00 delimiter); returns what to deliver when."""
        if not self.config.active or not chunk:
            return [(0.0, chunk)]
        out: list[tuple[float, bytes]] = []
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\x00", start)
            end = len(chunk) if end < 0 else end + 1
            out += self._frame(chunk[start:end])
            start = end
        return out

    def _frame(self, piece: bytes) -> list[tuple[float, bytes]]:
        cfg, rng = self.config, self.rng
        if cfg.drop and rng.random() < cfg.drop:
            self.dropped += 1
            return []
        if cfg.flip_per_byte:
            hits = np.flatnonzero(rng.random(len(piece)) < cfg.flip_per_byte)
            if hits.size:
                data = bytearray(piece)
                for i in hits:
                    data[i] ^= 1 << int(rng.integers(8))
                self.flipped_bits += int(hits.size)
                piece = bytes(data)
        delay = 0.0
        if cfg.delay and rng.random() < cfg.delay:
            self.delayed += 1
            delay = cfg.delay_ms * 1e-3
        out = [(delay, piece)]
        if cfg.duplicate and rng.random() < cfg.duplicate:
            self.duplicated += 1
            out.append((delay, piece))
        return out
