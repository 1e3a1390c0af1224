"""Lesson 2: foot drop, and what peroneal stimulation does about it.

Runs a mild and a severe foot-drop walker for 30 s each, without a stimulator
and with the default tilt-triggered controller (``walkaide_tilt``, 35 mA), then sweeps
the stimulation current for the severe walker. Prints minimum toe clearance
(MTC), toe-drag and foot-slap counts and the foot pitch at initial contact.

    python examples/lesson2_foot_drop.py [OUTPUT_DIR]
"""

from __future__ import annotations

import numpy as np

from _course import answer, plt, save
from fes_sim.config import resolve
from fes_sim.session import SessionResult, SimulationSession

DURATION_S = 30.0
SEED = 1
WALKERS = ("drop_foot_mild", "drop_foot_severe")
CURRENTS_MA = (20.0, 30.0, 40.0, 50.0)


def run(walker: str, controller: str, current_ma: float | None = None) -> SessionResult:
    """One 30 s session; ``current_ma`` overrides the controller's pulse amplitude."""
    ctrl = resolve("controller", controller)
    if current_ma is not None:
        ctrl = ctrl.replace(stimulation=ctrl.stimulation.replace(current_ma=current_ma))
    return SimulationSession(resolve("walker", walker), ctrl).run(DURATION_S, seed=SEED)


def swing_curves(result: SessionResult) -> list[tuple[np.ndarray, np.ndarray]]:
    """Toe height (mm) against the fraction of swing (0 = toe-off, 1 = initial contact), per stride."""
    tr = result.trace.arrays()
    out = []
    for s in result.plant.strides:
        inside = (tr["t_s"] >= s.t_toe_off_s) & (tr["t_s"] <= s.t_end_s)
        phase = (tr["t_s"][inside] - s.t_toe_off_s) / (s.t_end_s - s.t_toe_off_s)
        out.append((phase, tr["toe_height_mm"][inside]))
    return out


def percent(flags: list[bool]) -> float:
    return 100.0 * sum(flags) / max(1, len(flags))


def main() -> None:
    runs = {(w, c): run(w, c) for w in WALKERS for c in ("off", "walkaide_tilt")}
    for (walker, controller), r in runs.items():
        tag = f"{walker.removeprefix('drop_foot_')}_{'off' if controller == 'off' else 'on'}"
        strides = r.plant.strides
        answer(f"mtc_{tag}_mm", r.summary["mtc_mm"]["median"], "mm")
        answer(f"drag_{tag}_pct", percent([s.toe_drag for s in strides]), "% of strides", ".0f")
        if walker == "drop_foot_severe":
            answer(f"slap_{tag}_pct", percent([s.foot_slap for s in strides]), "% of strides", ".0f")
            answer(f"foot_pitch_ic_{tag}_deg", r.summary["foot_pitch_ic_deg_median"], "deg")

    sweep = [run("drop_foot_severe", "walkaide_tilt", i) for i in CURRENTS_MA]
    sweep_mtc = [r.summary["mtc_mm"]["median"] for r in sweep]
    sweep_drag = [percent([s.toe_drag for s in r.plant.strides]) for r in sweep]
    for current, mtc in zip(CURRENTS_MA, sweep_mtc):
        answer(f"mtc_severe_{current:.0f}ma_mm", mtc, "mm")

    default_ma = resolve("controller", "walkaide_tilt").stimulation.current_ma
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    for ax, walker in zip(axes[0], WALKERS):
        for controller, color, label in (("off", "tab:red", "no stimulation"), ("walkaide_tilt", "tab:blue", f"walkaide_tilt, {default_ma:.0f} mA")):
            for i, (phase, toe) in enumerate(swing_curves(runs[walker, controller])):
                ax.plot(phase, toe, color=color, lw=0.7, alpha=0.5, label=label if i == 0 else None)
        ax.axhline(0, color="k", lw=1)
        ax.fill_between([0, 1], -40, 0, color="0.85", zorder=0)
        ax.set_ylim(-40, 160)
        ax.set_title(walker)
        ax.set_xlabel("fraction of swing (0 = toe-off, 1 = initial contact)")
        ax.set_ylabel("toe height (mm); grey = below the floor")
        ax.legend(loc="upper left", fontsize=8)

    ax = axes[1, 0]
    labels, values = [], []
    for (walker, controller), r in runs.items():
        labels.append(f"{walker.removeprefix('drop_foot_')}\n{'off' if controller == 'off' else 'on'}")
        values.append([s.mtc_mm for s in r.plant.strides])
    ax.boxplot(values)
    ax.set_xticks(range(1, len(labels) + 1), labels)
    ax.axhline(0, color="k", lw=1)
    ax.set_ylabel("MTC per stride (mm)")
    ax.set_title("minimum toe clearance, 30 s each")

    ax = axes[1, 1]
    ax.plot(CURRENTS_MA, sweep_mtc, "o-", color="tab:blue", label="median MTC (mm)")
    default_mtc = runs["drop_foot_severe", "walkaide_tilt"].summary["mtc_mm"]["median"]
    ax.plot([default_ma], [default_mtc], "D", color="tab:blue", mfc="white", label=f"preset, {default_ma:.0f} mA")
    ax.legend(loc="upper left", fontsize=8)
    ax.axhline(0, color="k", lw=1)
    ax.set_xlabel("current (mA) at 250 us: charge per phase = current x 0.25 uC")
    ax.set_ylabel("median MTC (mm)", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(CURRENTS_MA, sweep_drag, "s--", color="tab:red", label="toe-drag strides (%)")
    ax2.set_ylabel("toe-drag strides (%)", color="tab:red")
    ax2.set_ylim(-5, 105)
    ax.set_title("drop_foot_severe: current sweep")
    fig.tight_layout()
    save(fig, "lesson2_foot_drop")


if __name__ == "__main__":
    main()
