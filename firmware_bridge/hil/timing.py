"""Latency and jitter statistics, clock synchronisation and real-time pacing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from firmware_bridge.errors import LinkTimeout
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


_WRAP_S = 2**32 * 1e-6  # the device clock (u32 µs) wraps after this long


def wrap_reduce_s(value_s: float | np.ndarray) -> float | np.ndarray:
    """``value_s`` reduced modulo the device clock's wrap into [−wrap/2, wrap/2): a short duration
    computed from wrapped device times comes out right across a wrap."""
    return (value_s + _WRAP_S / 2) % _WRAP_S - _WRAP_S / 2


@dataclass(frozen=True)
class ClockSync:
    """Device − host clock offset from bursts of time-sync pings, with a drift fit across bursts.

    Within a burst the ping with the smallest round trip wins (NTP's rule); the
    winners of successive bursts, fitted linearly against host time, give the
    offset at any moment (:meth:`offset_at`) and the relative drift of the
    two clocks (:meth:`drift_ppm`).
    """

    bursts: tuple[tuple[ClockSample, ...], ...]
    lost: int = 0
    """pings of all bursts that got no answer (skipped)"""

    @property
    def samples(self) -> tuple[ClockSample, ...]:
        """Every answered ping of every burst."""
        return tuple(s for burst in self.bursts for s in burst)

    @property
    def round_trip(self) -> Percentiles:
        """Round trips of every answered ping."""
        return Percentiles.of([s.round_trip_s for s in self.samples])

    @property
    def offset_s(self) -> float:
        """The offset measured by the first burst."""
        return self._points()[1][0]

    def _points(self) -> tuple[np.ndarray, np.ndarray]:
        """Host time and offset of each burst's fastest ping, offsets unwrapped burst to burst."""
        best = [min(burst, key=lambda s: s.round_trip_s) for burst in self.bursts if burst]
        t = np.array([s.host_t_s for s in best])
        off = np.array([s.offset_s for s in best])
        off[1:] = off[0] + np.cumsum(wrap_reduce_s(np.diff(off)))
        return t, off

    def _fit(self) -> tuple[float, float, float] | None:
        """``(t0, offset at t0, slope)`` over the bursts, or None with fewer than two bursts a second apart."""
        t, off = self._points()
        if t.size < 2 or np.ptp(t) < 1.0:
            return None
        slope, at_t0 = np.polyfit(t - t[0], off, 1)
        return float(t[0]), float(at_t0), float(slope)

    def offset_at(self, host_t_s: float | np.ndarray) -> float | np.ndarray:
        """Device − host offset at host time ``host_t_s``: the drift fit, else the latest burst's offset."""
        t = np.asarray(host_t_s, dtype=float)
        fit = self._fit()
        if fit is None:
            return np.full_like(t, self._points()[1][-1])
        t0, at_t0, slope = fit
        return at_t0 + slope * (t - t0)

    def drift_ppm(self) -> float:
        """Drift of the device clock against the host's, ppm (NaN without two bursts a second apart)."""
        fit = self._fit()
        return float("nan") if fit is None else fit[2] * 1e6

    def with_burst(self, other: "ClockSync") -> "ClockSync":
        """This sync with the bursts of ``other`` appended."""
        return ClockSync(self.bursts + other.bursts, self.lost + other.lost)


def sync_clock(link: FesLink, pings: int = 20, gap_s: float = 0.002, min_answered: int | None = None) -> ClockSync:
    """One burst of ``pings`` time-sync pings; a lost ping is skipped (counted in ``lost``).

    Raises
    ------
    LinkTimeout
        When fewer than ``min_answered`` pings (default: half, at least one) were answered.
    """
    need = max(1, pings // 2) if min_answered is None else min_answered
    samples, lost = [], 0
    for _ in range(pings):
        try:
            samples.append(link.ping())
        except LinkTimeout:
            lost += 1
        time.sleep(gap_s)
    if len(samples) < need:
        raise LinkTimeout(f"time sync: only {len(samples)} of {pings} pings answered (at least {need} needed)")
    return ClockSync((tuple(samples),), lost)


def sleep_until(deadline_s: float, clock: Callable[[], float] = time.monotonic) -> None:
    """Sleep until ``clock()`` reaches ``deadline_s`` (returns at once if it has)."""
    left = deadline_s - clock()
    while left > 0:
        time.sleep(left)
        left = deadline_s - clock()
