"""Toe and heel height from the leg chain, and the MTC calibration (REFERENCE §3).

z_toe = z_ankle + l_t·sin α − h_t·cos α with the toe point about 0.165 m forward of and
0.059 m below the lateral malleolus for Winter's subject (scaled with body height,
:class:`fes_sim.gait.motion.Segments`); the ankle height comes from the leg chain checked
against Winter's marker table (tests/test_sim_chain.py), which puts the healthy MTC near
mid-swing (about 48 % of swing at Winter's speed; 51 %, Moosabhoy & Gard 2006). MTC is a small difference
of two ~0.9 m quantities, so one constant offset per walker is calibrated: with the
walker's own leg motion and Winter's ankle curve (healthy), the nominal stride's MTC
equals ``mtc_target_mm``; and the heel counts as touching the floor at the height this
stride's heel has at the nominal heel strike (a few mm), so healthy initial contact is at
the nominal heel strike (13 mm young, 11 mm elderly; Winter via Kirtley). Ankle
deviations (drop foot, stimulation) then change MTC at about 3 mm per degree
(Moosabhoy & Gard 2006).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fes_sim.gait import motion as gm
from fes_sim.gait.variability import OFFSET_SIGNALS
from fes_sim.gait.walker import WalkerConfig

#: swing fractions: toe lifting off (not a drag) | mid-swing (MTC, drag) | terminal swing (contact = initial contact)
MIDSWING_START = 0.15
TERMINAL_SWING_START = 0.70


def toe_height_m(ankle_z, alpha_rad, seg: gm.Segments):
    """Toe height (m) above the walking surface for foot pitch ``alpha_rad`` relative to it."""
    return ankle_z + seg.toe_forward * np.sin(alpha_rad) - seg.toe_below * np.cos(alpha_rad)


@dataclass(frozen=True)
class FootCalibration:
    """Per-walker constants that make the healthy reference stride land where it should."""

    offset_m: float  # added to the chain's ankle height: nominal healthy MTC = target
    heel_contact_m: float  # heel height that counts as floor contact: the healthy heel lands at the nominal heel strike


def calibrate(walker: WalkerConfig, n: int = 2000) -> FootCalibration:
    """Calibrate the toe-height offset and the heel point on the walker's nominal healthy stride."""
    seg = gm.Segments.of(walker.height_m)
    phase = np.linspace(0.0, 1.0, n, endpoint=False)
    ch = gm.walking_channels(phase, np.zeros((n, len(OFFSET_SIGNALS))), np.zeros(n), 0.0, 0.0, gm.WalkParams.of(walker))
    ankle_z = gm.ankle_above_surface(seg, ch)
    alpha = np.radians(ch["ankle_ref_deg"] - ch["psi_a_deg"])
    toe = toe_height_m(ankle_z, alpha, seg)
    sw = (phase - walker.stance_fraction) / (1.0 - walker.stance_fraction)
    window = (sw >= MIDSWING_START) & (sw < TERMINAL_SWING_START)
    offset = walker.mtc_target_mm * 1e-3 - float(toe[window].min())
    heel = ankle_z[0] + offset - seg.heel_back * np.sin(alpha[0]) - seg.heel_below * np.cos(alpha[0])
    return FootCalibration(offset, float(heel))


