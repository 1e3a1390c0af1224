"""Stride-to-stride variability: AR(1) stride times and per-stride joint offsets.

Stride-time CV is 2-3 % in healthy adults (Beauchet 2009) and higher after stroke
(Öken 2008). A per-stride AR(1) with ρ ≈ 0.3-0.5 plus per-stride offsets of 1-3° on
the joint curves reproduces this (REFERENCE §2).

Both classes hold N walkers, one row each (one for a lone walker's motion, N for a batch
of walk-only walkers), so a batch extends every walker's strides in a few numpy operations.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

#: joint curves that get a per-stride offset (in swing)
OFFSET_SIGNALS: tuple[str, ...] = ("shank", "thigh", "knee", "ankle")
#: normal draws per stride: the AR(1) innovation, then one per offset
_DRAWS_PER_STRIDE = 1 + len(OFFSET_SIGNALS)


class StrideSequence:
    """Draws successive strides of N walkers: durations (s) and joint offsets (deg).

    Parameters
    ----------
    mean_s, cv, rho, offset_sd_deg
        Each walker's mean stride time, coefficient of variation, lag-1 autocorrelation and
        standard deviation of each per-stride joint offset (sequences of N).
    rngs
        Each walker's random generator (consumed in a fixed order).
    strides_per_draw
        Strides' normals drawn per call of a generator. One call for many strides gives the
        same numbers as one per stride, but leaves the generator ahead: more than 1 only when
        nothing else draws from it.
    """

    def __init__(
        self, mean_s: Sequence[float], cv: Sequence[float], rho: Sequence[float], offset_sd_deg: Sequence[float],
        rngs: Sequence[np.random.Generator], strides_per_draw: int = 1,
    ) -> None:
        n = len(rngs)
        self._rngs = list(rngs)
        self.mean_s, self.cv, self.rho, self.offset_sd_deg, self._innovation_sd = (np.empty(n) for _ in range(5))
        self.retime(np.arange(n), mean_s, cv, rho, offset_sd_deg)
        self._e = np.array([rng.standard_normal() for rng in self._rngs]) * self.cv
        self._normals = np.empty((n, strides_per_draw, _DRAWS_PER_STRIDE))
        self._used = np.full(n, strides_per_draw)  # strides of each row's normals used

    def retime(
        self, rows: np.ndarray, mean_s: Sequence[float], cv: Sequence[float], rho: Sequence[float], offset_sd_deg: Sequence[float],
    ) -> None:
        """New parameters for the walkers ``rows``, for the strides drawn from now on."""
        self.mean_s[rows], self.cv[rows], self.rho[rows], self.offset_sd_deg[rows] = mean_s, cv, rho, offset_sd_deg
        self._innovation_sd[rows] = [math.sqrt(1.0 - r**2) * c for r, c in zip(self.rho[rows].tolist(), self.cv[rows].tolist())]

    def next(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The next stride of each walker in ``rows`` (distinct): durations (k,) and offsets (k, :data:`OFFSET_SIGNALS`)."""
        self._draw(rows[self._used[rows] == self._normals.shape[1]])
        xi = self._normals[rows, self._used[rows]]
        self._used[rows] += 1
        e = self.rho[rows] * self._e[rows] + self._innovation_sd[rows] * xi[:, 0]
        self._e[rows] = e
        return self.mean_s[rows] * np.maximum(0.7, 1.0 + e), xi[:, 1:] * self.offset_sd_deg[rows, None]

    def _draw(self, rows: np.ndarray) -> None:
        """Fresh normals for the walkers ``rows``, one generator call each."""
        for r in rows.tolist():
            self._normals[r] = self._rngs[r].standard_normal(self._normals.shape[1:])
            self._used[r] = 0

    @classmethod
    def stack(cls, parts: Sequence["StrideSequence"]) -> "StrideSequence":
        """The walkers of ``parts`` in one sequence, in order (the same strides per call)."""
        out = cls.__new__(cls)
        for name in _SEQUENCE_ARRAYS:
            setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
        out._rngs = [rng for p in parts for rng in p._rngs]
        return out

    def row(self, i: int) -> "StrideSequence":
        """Walker ``i`` alone, carrying on where it is here."""
        out = self.__class__.__new__(self.__class__)
        for name in _SEQUENCE_ARRAYS:
            setattr(out, name, getattr(self, name)[i : i + 1].copy())
        out._rngs = [self._rngs[i]]
        return out


_SEQUENCE_ARRAYS = ("mean_s", "cv", "rho", "offset_sd_deg", "_innovation_sd", "_e", "_normals", "_used")


class StrideTable:
    """The strides of N walkers, each row's in order of start: start (s), duration (s) and
    offsets (deg) in columns ``head`` to ``end − 1``; columns are reused as old strides are dropped.

    Parameters
    ----------
    n
        Walkers (rows).
    columns
        Strides a row holds before the table grows.
    """

    def __init__(self, n: int, columns: int = 32) -> None:
        self.start_s = np.full((n, columns), np.inf)
        self.duration_s = np.ones((n, columns))
        self.offsets_deg = np.zeros((n, columns, len(OFFSET_SIGNALS)))
        self.head = np.zeros(n, np.int64)
        self.end = np.zeros(n, np.int64)

    def last(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and duration of the last stride of each row in ``rows``."""
        col = self.end[rows] - 1
        return self.start_s[rows, col], self.duration_s[rows, col]

    def append(self, rows: np.ndarray, start_s: np.ndarray | float, duration_s: np.ndarray, offsets_deg: np.ndarray) -> None:
        """One stride more for each row in ``rows`` (distinct)."""
        if self.end[rows].max() == self.start_s.shape[1]:
            self._compact()
        col = self.end[rows]
        self.start_s[rows, col], self.duration_s[rows, col], self.offsets_deg[rows, col] = start_s, duration_s, offsets_deg
        self.end[rows] += 1

    def trim(self, before_s: float, keep: int) -> None:
        """Drop each row's first stride while more than ``keep`` remain and the next starts before ``before_s``."""
        col = np.arange(self.start_s.shape[1])
        old = (col > self.head[:, None]) & (col < self.end[:, None]) & (self.start_s < before_s)
        self.head += np.clip(np.minimum(np.count_nonzero(old, axis=1), self.end - self.head - keep), 0, None)

    def window(self, t0_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each row's strides from the last that starts by ``t0_s`` (its first if none) on, as
        (rows, k) tables: starts (+inf: unused), durations (1: unused), offsets (rows, k, offsets; 0: unused)."""
        col = np.arange(self.start_s.shape[1])
        kept = (col >= self.head[:, None]) & (col < self.end[:, None])
        first = self.head + np.maximum(np.count_nonzero(kept & (self.start_s <= t0_s), axis=1) - 1, 0)
        return self._columns(first, int((self.end - first).max()))

    def _columns(self, first: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``width`` columns of each row's strides from column ``first`` (per row), padded as :meth:`window` says."""
        col = first[:, None] + np.arange(width)
        used = col < self.end[:, None]
        col = np.minimum(col, self.start_s.shape[1] - 1)
        starts = np.where(used, np.take_along_axis(self.start_s, col, axis=1), np.inf)
        durations = np.where(used, np.take_along_axis(self.duration_s, col, axis=1), 1.0)
        offsets = np.where(used[:, :, None], np.take_along_axis(self.offsets_deg, col[:, :, None], axis=1), 0.0)
        return starts, durations, offsets

    def _compact(self) -> None:
        """Move each row's strides to column 0; twice the columns if a row still fills them."""
        length = self.end - self.head
        columns = self.start_s.shape[1] * (2 if length.max() == self.start_s.shape[1] else 1)
        self.start_s, self.duration_s, self.offsets_deg = self._columns(self.head, columns)
        self.head, self.end = np.zeros_like(self.head), length

    @classmethod
    def stack(cls, rows: Sequence["StrideTable"]) -> "StrideTable":
        """One-row tables in one table, in order."""
        out = cls(len(rows), max(t.start_s.shape[1] for t in rows))
        for i, t in enumerate(rows):
            head, end = int(t.head[0]), int(t.end[0])
            out.end[i] = n = end - head
            out.start_s[i, :n], out.duration_s[i, :n], out.offsets_deg[i, :n] = t.start_s[0, head:end], t.duration_s[0, head:end], t.offsets_deg[0, head:end]
        return out

    def row(self, i: int) -> "StrideTable":
        """Row ``i`` alone (a copy)."""
        out = self.__class__(0)
        out.start_s, out.duration_s, out.offsets_deg = (x[i : i + 1].copy() for x in (self.start_s, self.duration_s, self.offsets_deg))
        out.head, out.end = self.head[i : i + 1].copy(), self.end[i : i + 1].copy()
        return out
