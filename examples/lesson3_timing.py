"""Lesson 3: stimulation timing. Good settings against four common mistakes.

The severe foot-drop walker walks 40 s with the default tilt-triggered
controller (``walkaide_tilt`` as preset: 35 mA, the current lesson 2 found to
give a healthy clearance) and with four changes to its timing: a late onset
(after toe-off), an early offset, no extension after heel strike, and no ramps.
Prints clearance, toe drag (good, late onset, early offset), foot slap (and the
foot's angular velocity at forefoot contact it is judged on; the early offset
lands toe first, so its share of toe-first landings instead), foot pitch at
initial contact and charge.

    python examples/lesson3_timing.py [OUTPUT_DIR]
"""

from __future__ import annotations

import math

import numpy as np

from _course import answer, plt, save
from fes_sim.config import resolve
from fes_sim.session import SessionResult, SimulationSession

DURATION_S = 40.0
SEED = 1
WALKER = "drop_foot_severe"
CONTROLLER = "walkaide_tilt"  # as preset (35 mA, 250 us, 40 Hz): only the timing changes

#: name -> changes to the controller's ``stimulation`` settings
VARIANTS: dict[str, dict[str, float]] = {
    "good": {},
    "late_onset": {"delay_ms": 500.0},  # onset 500 ms after the detected heel-off: about 50 ms after toe-off
    "early_offset": {"max_on_time_s": 0.5},  # the on-time limit ends the burst around toe-off, before the swing
    "no_extension": {"extension_ms": 0.0},  # ramp down at the detected heel strike
    "no_ramps": {"ramp_up_ms": 0.0, "ramp_down_ms": 0.0},  # full current at once, off at once
}


def run(changes: dict[str, float]) -> SessionResult:
    base = resolve("controller", CONTROLLER)
    ctrl = base.replace(stimulation=base.stimulation.replace(**changes))
    return SimulationSession(resolve("walker", WALKER), ctrl).run(DURATION_S, seed=SEED)


def median_heel_first(velocities_dps: list[float]) -> float:
    """Median forefoot-contact velocity, or nan when most landings are toe first (they have none)."""
    v = np.array(velocities_dps)
    return float(np.nanmedian(v)) if np.isfinite(v).sum() > len(v) / 2 else math.nan


def main() -> None:
    results = {name: run(changes) for name, changes in VARIANTS.items()}
    table = {}
    for name, r in results.items():
        strides = r.plant.strides
        table[name] = {
            "mtc_mm": r.summary["mtc_mm"]["median"],
            "slap_pct": 100.0 * np.mean([s.foot_slap for s in strides]),
            "foot_flat_velocity_dps": median_heel_first([s.foot_flat_velocity_dps for s in strides]),
            "foot_pitch_ic_deg": r.summary["foot_pitch_ic_deg_median"],
            "charge_uc": r.summary["stim"]["charge_per_stride_uc_median"],
            "onset_lead_ms": r.summary["stim"]["onset_lead_ms_median"],
            "drag_pct": 100.0 * r.summary["toe_drag_strides"] / r.summary["strides"],
            # the forefoot-contact velocity exists only after a heel-first contact (nan after a toe-first one)
            "toe_first_pct": 100.0 * np.mean([math.isnan(s.foot_flat_velocity_dps) for s in strides]),
        }
        row = table[name]
        answer(f"{name}_mtc_mm", row["mtc_mm"], "mm")
        answer(f"{name}_slap_pct", row["slap_pct"], "% of strides", ".0f")
        if name == "early_offset":  # lands toe first: no heel rocker, so (nearly) no forefoot-contact velocity to judge
            answer(f"{name}_toe_first_pct", row["toe_first_pct"], "% of strides landing toe first", ".0f")
        else:
            answer(f"{name}_foot_flat_velocity_dps", row["foot_flat_velocity_dps"], "deg/s (median, at forefoot contact)", ".0f")
        answer(f"{name}_foot_pitch_ic_deg", row["foot_pitch_ic_deg"], "deg")
        answer(f"{name}_charge_uc", row["charge_uc"], "uC per stride", ".0f")
        if name in ("good", "late_onset"):
            answer(f"{name}_onset_lead_ms", row["onset_lead_ms"], "ms before toe-off (negative: after it)", ".0f")
        if name in ("good", "late_onset", "early_offset"):
            answer(f"{name}_drag_pct", row["drag_pct"], "% of strides with toe drag", ".0f")

    fig = plt.figure(figsize=(13, 7.5))
    grid = fig.add_gridspec(2, 5)
    ax = fig.add_subplot(grid[0, :])
    colors = dict(zip(VARIANTS, ("k", "tab:orange", "tab:red", "tab:purple", "tab:green")))
    for offset, (name, r) in enumerate(results.items()):
        tr = r.trace.arrays()
        s = r.plant.strides[10]  # one stride after the detector has adapted
        show = (tr["t_s"] >= s.t_heel_strike_s) & (tr["t_s"] <= s.t_end_s + 0.4)
        t_rel = tr["t_s"][show] - s.t_toe_off_s
        ax.plot(t_rel, tr["envelope"][show] + 0.03 * offset, color=colors[name], lw=1.5, label=name.replace("_", " "))
    ax.axvline(0, color="0.4", ls=":")
    ax.text(0.01, 1.03, "true toe-off", color="0.4", fontsize=8)
    ax.set_xlabel("time from true toe-off (s)")
    ax.set_ylabel("stimulation envelope\n(curves shifted 0.03 apart)")
    current_ma = resolve("controller", CONTROLLER).stimulation.current_ma
    ax.set_title(f"{WALKER}, {CONTROLLER} at {current_ma:.0f} mA: one stride (stride 11) under each setting")
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    ax.set_ylim(-0.05, 1.2)
    metrics = (("mtc_mm", "median MTC (mm)"), ("slap_pct", "foot slap (% strides)"),
               ("foot_flat_velocity_dps", "foot velocity at\nforefoot contact (deg/s)"),
               ("foot_pitch_ic_deg", "foot pitch at IC (deg)"), ("charge_uc", "charge per stride (uC)"))
    for i, (key, label) in enumerate(metrics):
        ax = fig.add_subplot(grid[1, i])
        names = list(VARIANTS)
        values = [table[n][key] for n in names]
        ax.bar(range(len(names)), np.nan_to_num(values), color=[colors[n] for n in names])
        ax.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=7)
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(label, fontsize=10)
        if key == "foot_flat_velocity_dps":
            slap_dps = resolve("walker", WALKER).slap_velocity_dps
            ax.axhline(slap_dps, color="tab:red", ls="--", lw=1)
            ax.text(-0.4, slap_dps + 3, "slap above", color="tab:red", fontsize=7)
            for j, n in enumerate(names):
                if table[n]["toe_first_pct"] > 50:  # the median landing is toe first: no heel rocker, no velocity
                    ax.text(j, 5, "toe\nfirst", ha="center", fontsize=7, color=colors[n])
    fig.tight_layout()
    save(fig, "lesson3_timing")


if __name__ == "__main__":
    main()
