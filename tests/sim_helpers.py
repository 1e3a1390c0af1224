"""Shared helper of the simulator tests: walk a plant without stimulation and keep its truth."""

from __future__ import annotations

import numpy as np

from fes_sim.plant import WalkingPlant


def walk_truth(walker, seconds: float, seed: int, fields: tuple[str, ...], **plant_kwargs) -> tuple[WalkingPlant, dict[str, np.ndarray]]:
    """The plant after ``seconds`` without stimulation and each ``PlantState`` field per sample (plus ``t_s``)."""
    p = WalkingPlant(walker, **plant_kwargs)
    p.reset(seed)
    rows = []
    for _ in range(int(round(seconds * p.sample_rate_hz))):
        p.step(0.0, 0.0, 0.0)
        rows.append([p.t_s] + [getattr(p.state, name) for name in fields])
    a = np.array(rows)
    return p, {name: a[:, k] for k, name in enumerate(("t_s",) + fields)}
