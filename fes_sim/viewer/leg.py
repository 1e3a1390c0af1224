"""Side-view geometry of one leg (thigh, shank, foot) for the viewer's animation.

Segment lengths and the foot points are the walking simulator's own
(:class:`fes_sim.gait.motion.Segments`: Winter's marker chain and toe and heel
points, scaled by height), so the drawn leg is the leg the plant moves.
Angles follow REFERENCE §1: shank tilt ψ positive with the knee ahead of the
ankle, knee flexion positive, foot pitch positive toe up. The thigh's angle
from the downward vertical, positive with the knee ahead of the hip, is then
``θ_thigh = knee_deg − ψ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fes_sim.gait.motion import Segments

NAN = math.nan

REFERENCE_HEIGHT_M = 1.75


@dataclass(frozen=True)
class LegGeometry:
    """Segment dimensions (m)."""

    thigh_m: float
    shank_m: float
    toe_forward_m: float
    heel_back_m: float
    sole_below_ankle_m: float

    @classmethod
    def for_height(cls, height_m: float = REFERENCE_HEIGHT_M) -> "LegGeometry":
        """The simulator's leg for a person ``height_m`` tall (the sole drawn at the toe's depth)."""
        seg = Segments.of(height_m)
        return cls(seg.thigh, seg.shank, seg.toe_forward, seg.heel_back, seg.toe_below)


def leg_points(
    geometry: LegGeometry,
    shank_tilt_deg: float,
    knee_deg: float = NAN,
    foot_pitch_deg: float = 0.0,
    toe_height_mm: float = NAN,
) -> np.ndarray:
    """Points hip, knee, ankle, heel, toe, ankle as a (6, 2) array of (forward, up) in metres.

    The leg is anchored so that the toe sits at ``toe_height_mm`` above the floor
    (y = 0); without a toe height, the lowest foot point rests on the floor.
    Without a knee angle the hip row is nan, so a line drawn with
    ``connect="finite"`` leaves the thigh out.
    """
    g = geometry
    psi = math.radians(shank_tilt_deg)
    knee = np.array([0.0, 0.0])
    ankle = knee + g.shank_m * np.array([-math.sin(psi), -math.cos(psi)])
    if math.isfinite(knee_deg):
        th = math.radians(knee_deg) - psi
        hip = knee - g.thigh_m * np.array([math.sin(th), -math.cos(th)])
    else:
        hip = np.array([NAN, NAN])
    pitch = math.radians(foot_pitch_deg)
    c, s = math.cos(pitch), math.sin(pitch)

    def foot(a: float, b: float) -> np.ndarray:
        return ankle + np.array([a * c - b * s, a * s + b * c])

    heel = foot(-g.heel_back_m, -g.sole_below_ankle_m)
    toe = foot(g.toe_forward_m, -g.sole_below_ankle_m)
    pts = np.vstack((hip, knee, ankle, heel, toe, ankle))
    if math.isfinite(toe_height_mm):
        pts[:, 1] += toe_height_mm * 1e-3 - toe[1]
    else:
        pts[:, 1] -= min(heel[1], toe[1])
    return pts
