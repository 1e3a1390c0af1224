"""Latency and jitter statistics, clock synchronisation and real-time pacing."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from firmware_bridge.errors import LinkTimeout
from firmware_bridge.link.fes_link import ClockSample, FesLink
from firmware_bridge.protocol.constants import CLOCK_TOLERANCE_PPM


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
    """Bursts of time-sync pings; each answered ping bounds the device − host clock offset at its time."""

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
        """Offset of the first burst's fastest ping (NTP's rule)."""
        return min(self.bursts[0], key=lambda s: s.round_trip_s).offset_s

    def with_burst(self, other: "ClockSync") -> "ClockSync":
        """This sync with the bursts of ``other`` appended."""
        return ClockSync(self.bursts + other.bursts, self.lost + other.lost)


MIN_FIT_SPAN_S = 0.25
"""Shortest run of samples the device clock is fitted to."""
ENVELOPE_WINDOW_S = 1.0
ENVELOPE_GAP_S = 0.002
"""Within every ``ENVELOPE_WINDOW_S`` of the run some sample must come within this of the minimum delay."""
PING_TOLERANCE_S = 100e-6
"""Slack on the ping bounds: µs timestamps, and the device's turnaround times the drift."""


@dataclass(frozen=True)
class DeviceClockFit:
    """Device clock as a straight line of host time, fitted to the samples' minimum one-way delay.

    A sample stamped ``d`` on the device clock is read on the host at ``rx`` no earlier than it was
    taken, so ``d`` lies on or below the line ``device = rate · host + intercept`` of the true clock
    relation. The fit is the lowest line above every sample that minimises their summed distance to it
    (the upper convex hull edge over the mean host time; the minimum-delay skew estimator of
    Moon, Skelly and Towsley, 1999): delays and stalls only push samples below it, so, unlike a mean
    fit, they do not bias it. The line's distance above a sample is its transit beyond the fastest;
    the fastest transit itself, ``min_transit_s``, lies in the interval the pings allow (each ping
    was read by the device after the host sent it and answered before the host received the answer)
    and is taken at its middle, ``± min_transit_uncertainty_s``.

    ``reason`` is empty when the fit is trustworthy, else it says why the device clock cannot be
    mapped to the host's: drift beyond ``max_drift_ppm``, a second of the run with no sample near
    the line (the device clock stepped or changed rate), or pings outside the line's bounds.
    """

    host_origin_s: float
    device_origin_s: float
    rate: float
    """device seconds per host second"""
    min_transit_s: float
    min_transit_uncertainty_s: float
    reason: str = ""

    @property
    def drift_ppm(self) -> float:
        """Device clock rate error against the host's, ppm."""
        return (self.rate - 1.0) * 1e6

    def transit_s(self, rx_s: np.ndarray, device_s: np.ndarray) -> np.ndarray:
        """Time from each sample being taken to its bytes being read, host seconds."""
        line_s = self.device_origin_s + self.rate * (np.asarray(rx_s) - self.host_origin_s)
        return (line_s - np.asarray(device_s)) / self.rate + self.min_transit_s


def _hull_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(slope, intercept)`` of the upper convex hull edge of points sorted by ``x`` that spans ``mean(x)``."""
    hull: list[int] = []
    for k in range(x.size):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            if (y[j] - y[i]) * (x[k] - x[i]) <= (y[k] - y[i]) * (x[j] - x[i]):
                hull.pop()
            else:
                break
        hull.append(k)
    h = np.array(hull)
    edge = int(np.clip(np.searchsorted(x[h], x.mean()) - 1, 0, h.size - 2))
    i, j = h[edge], h[edge + 1]
    slope = (y[j] - y[i]) / (x[j] - x[i])
    return float(slope), float(y[i] - slope * x[i])


def fit_device_clock(rx_s: Sequence[float], device_s: Sequence[float], sync: ClockSync | None,
                     max_drift_ppm: float = CLOCK_TOLERANCE_PPM) -> DeviceClockFit | None:
    """Fit the device clock to host time from samples' host read times and unwrapped device stamps.

    None with under ``MIN_FIT_SPAN_S`` of samples. ``sync``'s pings bound the fastest transit
    and check the line; the device stamps are unwrapped from a raw u32 µs value (as
    :class:`~firmware_bridge.samples.Unwrapper` does), the pings' offsets modulo the wrap.
    """
    rx, dev = np.asarray(rx_s, dtype=float), np.asarray(device_s, dtype=float)
    if rx.size < 2 or np.ptp(rx) < MIN_FIT_SPAN_S:
        return None
    x, y = rx - rx[0], dev - dev[0]
    rate, intercept = _hull_line(x, y)
    excess_s = (intercept + rate * x - y) / rate
    reasons = []
    if abs(rate - 1.0) * 1e6 > max_drift_ppm:
        reasons.append(f"device clock drift {(rate - 1.0) * 1e6:+.0f} ppm beyond ±{max_drift_ppm:g} ppm")
    window = (x // ENVELOPE_WINDOW_S).astype(int)
    nearest_s = np.full(window.max() + 1, np.inf)
    np.minimum.at(nearest_s, window, excess_s)
    if nearest_s.max() > ENVELOPE_GAP_S:
        worst = int(np.argmax(nearest_s))
        reasons.append(f"device clock not linear in host time: in second {worst} of the run no sample came within "
                       f"{ENVELOPE_GAP_S * 1e3:g} ms of the fitted line (nearest {nearest_s[worst] * 1e3:.1f} ms)")
    lo_s, hi_s = 0.0, math.inf
    if sync is not None:
        def offset_on_line_s(host_s: float) -> float:
            """device − host on the fitted line (zero transit) at ``host_s``."""
            return dev[0] + intercept + rate * (host_s - rx[0]) - host_s
        for ping in sync.samples:
            upper = ping.offset_s + ping.round_trip_s / 2  # device read − host sent
            lower = ping.offset_s - ping.round_trip_s / 2  # device answered − host received
            hi_s = min(hi_s, float(wrap_reduce_s(upper - offset_on_line_s(ping.host_t_s - ping.round_trip_s))) / rate)
            lo_s = max(lo_s, float(wrap_reduce_s(lower - offset_on_line_s(ping.host_t_s))) / rate)
    if lo_s > hi_s + PING_TOLERANCE_S:
        reasons.append(f"pings contradict the fitted device clock by {(lo_s - hi_s) * 1e3:.2f} ms")
    if math.isinf(hi_s):
        hi_s = lo_s
    mid_s = max(0.0, (lo_s + hi_s) / 2)
    return DeviceClockFit(float(rx[0]), float(dev[0] + intercept), rate, mid_s, abs(hi_s - lo_s) / 2, "; ".join(reasons))


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
