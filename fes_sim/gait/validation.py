"""Checks of the simulator against published and recorded gait: mean cycles, NONAN shank tilt.

NONAN GaitPrint (Wiles, Mangalam, Sommerfeld et al., Sci Data 10:867, 2023): its
``shank_pitch`` is positive with the ankle ahead of the knee, the opposite of the
project's shank tilt, so it is negated here. Heel strike is contact 0 → 1000 and toe-off
1000 → 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fes_sim.errors import RecordingError
from fes_sim.gait.walker import WalkerConfig
from fes_sim.samples import GaitEvent


def mean_cycle(t_s: np.ndarray, x: np.ndarray, heel_strikes_s: np.ndarray, n: int = 101) -> np.ndarray:
    """Time-normalised mean of ``x`` over the strides between consecutive heel strikes."""
    grid = np.linspace(0.0, 1.0, n)
    cycles = [
        np.interp(a + grid * (b - a), t_s, x) for a, b in zip(heel_strikes_s[:-1], heel_strikes_s[1:]) if a >= t_s[0] and b <= t_s[-1]
    ]
    if not cycles:
        raise ValueError("no complete stride in the signal")
    return np.mean(cycles, axis=0)


@dataclass(frozen=True)
class RecordedGait:
    """One leg of a NONAN recording in the project's conventions."""

    t_s: np.ndarray
    tilt_deg: np.ndarray
    heel_strikes_s: np.ndarray
    stride_s: float
    stance_fraction: float


def load_nonan_leg(path: str | Path, leg: str = "rt") -> RecordedGait:
    """Shank tilt (sign flipped to the project's convention) and contact events of one leg."""
    try:
        data = np.genfromtxt(path, delimiter=",", names=True)
        t, pitch, contact = data["time"], data[f"shank_pitch_{leg}_deg"], data[f"contact_{leg}"] > 500
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path}: cannot read NONAN columns for leg {leg!r} ({exc})") from None
    on = np.nonzero(~contact[:-1] & contact[1:])[0] + 1
    off = np.nonzero(contact[:-1] & ~contact[1:])[0] + 1
    hs = t[on]
    strides = np.diff(hs)
    stance = [(t[off[(off > a)][0]] - t[a]) / (t[b] - t[a]) for a, b in zip(on[:-1], on[1:]) if np.any(off > a)]
    return RecordedGait(t, -pitch, hs, float(np.median(strides)), float(np.median(stance)))


def matched_walker(rec: RecordedGait, base: WalkerConfig) -> WalkerConfig:
    """``base`` with the recording's cadence and stance fraction (clipped to the allowed range)."""
    return base.replace(cadence_spm=120.0 / rec.stride_s, stance_fraction=float(np.clip(rec.stance_fraction, 0.56, 0.75)))


def plant_heel_strikes(events: list[tuple[float, GaitEvent]]) -> np.ndarray:
    """Heel-strike times from a plant's event list."""
    return np.array([t for t, e in events if e == GaitEvent.HEEL_STRIKE])


def compare_cycles(sim: np.ndarray, rec: np.ndarray) -> tuple[float, float]:
    """Pearson correlation and range-of-motion ratio (sim / recording) of two mean cycles."""
    r = float(np.corrcoef(sim, rec)[0, 1])
    return r, float(np.ptp(sim) / np.ptp(rec))


def best_lag(sim: np.ndarray, rec: np.ndarray, max_lag: float = 0.05) -> tuple[float, float]:
    """Circular shift (fraction of the cycle, within ±``max_lag``) that best aligns ``sim`` to
    ``rec``, and the correlation there. Contact flags from IMU algorithms (such as NONAN's)
    can put heel strike tens of milliseconds off, which shifts a whole mean cycle."""
    n = len(sim) - 1  # the cycles include both ends of the stride
    lags = range(-int(round(max_lag * n)), int(round(max_lag * n)) + 1)
    r, k = max((float(np.corrcoef(np.roll(sim[:-1], k), rec[:-1])[0, 1]), k) for k in lags)
    return k / n, r
