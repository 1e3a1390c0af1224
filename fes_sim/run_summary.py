"""Per-stride table and run summary of a closed-loop run.

A stride runs from one true heel strike of the simulated leg to the next. The
stimulation burst that belongs to a stride is the one whose onset falls inside
it (onset in late stance, offset after the next heel strike when extension is
on). Onset lead is true toe-off minus stimulation onset: positive means the
stimulation started before the foot left the ground.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from typing import Any, Sequence

import numpy as np

from fes_sim.loop import LoopTrace
from fes_sim.plant import StrideOutcome
from fes_sim.samples import GaitEvent

NAN = math.nan


@dataclass(frozen=True)
class StrideRow:
    """One row of the per-stride table (units in the names)."""

    stride: int
    t_heel_strike_s: float
    t_heel_off_detected_s: float
    t_stim_on_s: float
    t_stim_off_s: float
    onset_lead_ms: float
    charge_uc: float
    mtc_mm: float
    toe_drag: bool
    foot_pitch_ic_deg: float
    push_off_pf_deg: float


STRIDE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(StrideRow))


def stride_rows(strides: Sequence[StrideOutcome], trace: LoopTrace) -> list[StrideRow]:
    """Build the per-stride table from the plant's strides and the loop trace."""
    arrays = trace.arrays()
    t = arrays["t_s"]
    cum_charge = np.concatenate(([0.0], np.cumsum(arrays["charge_uc"])))
    intervals = trace.stim_intervals()
    heel_offs = [ts for ts, ev in trace.detected_events if ev == GaitEvent.HEEL_OFF]
    rows = []
    for i, s in enumerate(strides, start=1):
        inside = [iv for iv in intervals if s.t_heel_strike_s <= iv[0] < s.t_end_s]
        hos = [ts for ts in heel_offs if s.t_heel_strike_s <= ts < s.t_end_s]
        if inside:
            t_on, t_off = inside[0][0], inside[-1][1]
            lo, hi = np.searchsorted(t, t_on), np.searchsorted(t, t_off)
            charge = float(cum_charge[hi] - cum_charge[lo])
            lead_ms = (s.t_toe_off_s - t_on) * 1000.0
        else:
            t_on = t_off = lead_ms = NAN
            charge = 0.0
        rows.append(
            StrideRow(
                stride=i,
                t_heel_strike_s=s.t_heel_strike_s,
                t_heel_off_detected_s=hos[0] if hos else NAN,
                t_stim_on_s=t_on,
                t_stim_off_s=t_off,
                onset_lead_ms=lead_ms,
                charge_uc=charge,
                mtc_mm=s.mtc_mm,
                toe_drag=bool(s.toe_drag),
                foot_pitch_ic_deg=s.foot_pitch_ic_deg,
                push_off_pf_deg=s.push_off_pf_deg,
            )
        )
    return rows


def _finite(values: Sequence[float]) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a[np.isfinite(a)]


def _stat(values: Sequence[float], q: float) -> float | None:
    a = _finite(values)
    return float(np.percentile(a, q)) if a.size else None


def summarize(
    rows: Sequence[StrideRow],
    trace: LoopTrace,
    detection: dict[str, Any] | None,
    duration_s: float,
) -> dict[str, Any]:
    """The run summary, keyed and unit-named as ``fes run --json`` documents it."""
    currents = trace.arrays()["current_ma"]
    return _json_safe({
        "strides": len(rows),
        "toe_drag_strides": sum(r.toe_drag for r in rows),
        "mtc_mm": {
            "median": _stat([r.mtc_mm for r in rows], 50),
            "p5": _stat([r.mtc_mm for r in rows], 5),
        },
        "foot_pitch_ic_deg_median": _stat([r.foot_pitch_ic_deg for r in rows], 50),
        "stim": {
            "onset_lead_ms_median": _stat([r.onset_lead_ms for r in rows], 50),
            "charge_per_stride_uc_median": _stat([r.charge_uc for r in rows], 50),
            "max_current_ma": float(currents.max()) if currents.size else 0.0,
            "stimulated_strides": sum(math.isfinite(r.t_stim_on_s) for r in rows),
        },
        "detection": detection,
        "duration_s": duration_s,
        "realtime_factor": _realtime_factor(trace, duration_s),
        "startup_s": trace.startup_s,
    })


def _realtime_factor(trace: LoopTrace, duration_s: float) -> float | None:
    """Simulated over wall-clock time after the start (reset and first step, where compiled
    code is built on first use)."""
    steady_wall_s = trace.wall_s - trace.startup_s
    steady_sim_s = duration_s - (trace.t_s[1] - trace.t_s[0] if len(trace.t_s) > 1 else 0.0)
    return steady_sim_s / steady_wall_s if steady_wall_s > 0 and steady_sim_s > 0 else None


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats (no value) by None, recursively, so the summary is strict JSON."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value


def row_values(row: StrideRow) -> tuple[Any, ...]:
    """The row as a tuple in :data:`STRIDE_COLUMNS` order."""
    return astuple(row)
