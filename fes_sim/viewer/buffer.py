"""Thread-safe store between a data source thread and the viewer's redraw timer.

A source thread calls :meth:`ViewerBuffer.push` once per batch of samples; the
GUI thread calls :meth:`ViewerBuffer.snapshot` on each frame and gets copies,
so drawing never holds the lock for long and never waits on I/O.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from fes_sim.samples import GaitEvent

NAN = math.nan

#: per-sample channels kept in the ring (units in the names)
CHANNELS: tuple[str, ...] = (
    "t_s",
    "true_tilt_deg",
    "tilt_est_deg",
    "gyr_z_dps",
    "envelope",
    "current_ma",
    "pulses",
    "ankle_deg",
    "toe_height_mm",
    "foot_pitch_deg",
    "knee_deg",
    "threshold_deg",
)
COLUMN: dict[str, int] = {name: i for i, name in enumerate(CHANNELS)}


@dataclass(frozen=True)
class StrideMark:
    """One finished stride: its swing phase, its minimum toe clearance and whether the toe dragged."""

    t_start_s: float
    t_end_s: float
    t_mtc_s: float
    mtc_mm: float
    toe_drag: bool


@dataclass
class Status:
    """The latest non-sample state a source reports (replaced whole on each push)."""

    stim_state: str = ""
    faults: str = ""
    link: str = ""
    source: str = ""
    finished: bool = False
    notice: str = ""  # the last refused retune, until a later one is accepted


@dataclass(frozen=True)
class Snapshot:
    """Copies of everything the viewer draws for one frame."""

    samples: dict[str, np.ndarray]
    detected: list[tuple[float, GaitEvent]]
    truth: list[tuple[float, GaitEvent]]
    strides: list[StrideMark]
    stride_count: int
    status: Status
    version: int
    marks_version: int = 0

    @property
    def t_now_s(self) -> float:
        """Time of the newest sample (nan when empty)."""
        t = self.samples["t_s"]
        return float(t[-1]) if t.size else NAN

    def latest(self, channel: str) -> float:
        """Newest value of one channel (nan when empty)."""
        a = self.samples[channel]
        return float(a[-1]) if a.size else NAN


@dataclass
class _Events:
    detected: deque = field(default_factory=lambda: deque(maxlen=4096))
    truth: deque = field(default_factory=lambda: deque(maxlen=4096))
    strides: deque = field(default_factory=lambda: deque(maxlen=1024))


class ViewerBuffer:
    """Ring buffer of the last ``capacity`` samples plus event and stride logs.

    Parameters
    ----------
    capacity
        Samples kept (e.g. 30 s at 200 Hz = 6000).
    """

    def __init__(self, capacity: int = 6000) -> None:
        if capacity < 2:
            raise ValueError(f"capacity {capacity} < 2")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._data = np.full((capacity, len(CHANNELS)), NAN)
        self._written = 0
        self._events = _Events()
        self._stride_count = 0
        self._status = Status()
        self._version = 0
        self._marks_version = 0

    def clear(self) -> None:
        """Forget everything (a new run starts)."""
        with self._lock:
            self._data.fill(NAN)
            self._written = 0
            self._events = _Events()
            self._stride_count = 0
            self._status = Status()
            self._version += 1
            self._marks_version += 1

    def push(
        self,
        rows: np.ndarray | Sequence[Sequence[float]],
        detected: Iterable[tuple[float, GaitEvent]] = (),
        truth: Iterable[tuple[float, GaitEvent]] = (),
        strides: Iterable[StrideMark] = (),
        status: Status | None = None,
    ) -> None:
        """Append sample rows (columns in :data:`CHANNELS` order) and events."""
        block = np.asarray(rows, dtype=float).reshape(-1, len(CHANNELS))
        if block.shape[0] > self.capacity:
            block = block[-self.capacity :]
        new_detected, new_truth, new_strides = list(detected), list(truth), list(strides)
        with self._lock:
            n = block.shape[0]
            start = self._written % self.capacity
            first = min(n, self.capacity - start)
            self._data[start : start + first] = block[:first]
            self._data[: n - first] = block[first:]
            self._written += n
            self._events.detected.extend(new_detected)
            self._events.truth.extend(new_truth)
            self._events.strides.extend(new_strides)
            self._stride_count += len(new_strides)
            if status is not None:
                self._status = status
            self._version += 1
            if new_detected or new_truth or new_strides:
                self._marks_version += 1

    @property
    def version(self) -> int:
        """Grows on every change; the viewer skips a redraw when it has not moved."""
        return self._version

    @property
    def marks_version(self) -> int:
        """Grows when events or strides arrive (or on :meth:`clear`); markers are redrawn only then."""
        return self._marks_version

    @property
    def samples_written(self) -> int:
        """Samples pushed since the last :meth:`clear`."""
        return self._written

    def snapshot(self, window_s: float | None = None) -> Snapshot:
        """Copies of the samples (oldest first; the last ``window_s`` seconds only if given) and logs.

        Only the rows and marks inside the window are copied, so a frame costs the
        same however large the ring is.
        """
        with self._lock:
            n = min(self._written, self.capacity)
            first = self._first_in_window(n, window_s) if n else 0
            data = self._copy_rows(first, n)
            t0 = -math.inf if window_s is None else float(data[0, 0]) if data.shape[0] else math.inf
            ev = self._events
            detected = _since(ev.detected, t0, _event_time)
            truth = _since(ev.truth, t0, _event_time)
            strides = _since(ev.strides, t0, _stride_end)
            status, count, version, marks = self._status, self._stride_count, self._version, self._marks_version
        samples = {name: data[:, i] for name, i in COLUMN.items()}
        return Snapshot(samples, detected, truth, strides, count, status, version, marks)

    def _row(self, logical: int, n: int) -> int:
        """Ring index of the ``logical``-th of the ``n`` newest rows (0 = oldest)."""
        return (self._written - n + logical) % self.capacity

    def _first_in_window(self, n: int, window_s: float | None) -> int:
        """Logical index of the oldest of the ``n`` rows within ``window_s`` of the newest (binary search)."""
        if window_s is None:
            return 0
        t = self._data[:, 0]
        t_from = t[self._row(n - 1, n)] - window_s
        lo, hi = 0, n - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if t[self._row(mid, n)] >= t_from:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _copy_rows(self, first: int, n: int) -> np.ndarray:
        """Rows ``first`` .. ``n - 1`` (logical, oldest first) as one new array."""
        start, count = self._row(first, n), n - first
        if start + count <= self.capacity:
            return self._data[start : start + count].copy()
        return np.concatenate((self._data[start:], self._data[: start + count - self.capacity]))


def _event_time(event: tuple[float, GaitEvent]) -> float:
    return event[0]


def _stride_end(stride: StrideMark) -> float:
    return stride.t_end_s


def _since(log: deque, t0: float, time_of: Callable[[Any], float]) -> list:
    """The entries of a time-ordered log from ``t0`` on, oldest first, scanning from the newest."""
    out = []
    for item in reversed(log):
        if time_of(item) < t0:
            break
        out.append(item)
    out.reverse()
    return out


def make_row(values: Mapping[str, float]) -> list[float]:
    """One row in :data:`CHANNELS` order; channels not given are nan."""
    return [float(values.get(name, NAN)) for name in CHANNELS]
