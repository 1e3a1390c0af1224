"""Lesson 1: the gait cycle seen by a shank sensor.

Walks the healthy walker for 10 s without any stimulator, records the true
shank tilt, the gyro's angular rate, the ankle angle and the toe height, and
marks the true gait events (heel strike, heel-off, toe-off).

    python examples/lesson1_gait_cycle.py [OUTPUT_DIR]
"""

from __future__ import annotations

import numpy as np

from _course import answer, plt, save
from fes_sim.config import resolve
from fes_sim.plant import WalkingPlant
from fes_sim.samples import GaitEvent

DURATION_S = 10.0
SEED = 1


def walk() -> tuple[dict[str, np.ndarray], list[tuple[float, GaitEvent]]]:
    """Step the plant with no stimulation; return per-sample signals and the true events."""
    plant = WalkingPlant(resolve("walker", "healthy"))
    sample = plant.reset(SEED)
    rows = []
    for _ in range(int(DURATION_S * plant.sample_rate_hz)):
        st = plant.state
        rows.append((sample.t_s, st.true_tilt_deg, sample.gyr_z_dps, st.ankle_deg, st.toe_height_mm))
        sample = plant.step(0.0, 0.0, 0.0)  # no current: no stimulation
    cols = np.array(rows).T
    names = ("t_s", "tilt_deg", "gyr_z_dps", "ankle_deg", "toe_height_mm")
    return dict(zip(names, cols)), list(plant.events)


def times(events: list[tuple[float, GaitEvent]], kind: GaitEvent) -> np.ndarray:
    return np.array([t for t, ev in events if ev == kind])


def main() -> None:
    sig, events = walk()
    t = sig["t_s"]
    hs, ho, to = (times(events, e) for e in (GaitEvent.HEEL_STRIKE, GaitEvent.HEEL_OFF, GaitEvent.TOE_OFF))

    # one cycle = heel strike to the next heel strike; skip the first one (start-up)
    cycles = [(a, b) for a, b in zip(hs[1:-1], hs[2:])]
    stride_s = np.array([b - a for a, b in cycles])
    toe_off_in = [to[(to > a) & (to < b)][0] for a, b in cycles]
    heel_off_in = [ho[(ho > a) & (ho < b)][0] for a, b in cycles]
    stance_pct = 100 * (np.array(toe_off_in) - [a for a, _ in cycles]) / stride_s
    push_off_ms = 1000 * (np.array(toe_off_in) - heel_off_in)

    def at(name: str, when: np.ndarray) -> np.ndarray:
        return np.interp(when, t, sig[name])

    answer("stride_s", stride_s.mean(), "s", ".2f")
    answer("stance_pct", stance_pct.mean(), "%")
    answer("push_off_ms", push_off_ms.mean(), "ms", ".0f")
    answer("tilt_at_heel_strike_deg", at("tilt_deg", hs[1:]).mean(), "deg")
    answer("tilt_at_toe_off_deg", at("tilt_deg", to[1:]).mean(), "deg")
    swing = (t > hs[1]) & (t < hs[-1])
    answer("gyro_min_dps", sig["gyr_z_dps"][swing].min(), "deg/s", ".0f")
    answer("gyro_max_dps", sig["gyr_z_dps"][swing].max(), "deg/s", ".0f")

    # figure: two strides from the third heel strike
    t0, t1 = hs[2], hs[4]
    show = (t >= t0 - 0.05) & (t <= t1 + 0.05)
    swings = [(a, hs[hs > a][0]) for a in to if (hs > a).any()]  # toe-off to the next heel strike
    panels = [
        ("tilt_deg", "shank tilt (deg)\n+ knee ahead of ankle"),
        ("gyr_z_dps", "gyro rate (deg/s)\n= d(tilt)/dt"),
        ("ankle_deg", "ankle (deg)\n+ dorsiflexion"),
        ("toe_height_mm", "toe height (mm)"),
    ]
    fig, axes = plt.subplots(len(panels), 1, sharex=True, figsize=(8, 8))
    for ax, (name, label) in zip(axes, panels):
        y = sig[name]
        ax.plot(t[show], y[show], color="k", lw=1.2)
        ax.set_ylabel(label)
        for a, b in swings:
            ax.axvspan(a, b, color="tab:blue", alpha=0.12, lw=0)
        ax.set_xlim(t0 - 0.05, t1 + 0.05)
        for kind, color, style in ((hs, "tab:red", "-"), (ho, "tab:orange", "--"), (to, "tab:green", ":")):
            for x in kind[(kind >= t0 - 0.05) & (kind <= t1 + 0.05)]:
                ax.axvline(x, color=color, ls=style, lw=1)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    handles = [
        plt.Line2D([], [], color="tab:red", ls="-", label="heel strike"),
        plt.Line2D([], [], color="tab:orange", ls="--", label="heel-off"),
        plt.Line2D([], [], color="tab:green", ls=":", label="toe-off"),
        plt.Rectangle((0, 0), 1, 1, color="tab:blue", alpha=0.12, label="swing"),
    ]
    axes[0].legend(handles=handles, loc="upper right", ncol=4, fontsize=8)
    axes[0].set_title("Healthy walker, two strides: stance (white) and swing (blue)")
    fig.tight_layout()
    save(fig, "lesson1_gait_cycle")


if __name__ == "__main__":
    main()
