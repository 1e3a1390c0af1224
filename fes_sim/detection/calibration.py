"""Per-patient calibration from a calibration walk, like a clinician's programming session.

Commercial tilt triggers (WalkAide, after Dai et al. 1996) learn their tilt
thresholds from a walk the clinician watches, pressing a hand switch while the
foot should be lifted. :func:`calibrate` does the same on a recording:

1. It replays the walk with the base controller and collects the strides it finds.
   When that detector finds too few (a walk whose tilt never reaches the starting
   threshold), the strides come from the signal itself: the terminal-swing tilt
   minima, found offline with a prominence of half the walk's tilt range.
2. **Without labels**, it sets the starting thresholds to the walker's own signal:
   the initial on-threshold (``tilt.heel_off_tilt_deg``) at ``heel_off_fraction``
   of the median stride tilt range, the smallest accepted range
   (``tilt.min_tilt_range_deg``) at half of it, the starting peak forward rate
   (``tilt.initial_peak_rate_dps``) and the gyro detector's starting peaks at the
   median peak rates, the backward rate that arms heel strike
   (``tilt.min_swing_rate_dps``) at no more than 0.4 of the median swing peak, ``max_swing_ms`` at twice the median swing, and
   ``max_push_off_ms`` at 1.2 times the median stance. For a heel switch it sets
   ``max_loaded_ms`` at twice the median time from heel strike to heel-off.
3. **With labels** (reference events, or hand-switch presses: press = heel-off,
   release = heel strike), it also fits the timing rules of the detector in use:
   for the tilt trigger the heel-off level in the stride's tilt range, and for the
   tilt trigger and the shank-gyro detector the heel-strike and toe-off lags,
   shifted by the detector's median error against the labels.

The result is a new :class:`~fes_sim.control.config.ControllerConfig`; ``fes
calibrate`` writes it as TOML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.detection.scoring import score_events
from fes_sim.errors import RecordingError
from fes_sim.samples import GaitEvent

log = logging.getLogger(__name__)

MIN_STRIDES = 5


@dataclass
class Calibration:
    """A calibrated controller and what was measured to make it.

    ``measured`` holds the fitted timing values as written (within their ranges);
    ``warnings`` names each fitted value that had to be clamped to be written.
    """

    config: ControllerConfig
    strides: int
    measured: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def hand_switch_labels(t_s: np.ndarray, pressed: np.ndarray) -> list[tuple[float, GaitEvent]]:
    """Hand-switch presses as labels: press = heel-off, release = heel strike."""
    on = np.nan_to_num(pressed, nan=0.0) > 0.5
    edges = np.flatnonzero(on[1:] != on[:-1]) + 1
    return [(float(t_s[i]), GaitEvent.HEEL_OFF if on[i] else GaitEvent.HEEL_STRIKE) for i in edges]


def _med(values) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def _signal_strides(t: np.ndarray, tilt: np.ndarray) -> list[tuple[float, GaitEvent]]:
    """Heel strikes taken at the terminal-swing tilt minima (offline, for a walk the base detector missed)."""
    from scipy.signal import find_peaks

    ok = np.isfinite(tilt)
    if ok.sum() < 10:
        return []
    lo, hi = np.percentile(tilt[ok], [2, 98])
    fs = 1.0 / float(np.median(np.diff(t)))
    filled = np.interp(t, t[ok], tilt[ok])
    minima, _ = find_peaks(-filled, prominence=0.5 * (hi - lo), distance=max(1, int(0.5 * fs)))
    return [(float(t[i]), GaitEvent.HEEL_STRIKE) for i in minima]


def _strides(events, t, tilt, rate):
    """Per-stride tilt extremes and timings between consecutive heel strikes."""
    hs = [e for e, k in events if k == GaitEvent.HEEL_STRIKE]
    to = np.array([e for e, k in events if k == GaitEvent.TOE_OFF])
    rows = []
    for a, b in zip(hs[:-1], hs[1:]):
        m = (t >= a) & (t < b)
        if m.sum() < 10:
            continue
        seg, r = tilt[m], rate[m]
        stride_to = to[(to > a) & (to < b)]
        rows.append({
            "low": float(np.nanmin(seg)), "high": float(np.nanmax(seg)),
            "pre_peak": float(np.nanmax(r)), "swing_peak": float(-np.nanmin(r)),
            "stride_s": b - a, "stance_s": float(stride_to[0] - a) if stride_to.size else np.nan,
        })
    return rows


def calibrate(rec, base: ControllerConfig, labels=None, stimulator: StimulatorConfig | None = None) -> Calibration:
    """Fit ``base``'s detector thresholds to the walk in ``rec`` (a :class:`~fes_sim.replay.Recording`).

    ``labels`` is a list of ``(t_s, GaitEvent)`` or ``None`` for an unlabelled walk.
    Raises RecordingError when fewer than five strides are found.
    """
    from fes_sim.replay.run import replay  # replay imports the device, which imports detection

    result = replay(rec, base, stimulator or StimulatorConfig())
    t = result.t_s
    tilt = result.tilt_est_deg
    rate = np.gradient(tilt, t) if np.isfinite(tilt).any() else np.full(t.shape, np.nan)
    if "gyr_z_dps" in rec.channels and base.detector == "gyro":
        rate = rec.channels["gyr_z_dps"]
    notes: list[str] = []
    source = labels if labels and any(k == GaitEvent.HEEL_STRIKE for _, k in labels) else result.events
    rows = _strides(source, t, tilt, rate)
    if len(rows) < MIN_STRIDES and source is result.events and base.detector != "footswitch":
        rows = _strides(_signal_strides(t, tilt), t, tilt, rate)
        notes.append(f"the {base.detector} detector found too few strides; strides taken from the tilt minima")
    if len(rows) < MIN_STRIDES:
        raise RecordingError(f"calibration walk: found {len(rows)} strides, need at least {MIN_STRIDES}")
    low = _med([r["low"] for r in rows])
    high = _med([r["high"] for r in rows])
    span = high - low
    measured = {
        "strides": float(len(rows)),
        "stride_s": _med([r["stride_s"] for r in rows]),
        "tilt_low_deg": low,
        "tilt_high_deg": high,
        "pre_swing_peak_dps": _med([r["pre_peak"] for r in rows]),
        "swing_peak_dps": _med([r["swing_peak"] for r in rows]),
    }
    stance = [r["stance_s"] for r in rows if np.isfinite(r["stance_s"])]
    swing_s = measured["stride_s"] - _med(stance) if stance else measured["stride_s"] * 0.4
    tc, gc = base.tilt, base.gyro
    fits = _fit_timing(labels, result.events, t, tilt, low, span, base) if labels else {}
    if labels:
        measured.update(fits)
        notes.append(f"timing fitted to {len(labels)} labelled events")
    warnings: list[str] = []

    def fitted(path: str, current: float, lo: float, hi: float) -> float:
        """The fit of field ``path`` (``current`` without one) within ``lo..hi``; a clamped fit is warned about."""
        name = path.rsplit(".", 1)[-1]
        value = float(np.clip(fits.get(name, current), lo, hi))
        if name in fits:
            if value != fits[name]:
                warnings.append(f"{path}: fitted {fits[name]:.3f} is outside {lo:g} to {hi:g}; written as {value:g}")
            measured[name] = value
        return value

    fraction = fitted("tilt.heel_off_fraction", tc.heel_off_fraction, 0.05, 0.95)
    pre_peak = float(np.clip(measured["pre_swing_peak_dps"], 10.0, 2000.0))
    tilt_cfg = tc.replace(
        heel_off_tilt_deg=float(np.clip(low + fraction * span, -30.0, 60.0)),
        heel_off_fraction=fraction,
        initial_peak_rate_dps=pre_peak,
        min_tilt_range_deg=float(np.clip(0.5 * span, 1.0, 90.0)),
        min_swing_rate_dps=float(np.clip(0.4 * measured["swing_peak_dps"], 5.0, tc.min_swing_rate_dps)),
        max_swing_ms=float(np.clip(2000.0 * swing_s, 300.0, 10000.0)),
        max_push_off_ms=float(np.clip(1200.0 * (_med(stance) if stance else 0.6), 300.0, 5000.0)),
    )
    gyro_cfg = gc.replace(
        initial_pre_swing_peak_dps=pre_peak,
        initial_peak_dps=float(np.clip(measured["swing_peak_dps"], 10.0, 2000.0)),
        max_swing_ms=tilt_cfg.max_swing_ms,
    )
    if base.detector == "tilt":
        tilt_cfg = tilt_cfg.replace(heel_strike_lag_ms=fitted("tilt.heel_strike_lag_ms", tc.heel_strike_lag_ms, 0.0, 200.0),
                                    toe_off_lag_ms=fitted("tilt.toe_off_lag_ms", tc.toe_off_lag_ms, -200.0, 500.0))
    elif base.detector == "gyro":
        gyro_cfg = gyro_cfg.replace(heel_strike_lag_ms=fitted("gyro.heel_strike_lag_ms", gc.heel_strike_lag_ms, 0.0, 200.0),
                                    toe_off_lag_ms=fitted("gyro.toe_off_lag_ms", gc.toe_off_lag_ms, -200.0, 500.0))
    cfg = base.replace(tilt=tilt_cfg, gyro=gyro_cfg)
    if base.detector == "footswitch":
        loaded = _loaded_s(labels or result.events)
        if loaded:
            measured["heel_loaded_s"] = _med(loaded)
            cfg = cfg.replace(footswitch=base.footswitch.replace(
                max_loaded_ms=float(np.clip(2000.0 * measured["heel_loaded_s"], 200.0, 10000.0))))
    notes.append(
        f"{len(rows)} strides, median stride {measured['stride_s']:.2f} s, tilt {low:.1f} to {high:.1f} deg; "
        f"heel-off threshold {tilt_cfg.heel_off_tilt_deg:.1f} deg"
    )
    return Calibration(cfg, len(rows), measured, notes, warnings)


def _loaded_s(events) -> list[float]:
    """Heel strike to next heel-off times (how long the heel stays loaded in a stride)."""
    out, t_hs = [], None
    for te, kind in sorted(events, key=lambda e: e[0]):
        if kind == GaitEvent.HEEL_STRIKE:
            t_hs = te
        elif kind == GaitEvent.HEEL_OFF and t_hs is not None:
            out.append(te - t_hs)
            t_hs = None
    return out


def _fit_timing(labels, detected, t, tilt, low: float, span: float, base: ControllerConfig) -> dict[str, float]:
    """Timing rules of the detector in use moved onto the labels.

    The heel-off level is the median tilt level (fraction of the stride's range)
    at labelled heel-offs; the heel-strike and toe-off lags are shifted by the
    median error of the base detector's events against the labels.
    """
    out: dict[str, float] = {}
    level = []
    for te, kind in labels:
        i = int(np.searchsorted(t, te))
        if kind == GaitEvent.HEEL_OFF and 0 < i < t.size and np.isfinite(tilt[i]):
            level.append((tilt[i] - low) / span)
    if level:
        out["heel_off_fraction"] = _med(level)
    if base.detector not in ("tilt", "gyro"):
        return out
    rules = base.tilt if base.detector == "tilt" else base.gyro
    scores = score_events(labels, detected, tolerance_s=0.15)
    lags = {GaitEvent.HEEL_STRIKE: ("heel_strike_lag_ms", rules.heel_strike_lag_ms),
            GaitEvent.TOE_OFF: ("toe_off_lag_ms", rules.toe_off_lag_ms)}
    for ev, (name, current) in lags.items():
        errors = scores[ev].errors_ms
        if errors.size >= MIN_STRIDES:
            out[name] = current - float(np.median(errors))
    return out
