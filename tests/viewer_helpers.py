"""Shared by the viewer tests: a recording of Winter's normative shank tilt, written by the test."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fes_sim.gait import kinematics
from fes_sim.recording import write_table_csv

STRIDE_S = kinematics.REF_STRIDE_S


def write_winter_walk(folder: Path, duration_s: float = 20.0, rate_hz: float = 200.0) -> Path:
    """A generic CSV (``t_s``, ``tilt_deg``) of Winter's shank tilt and its heel strikes beside it."""
    t = np.arange(0.0, duration_s, 1.0 / rate_hz)
    tilt = kinematics.evaluate("shank", (t / STRIDE_S) % 1.0)
    path = folder / "walk.csv"
    write_table_csv(path, ("t_s", "tilt_deg"), zip(t, tilt))
    heel_strikes = np.arange(0.0, duration_s, STRIDE_S)
    write_table_csv(folder / "walk_events.csv", ("t_s", "event"), [(h, "heel_strike") for h in heel_strikes])
    return path
