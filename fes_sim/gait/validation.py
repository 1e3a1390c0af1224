"""Checks of the simulator against published and recorded gait: mean cycles, NONAN shank tilt.

NONAN GaitPrint (Wiles, Mangalam, Sommerfeld et al., Sci Data 10:867, 2023): its
``shank_pitch`` is positive with the ankle ahead of the knee, the opposite of the
project's shank tilt, so it is negated here. Heel strike is contact 0 → 1000 and toe-off
1000 → 0.

The contact flags come from the Noraxon software's own algorithm, and their toe-off is
early: three kinematic landmarks that follow toe-off at fixed intervals in Winter's
trial (the pre-swing peak of the shank's angular rate 7.5 % of the cycle before it, the
shank tilt maximum 3.8 % and the foot-pitch minimum 3.3 % after it) put toe-off 2-4 %
of the cycle (25-40 ms) after the flag in both NONAN subjects (young: 0.635 against the
flags' 0.60). A walker matched with the flags' stance fraction starts its swing that
much early (r = 0.946 for the young subject, and the best circular shift of the mean
cycle, +4 %, only hides the difference). :func:`kinematic_toe_off` locates toe-off from
those landmarks (the median of the three in each stride), and :func:`matched_walker`
uses it. Heel strike needs no correction: the shank tilt minimum and the foot-pitch
maximum sit within 1 % of their places before heel strike in Winter's trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fes_sim.errors import RecordingError
from fes_sim.gait import kinematics
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
    foot_pitch_deg: np.ndarray
    heel_strikes_s: np.ndarray
    stride_s: float
    #: median toe-off phase from the contact flags
    stance_fraction: float
    #: median toe-off phase from the kinematic landmarks (:func:`kinematic_toe_off`)
    stance_fraction_kinematic: float


def _landmark_offsets() -> dict[str, float]:
    """Phase of each toe-off landmark minus toe-off in Winter's series (REFERENCE §2)."""
    p = np.linspace(0.4, 0.75, 7001)
    shank = kinematics.evaluate("shank", p)
    return {
        "rate_peak": float(p[np.argmax(np.gradient(shank, p))]) - kinematics.REF_TOE_OFF,
        "tilt_max": float(p[np.argmax(shank)]) - kinematics.REF_TOE_OFF,
        "foot_min": float(p[np.argmin(kinematics.evaluate("foot", p))]) - kinematics.REF_TOE_OFF,
    }


def kinematic_toe_off(t_s: np.ndarray, tilt_deg: np.ndarray, foot_pitch_deg: np.ndarray, heel_strikes_s: np.ndarray) -> np.ndarray:
    """Toe-off phase of each stride from its shank tilt and foot pitch (see the module notes):
    in 40-75 % of the stride, the shank-rate peak, the tilt maximum and the foot-pitch minimum,
    each moved back by its interval after toe-off in Winter's trial; the median of the three."""
    offsets = _landmark_offsets()
    rate = np.gradient(tilt_deg, t_s)
    out = []
    for a, b in zip(heel_strikes_s[:-1], heel_strikes_s[1:]):
        sel = (t_s >= a + 0.4 * (b - a)) & (t_s <= a + 0.75 * (b - a))
        if np.count_nonzero(sel) < 3:
            continue
        ts = t_s[sel]
        phase = lambda k: (ts[k] - a) / (b - a)  # noqa: E731
        out.append(np.median([
            phase(np.argmax(rate[sel])) - offsets["rate_peak"],
            phase(np.argmax(tilt_deg[sel])) - offsets["tilt_max"],
            phase(np.argmin(foot_pitch_deg[sel])) - offsets["foot_min"],
        ]))
    return np.asarray(out)


def load_nonan_leg(path: str | Path, leg: str = "rt") -> RecordedGait:
    """Shank tilt (sign flipped to the project's convention), foot pitch and contact events of one leg."""
    try:
        data = np.genfromtxt(path, delimiter=",", names=True)
        t, pitch, contact = data["time"], data[f"shank_pitch_{leg}_deg"], data[f"contact_{leg}"] > 500
        foot = data[f"foot_pitch_{leg}_deg"]
    except (OSError, ValueError) as exc:
        raise RecordingError(f"{path}: cannot read NONAN columns for leg {leg!r} ({exc})") from None
    on = np.nonzero(~contact[:-1] & contact[1:])[0] + 1
    off = np.nonzero(contact[:-1] & ~contact[1:])[0] + 1
    hs = t[on]
    strides = np.diff(hs)
    stance = [(t[off[(off > a)][0]] - t[a]) / (t[b] - t[a]) for a, b in zip(on[:-1], on[1:]) if np.any(off > a)]
    kinematic = kinematic_toe_off(t, -pitch, foot, hs)
    return RecordedGait(t, -pitch, foot, hs, float(np.median(strides)), float(np.median(stance)), float(np.median(kinematic)))


def matched_walker(rec: RecordedGait, base: WalkerConfig) -> WalkerConfig:
    """``base`` with the recording's cadence and kinematic stance fraction (clipped to the allowed range)."""
    return base.replace(cadence_spm=120.0 / rec.stride_s, stance_fraction=float(np.clip(rec.stance_fraction_kinematic, 0.56, 0.75)))


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
