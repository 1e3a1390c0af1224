"""Random corruption of the emulated wire: bit flips, drops, duplicates, delays."""

from __future__ import annotations

import numpy as np

from firmware_bridge.emulator.config import FaultInjection


class FaultInjector:
    """Applies :class:`FaultInjection` to chunks of bytes, with a seeded generator.

    :meth:`apply` returns ``(delay_s, chunk)`` pairs to deliver: none when the
    chunk is dropped, two when it is duplicated.
    """

    def __init__(self, config: FaultInjection, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self.flipped_bits = 0
        self.dropped = 0
        self.duplicated = 0
        self.delayed = 0

    def apply(self, chunk: bytes) -> list[tuple[float, bytes]]:
        """Corrupt one chunk; returns what to deliver and after how long."""
        cfg, rng = self.config, self.rng
        if not cfg.active or not chunk:
            return [(0.0, chunk)]
        if cfg.drop and rng.random() < cfg.drop:
            self.dropped += 1
            return []
        if cfg.flip_per_byte:
            hits = np.flatnonzero(rng.random(len(chunk)) < cfg.flip_per_byte)
            if hits.size:
                data = bytearray(chunk)
                for i in hits:
                    data[i] ^= 1 << int(rng.integers(8))
                self.flipped_bits += hits.size
                chunk = bytes(data)
        delay = 0.0
        if cfg.delay and rng.random() < cfg.delay:
            self.delayed += 1
            delay = cfg.delay_ms * 1e-3
        out = [(delay, chunk)]
        if cfg.duplicate and rng.random() < cfg.duplicate:
            self.duplicated += 1
            out.append((delay, chunk))
        return out
