"""Treatments side by side: no treatment, ankle-foot orthoses, stimulation, and both.

Every condition walks the same seeded walk: the leg's motion and the sensor signals
depend only on the walker and the seed (:mod:`fes_sim.plant`), so the conditions
differ only in what acts on the foot::

    from fes_sim.compare import compare, parse_conditions
    from fes_sim.config import resolve
    result = compare(resolve("walker", "drop_foot_severe"), parse_conditions("none,afo_rigid,fes"),
                     controller=resolve("controller", "walkaide_tilt"), duration_s=60, seed=1)
    result.conditions[1].metrics["toe_drag_strides"]

A condition is ``none``, ``fes``, ``afo_<preset>`` (an ``afo`` preset, e.g.
``afo_rigid``), an AFO TOML file, or ``fes`` joined to one AFO with ``+``
(``fes+afo_hinged``). Outcomes per condition: the run summary of ``fes run``
(MTC, toe drag, foot pitch at initial contact, stimulation) and the
cost of an orthosis in push-off: the peak plantarflexion between heel-off and
toe-off, the ankle's range of motion over that late-stance interval, and the
restriction = that range without any orthosis minus the range with it. In this
simulator stimulation does not change stance, so the untreated range is the
reference for every condition.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from fes_sim.body.orthosis import OrthosisConfig
from fes_sim.config.presets import get_preset, looks_like_file, preset_names, resolve
from fes_sim.config.schema import to_mapping
from fes_sim.errors import ConfigError
from fes_sim.figures import new_figure, save_figure
from fes_sim.session import SessionResult, SimulationSession

log = logging.getLogger(__name__)

#: points of the mean gait cycle, 0-100 % from initial contact to the next
CYCLE_POINTS = 101

_AFO_PREFIX = "afo_"


@dataclass(frozen=True)
class Condition:
    """One treatment: stimulation on or off, and at most one orthosis."""

    name: str
    fes: bool = False
    afo: OrthosisConfig | None = None


@dataclass
class MeanCycle:
    """Toe height and ankle angle averaged over strides, time-normalised to the stride."""

    cycle_pct: np.ndarray
    toe_height_mm: np.ndarray
    toe_height_sd_mm: np.ndarray
    ankle_deg: np.ndarray
    ankle_sd_deg: np.ndarray
    strides: int


@dataclass
class ConditionResult:
    """Outcomes of one condition."""

    condition: Condition
    metrics: dict[str, Any]
    cycle: MeanCycle
    session: SessionResult = field(repr=False)


@dataclass
class Comparison:
    """All conditions of one walker on one seeded walk."""

    conditions: list[ConditionResult]
    duration_s: float
    seed: int
    reference_late_stance_range_deg: float | None

    def as_dict(self) -> dict[str, Any]:
        """Strict-JSON summary: per condition its name, stimulation, AFO parameters (or null) and metrics."""
        return {
            "duration_s": self.duration_s,
            "seed": self.seed,
            "reference_late_stance_range_deg": self.reference_late_stance_range_deg,
            "conditions": [
                {"condition": r.condition.name, "fes": r.condition.fes, "afo": to_mapping(r.condition.afo) if r.condition.afo else None, **r.metrics}
                for r in self.conditions
            ],
        }


def _parse_part(part: str) -> OrthosisConfig | None:
    """``None`` for ``fes``, else the orthosis the part names."""
    if part == "fes":
        return None
    if looks_like_file(part):
        return resolve("afo", part)  # type: ignore[return-value]
    names = preset_names("afo")
    if part.startswith(_AFO_PREFIX) and part[len(_AFO_PREFIX):] in names:
        return get_preset("afo", part[len(_AFO_PREFIX):])  # type: ignore[return-value]
    known = ", ".join(["none", "fes"] + [_AFO_PREFIX + n for n in names])
    raise ConfigError(f"condition part {part!r}: unknown (known: {known}, or an AFO .toml file)")


def parse_condition(text: str) -> Condition:
    """One condition: ``none``, ``fes``, an AFO, or ``fes+<AFO>``."""
    name = text.strip()
    if name == "none":
        return Condition("none")
    parts = [p.strip() for p in name.split("+")]
    if not name or any(not p for p in parts):
        raise ConfigError(f"condition {text!r}: empty part")
    fes = False
    afo: OrthosisConfig | None = None
    for part in parts:
        if part == "none":
            raise ConfigError(f"condition {name!r}: 'none' cannot be combined with a treatment")
        orthosis = _parse_part(part)
        if orthosis is None:
            if fes:
                raise ConfigError(f"condition {name!r}: 'fes' given twice")
            fes = True
        else:
            if afo is not None:
                raise ConfigError(f"condition {name!r}: at most one orthosis per condition")
            afo = orthosis
    return Condition(name, fes, afo)


def parse_conditions(text: str) -> list[Condition]:
    """A comma-separated list of conditions, e.g. ``none,afo_rigid,fes,fes+afo_hinged``."""
    conditions = [parse_condition(t) for t in text.split(",")]
    names = [c.name for c in conditions]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"conditions: {', '.join(dupes)} listed more than once")
    return conditions


def late_stance_ranges_deg(session: SessionResult) -> np.ndarray:
    """Ankle range of motion (max − min, deg) between true heel-off and toe-off, per stride."""
    a = session.trace.arrays()
    t, ankle = a["t_s"], a["ankle_deg"]
    out = []
    for s in session.plant.strides:
        if not (math.isfinite(s.t_heel_off_s) and math.isfinite(s.t_toe_off_s)):
            continue
        sel = (t >= s.t_heel_off_s) & (t <= s.t_toe_off_s)
        if np.count_nonzero(sel) >= 2:
            out.append(float(ankle[sel].max() - ankle[sel].min()))
    return np.asarray(out, dtype=float)


def mean_cycle(session: SessionResult, points: int = CYCLE_POINTS) -> MeanCycle:
    """Toe height and ankle angle per stride resampled to 0-100 % of the stride, averaged."""
    a = session.trace.arrays()
    t, toe, ankle = a["t_s"], a["toe_height_mm"], a["ankle_deg"]
    pct = np.linspace(0.0, 100.0, points)
    toes, ankles = [], []
    for s in session.plant.strides:
        if s.t_end_s > t[-1]:
            continue
        ts = s.t_heel_strike_s + pct / 100.0 * (s.t_end_s - s.t_heel_strike_s)
        toes.append(np.interp(ts, t, toe))
        ankles.append(np.interp(ts, t, ankle))
    if not toes:
        nan = np.full(points, math.nan)
        return MeanCycle(pct, nan, nan, nan, nan, 0)
    toe_m, ankle_m = np.vstack(toes), np.vstack(ankles)
    return MeanCycle(pct, toe_m.mean(0), toe_m.std(0), ankle_m.mean(0), ankle_m.std(0), len(toes))


def _median(values: Sequence[float] | np.ndarray) -> float | None:
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else None


def _metrics(session: SessionResult, reference_range_deg: float | None) -> dict[str, Any]:
    s = session.summary
    strides = session.plant.strides
    late_range = _median(late_stance_ranges_deg(session))
    restriction = None if late_range is None or reference_range_deg is None else reference_range_deg - late_range
    n = s["strides"]
    return {
        "strides": n,
        "toe_drag_strides": s["toe_drag_strides"],
        "toe_drag_pct": 100.0 * s["toe_drag_strides"] / n if n else None,
        "mtc_mm": s["mtc_mm"],
        "foot_pitch_ic_deg_median": s["foot_pitch_ic_deg_median"],
        "push_off_pf_deg_median": _median([x.push_off_pf_deg for x in strides]),
        "late_stance_range_deg_median": late_range,
        "push_off_restriction_deg": restriction,
        "stim": s["stim"],
    }


def _check(duration_s: float, conditions: Sequence[Condition], controller: Any | None) -> None:
    if not 5.0 <= duration_s <= 3600.0:
        raise ConfigError(f"duration_s: {duration_s!r} is out of range (5 <= value <= 3600 s)")
    if not conditions:
        raise ConfigError("conditions: at least one condition is needed")
    if controller is None and any(c.fes for c in conditions):
        raise ConfigError("conditions: 'fes' needs a controller")


def compare(
    walker: Any,
    conditions: Sequence[Condition],
    *,
    controller: Any | None = None,
    stimulator: Any | None = None,
    scenario: Any | None = None,
    duration_s: float = 60.0,
    seed: int = 1,
    sample_rate_hz: float = 200.0,
) -> Comparison:
    """Run every condition on the same seeded walk and collect its outcomes.

    Parameters
    ----------
    walker
        Validated :class:`~fes_sim.gait.walker.WalkerConfig`.
    conditions
        From :func:`parse_conditions`.
    controller, stimulator
        Used by the conditions with ``fes``; without ``fes`` there is no stimulator.
    scenario
        Activity scenario; ``None`` walks on level ground.
    duration_s, seed, sample_rate_hz
        The shared walk: simulated time (5-3600 s), seed and sensor rate.
    """
    _check(duration_s, conditions, controller)

    def run(c: Condition) -> SessionResult:
        log.info("condition %s", c.name)
        session = SimulationSession(
            walker, controller if c.fes else None, stimulator, scenario, sample_rate_hz=sample_rate_hz,
            orthosis=c.afo.torque_nm if c.afo is not None else None, labels={"condition": c.name, "seed": seed},
        )
        return session.run(duration_s, seed)

    sessions = {c.name: run(c) for c in conditions}
    untreated = next((sessions[c.name] for c in conditions if c.afo is None), None)
    if untreated is None:
        untreated = run(Condition("none"))
    reference = _median(late_stance_ranges_deg(untreated))
    results = [ConditionResult(c, _metrics(sessions[c.name], reference), mean_cycle(sessions[c.name]), sessions[c.name]) for c in conditions]
    return Comparison(results, duration_s, seed, reference)


def plot_mean_cycles(comparison: Comparison, path: str | Path, title: str = "") -> Path:
    """Write one PNG: mean toe height and ankle angle over the stride, one line per condition."""
    fig, (ax_toe, ax_ankle) = new_figure(2, 1, figsize=(9, 7), sharex=True)
    for r in comparison.conditions:
        c = r.cycle
        label = f"{r.condition.name} ({c.strides} strides)"
        (line,) = ax_toe.plot(c.cycle_pct, c.toe_height_mm, label=label)
        ax_toe.fill_between(c.cycle_pct, c.toe_height_mm - c.toe_height_sd_mm, c.toe_height_mm + c.toe_height_sd_mm, color=line.get_color(), alpha=0.12)
        ax_ankle.plot(c.cycle_pct, c.ankle_deg, color=line.get_color(), label=label)
        ax_ankle.fill_between(c.cycle_pct, c.ankle_deg - c.ankle_sd_deg, c.ankle_deg + c.ankle_sd_deg, color=line.get_color(), alpha=0.12)
    ax_toe.axhline(0.0, color="k", lw=0.8)
    ax_toe.set_ylabel("toe height (mm)")
    ax_toe.set_ylim(-40.0, 120.0)  # the clearance region; swing peaks may be clipped
    ax_toe.legend(loc="upper left", fontsize=8)
    ax_ankle.axhline(0.0, color="k", lw=0.5, ls=":")
    ax_ankle.set_ylabel("ankle (deg, + dorsiflexion)")
    ax_ankle.set_xlabel("% of stride from initial contact (mean ± SD)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
