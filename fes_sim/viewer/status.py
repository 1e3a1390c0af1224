"""The viewer's one-line status: source, time, strides, cadence, stimulation, faults, link."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from fes_sim.viewer.buffer import Snapshot, StrideMark

#: strides averaged for the cadence
CADENCE_STRIDES = 5


def cadence_steps_per_min(strides: Sequence[StrideMark]) -> float:
    """Cadence from the median of the last few stride times (two steps per stride); nan if unknown."""
    ends = np.array([s.t_end_s for s in strides[-(CADENCE_STRIDES + 1) :]])
    if ends.size < 2:
        return math.nan
    return 120.0 / float(np.median(np.diff(ends)))


def status_text(snap: Snapshot, cadence_spm: float, paused: bool) -> str:
    """The status line for one frame."""
    st = snap.status
    t = snap.t_now_s
    parts = [
        st.source or "source",
        f"t {t:.2f} s" if math.isfinite(t) else "t -",
        f"strides {snap.stride_count}",
        f"cadence {cadence_spm:.0f} steps/min" if math.isfinite(cadence_spm) else "cadence -",
        f"stim {st.stim_state or '-'}",
        f"faults {st.faults or 'none'}",
    ]
    if st.link:
        parts.append(f"link {st.link}")
    if st.notice:
        parts.append(st.notice)
    if st.finished:
        parts.append("ENDED")
    elif paused:
        parts.append("PAUSED")
    return " | ".join(parts)
