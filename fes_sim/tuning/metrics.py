"""Metrics of one parameter set over its walkers and scenarios, and how a study scores them.

Each walker × scenario run leaves a :class:`RunRecord` (per-stride arrays plus a few
totals). :func:`aggregate` pools the strides of every run, so percentiles describe
the population's strides, not an average of walkers. Stride figures follow
:mod:`fes_sim.run_summary`: MTC and toe drag of each stride's swing, foot pitch at
the initial contact that ends it, the peak plantarflexion of its push-off, the charge of the burst whose onset falls in it
and the onset lead before true toe-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

#: metric name → (description, unit)
METRICS: dict[str, tuple[str, str]] = {
    "mtc_p5_mm": ("5th percentile of minimum toe clearance over all strides", "mm"),
    "mtc_median_mm": ("median minimum toe clearance", "mm"),
    "toe_drag_rate": ("fraction of strides whose toe touched the ground in mid-swing", ""),
    "foot_pitch_ic_deg": ("median foot pitch at initial contact (toe up positive)", "deg"),
    "push_off_pf_deg": ("median peak plantarflexion between heel-off and toe-off (a burst in push-off pulls against it)", "deg"),
    "charge_per_stride_uc": ("mean stimulation charge per stride (unstimulated strides count as 0)", "uC"),
    "fatigue_end": ("muscle fatigue at the end, 1 - fitness (0 = fresh), mean over runs", ""),
    "stim_not_walking_s": ("stimulation time while not walking (standing, sitting, transitions), mean per run", "s"),
    "onset_lead_ms": ("median stimulation onset before true toe-off", "ms"),
    "stimulated_stride_rate": ("fraction of strides with a stimulation burst", ""),
    "strides": ("strides scored, all runs", ""),
}


@dataclass
class RunRecord:
    """What one walker on one scenario leaves for scoring (arrays have one value per stride)."""

    mtc_mm: np.ndarray
    toe_drag: np.ndarray
    foot_pitch_ic_deg: np.ndarray
    push_off_pf_deg: np.ndarray
    charge_uc: np.ndarray
    onset_lead_ms: np.ndarray
    stim_not_walking_s: float
    fatigue_end: float


def _pct(values: np.ndarray, q: float) -> float:
    a = values[np.isfinite(values)]
    return float(np.percentile(a, q)) if a.size else math.nan


def aggregate(records: Sequence[RunRecord]) -> dict[str, float]:
    """Every metric of :data:`METRICS` from the runs of one parameter set (``nan``: no value)."""
    cat = lambda name: np.concatenate([np.asarray(getattr(r, name), float) for r in records])  # noqa: E731
    mtc, drag, charge, lead = cat("mtc_mm"), cat("toe_drag"), cat("charge_uc"), cat("onset_lead_ms")
    n = mtc.size
    return {
        "mtc_p5_mm": _pct(mtc, 5),
        "mtc_median_mm": _pct(mtc, 50),
        "toe_drag_rate": float(drag.mean()) if n else math.nan,
        "foot_pitch_ic_deg": _pct(cat("foot_pitch_ic_deg"), 50),
        "push_off_pf_deg": _pct(cat("push_off_pf_deg"), 50),
        "charge_per_stride_uc": float(charge.mean()) if n else math.nan,
        "fatigue_end": float(np.mean([r.fatigue_end for r in records])),
        "stim_not_walking_s": float(np.mean([r.stim_not_walking_s for r in records])),
        "onset_lead_ms": _pct(lead, 50),
        "stimulated_stride_rate": float(np.isfinite(lead).mean()) if n else math.nan,
        "strides": float(n),
    }


def violation(metrics: dict[str, float], constraints: Sequence[Any]) -> float:
    """Sum of how far each constraint is missed (0 when feasible; a missing value counts 1e6)."""
    total = 0.0
    for c in constraints:
        v = metrics[c.metric]
        if not math.isfinite(v):
            total += 1e6
            continue
        if c.min is not None and v < c.min:
            total += c.min - v
        if c.max is not None and v > c.max:
            total += v - c.max
    return total


def objective_value(metrics: dict[str, float], objective: Any) -> float:
    """The value to minimise: the metric, negated when the goal is to maximise (``inf`` when missing)."""
    v = metrics[objective.metric]
    if not math.isfinite(v):
        return math.inf
    return v if objective.goal == "minimize" else -v


def score(metrics: dict[str, float], objective: Any, constraints: Sequence[Any]) -> dict[str, Any]:
    """``objective``, ``violation`` and ``feasible`` of one parameter set's metrics.

    Always computed from the metrics with the study's present objective and
    constraints (never stored), so a resumed study scored differently re-ranks its rows.
    """
    miss = violation(metrics, constraints)
    return {"objective": objective_value(metrics, objective), "violation": miss, "feasible": miss == 0.0}


def penalised(metrics: dict[str, float], objective: Any, constraints: Sequence[Any]) -> float:
    """One scalar for optimisers: the objective when feasible, else 1e9 plus the violation.

    Every infeasible set then ranks below every feasible one (Deb's rule, as a penalty).
    """
    s = score(metrics, objective, constraints)
    if not s["feasible"]:
        return 1e9 + s["violation"]
    return min(s["objective"], 1e9)
