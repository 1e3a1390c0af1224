"""Scoring detected gait events against reference events.

Matching is one-to-one by mutual nearest neighbour within a tolerance: a
detection and a reference event of the same type match when each is the
other's nearest and they are at most ``tolerance_s`` apart. Unmatched
references are misses, unmatched detections are false detections. Errors are
signed ``detected − reference`` in milliseconds (positive = late).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fes_sim.samples import GaitEvent

EVENT_TYPES: tuple[GaitEvent, ...] = (GaitEvent.HEEL_STRIKE, GaitEvent.HEEL_OFF, GaitEvent.TOE_OFF)


def match_events(reference_s, detected_s, tolerance_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mutual-nearest-neighbour pairs of two sorted-or-not time lists.

    Returns
    -------
    ref_idx, det_idx : ndarray of int
        Indices into ``reference_s`` and ``detected_s`` of the matched pairs.
    """
    ref = np.asarray(reference_s, dtype=float)
    det = np.asarray(detected_s, dtype=float)
    if ref.size == 0 or det.size == 0:
        empty = np.zeros(0, dtype=int)
        return empty, empty
    ref_order = np.argsort(ref, kind="stable")
    det_order = np.argsort(det, kind="stable")
    r = ref[ref_order]
    d = det[det_order]

    def nearest(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(dst, src)
        lo = np.clip(pos - 1, 0, dst.size - 1)
        hi = np.clip(pos, 0, dst.size - 1)
        return np.where(np.abs(dst[lo] - src) <= np.abs(dst[hi] - src), lo, hi)

    r2d = nearest(r, d)
    d2r = nearest(d, r)
    ri = np.arange(r.size)
    ok = (d2r[r2d] == ri) & (np.abs(d[r2d] - r) <= tolerance_s)
    return ref_order[ri[ok]], det_order[r2d[ok]]


@dataclass
class EventScore:
    """Detection figures for one event type."""

    event: GaitEvent
    n_reference: int
    n_detected: int
    n_matched: int
    errors_ms: np.ndarray = field(repr=False)

    @property
    def sensitivity(self) -> float:
        """Matched / reference (nan without references)."""
        return self.n_matched / self.n_reference if self.n_reference else float("nan")

    @property
    def precision(self) -> float:
        """Matched / detected (nan without detections, or without references to judge them by)."""
        return self.n_matched / self.n_detected if self.n_detected and self.n_reference else float("nan")

    def _stat(self, values: np.ndarray, q: float) -> float:
        return float(np.percentile(values, q)) if values.size else float("nan")

    def summary(self) -> dict[str, float | int]:
        """The figures reported by ``fes replay --json`` for this event type."""
        e = self.errors_ms
        a = np.abs(e)
        return {
            "sensitivity": self.sensitivity,
            "precision": self.precision,
            "median_abs_error_ms": self._stat(a, 50),
            "median_error_ms": self._stat(e, 50),
            "p95_abs_error_ms": self._stat(a, 95),
            "iqr_error_ms": self._stat(e, 75) - self._stat(e, 25) if e.size else float("nan"),
            "iqr_abs_error_ms": self._stat(a, 75) - self._stat(a, 25) if a.size else float("nan"),
            "p95_error_ms": self._stat(e, 95),
            "n_reference": self.n_reference,
            "n_detected": self.n_detected,
            "n_matched": self.n_matched,
        }


def score_events(reference, detected, tolerance_s: float = 0.15, t_range: tuple[float, float] | None = None) -> dict[GaitEvent, EventScore]:
    """Score ``detected`` against ``reference``, both sequences of ``(t_s, GaitEvent)``.

    ``t_range = (t_lo, t_hi)`` scores only that span (e.g. to skip the first
    stride a causal detector cannot see). Matching uses all events; references
    inside the span count, a match counts when its reference is inside, and an
    unmatched detection counts as false when it is inside.
    """
    out: dict[GaitEvent, EventScore] = {}
    for ev in EVENT_TYPES:
        ref = np.array([t for t, e in reference if e == ev], dtype=float)
        det = np.array([t for t, e in detected if e == ev], dtype=float)
        ri, di = match_events(ref, det, tolerance_s)
        if t_range is None:
            out[ev] = EventScore(ev, ref.size, det.size, ri.size, (det[di] - ref[ri]) * 1000.0)
            continue
        lo, hi = t_range
        keep = (ref[ri] >= lo) & (ref[ri] <= hi)
        ri, di = ri[keep], di[keep]
        unmatched = np.ones(det.size, dtype=bool)
        unmatched[match_events(ref, det, tolerance_s)[1]] = False
        n_false = int((unmatched & (det >= lo) & (det <= hi)).sum())
        n_ref = int(((ref >= lo) & (ref <= hi)).sum())
        out[ev] = EventScore(ev, n_ref, ri.size + n_false, ri.size, (det[di] - ref[ri]) * 1000.0)
    return out
