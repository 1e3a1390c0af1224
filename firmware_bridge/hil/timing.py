"""Latency and jitter statistics, clock synchronisation and real-time pacing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from firmware_bridge.link.fes_link import ClockSample, FesLink


@dataclass(frozen=True)
class Percentiles:
    """p50, p95, p99 and max of a set of durations, in seconds."""

    n: int
    p50_s: float
    p95_s: float
    p99_s: float
    max_s: float

    @classmethod
    def of(cls, values_s: Sequence[float]) -> "Percentiles":
        """Statistics of ``values_s`` (NaN when empty)."""
        v = np.asarray(values_s, dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        p50, p95, p99 = np.percentile(v, [50, 95, 99])
        return cls(int(v.size), float(p50), float(p95), float(p99), float(v.max()))

    def row(self, name: str) -> tuple[str, int, float, float, float, float]:
        """``(name, n, p50_ms, p95_ms, p99_ms, max_ms)`` for a table."""
        return (name, self.n, self.p50_s * 1e3, self.p95_s * 1e3, self.p99_s * 1e3, self.max_s * 1e3)


def jitter(arrival_s: Sequence[float], period_s: float) -> Percentiles:
    """Absolute deviation of inter-arrival intervals from the nominal period."""
    t = np.asarray(arrival_s, dtype=float)
    if t.size < 2:
        return Percentiles.of([])
    return Percentiles.of(np.abs(np.diff(t) - period_s))


@dataclass(frozen=True)
class ClockSync:
    """Device − host clock offset from the fastest of several pings, and all round trips."""

    offset_s: float
    round_trip: Percentiles
    samples: tuple[ClockSample, ...]

    def drift_ppm(self) -> float:
        """Slope of offset against host time over the samples (needs a spread of seconds to mean much)."""
        if len(self.samples) < 3:
            return float("nan")
        t = np.array([s.host_t_s for s in self.samples])
        off = np.array([s.offset_s for s in self.samples])
        if np.ptp(t) <= 0:
            return float("nan")
        return float(np.polyfit(t - t[0], off, 1)[0] * 1e6)


def sync_clock(link: FesLink, pings: int = 20, gap_s: float = 0.002) -> ClockSync:
    """Ping ``pings`` times; the offset of the ping with the smallest round trip wins (NTP's rule)."""
    samples = []
    for _ in range(pings):
        samples.append(link.ping())
        time.sleep(gap_s)
    best = min(samples, key=lambda s: s.round_trip_s)
    return ClockSync(best.offset_s, Percentiles.of([s.round_trip_s for s in samples]), tuple(samples))


def sleep_until(deadline_s: float, clock: Callable[[], float] = time.monotonic) -> None:
    """Sleep until ``clock()`` reaches ``deadline_s`` (returns at once if it has)."""
    left = deadline_s - clock()
    while left > 0:
        time.sleep(left)
        left = deadline_s - clock()
