"""Report figure of a closed-loop run: tilt, events, stimulation, ankle and toe height."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from fes_sim.errors import OutputError
from fes_sim.figures import new_figure, save_figure
from fes_sim.loop import LoopTrace
from fes_sim.samples import GaitEvent

_EVENT_STYLE = {
    GaitEvent.HEEL_STRIKE: ("tab:blue", "v", "heel strike"),
    GaitEvent.HEEL_OFF: ("tab:orange", "^", "heel-off"),
    GaitEvent.TOE_OFF: ("tab:green", "^", "toe-off"),
}


def plot_run(
    trace: LoopTrace,
    true_events: Sequence[tuple[float, GaitEvent]],
    path: str | Path,
    window_s: tuple[float, float] | None = None,
    title: str = "",
) -> Path:
    """Write a four-panel PNG of ``trace`` over ``window_s`` (default: about 4 strides)."""
    a = trace.arrays()
    t = a["t_s"]
    if t.size == 0:
        raise OutputError(f"{path}: nothing to plot, the run recorded no samples")
    t0, t1 = window_s if window_s is not None else (max(t[0], t[-1] - 5.0), t[-1])
    sel = (t >= t0) & (t <= t1)
    fig, axes = new_figure(4, 1, figsize=(10, 8), sharex=True)
    ax_tilt, ax_stim, ax_ankle, ax_toe = axes
    ax_tilt.plot(t[sel], a["true_tilt_deg"][sel], color="0.6", label="true tilt")
    ax_tilt.plot(t[sel], a["tilt_est_deg"][sel], color="k", lw=1, label="estimated tilt")
    for ts, ev in true_events:
        if t0 <= ts <= t1 and ev in _EVENT_STYLE:
            ax_tilt.axvline(ts, color=_EVENT_STYLE[ev][0], lw=0.6, ls=":")
    for ev, (color, marker, label) in _EVENT_STYLE.items():
        times = [ts for ts, e in trace.detected_events if e == ev and t0 <= ts <= t1]
        if times:
            y = np.interp(times, t, a["tilt_est_deg"])
            ax_tilt.plot(times, y, ls="none", marker=marker, color=color, label=f"detected {label}")
    ax_tilt.set_ylabel("shank tilt (deg)")
    ax_tilt.legend(loc="upper right", fontsize=7, ncol=3)
    ax_stim.fill_between(t[sel], a["current_ma"][sel], step="post", color="tab:red", alpha=0.5)
    ax_stim.set_ylabel("current (mA)")
    ax_ankle.plot(t[sel], a["ankle_deg"][sel], color="tab:purple")
    ax_ankle.set_ylabel("ankle (deg, +dorsi)")
    ax_toe.plot(t[sel], a["toe_height_mm"][sel], color="tab:brown")
    ax_toe.axhline(0.0, color="k", lw=0.8)
    ax_toe.set_ylabel("toe height (mm)")
    ax_toe.set_xlabel("time (s)")
    ax_toe.set_ylim(-40.0, 80.0)  # the clearance region; swing peaks are clipped
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
