"""Gait events and per-stride outcomes of the simulated leg (the plant's ground truth)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fes_sim.samples import GaitEvent


@dataclass(frozen=True, slots=True)
class StrideOutcome:
    """One completed stride of the simulated leg, from its initial contact to the next.

    Swing figures (MTC, drag) belong to this stride's swing; ``foot_slap``,
    ``foot_flat_velocity_dps`` and ``foot_pitch_ic_deg`` (toe up positive, relative to the
    walking surface) to the initial contact that ends it (``t_end_s``) and its loading
    response: after a heel-first contact the foot rotates down about the heel and
    ``foot_flat_velocity_dps`` is its downward angular velocity at forefoot contact (nan
    after a toe-first contact); a slap is that velocity above the walker's
    ``slap_velocity_dps``. ``push_off_pf_deg`` is the peak
    plantarflexion between heel-off and toe-off as a positive number (ankle −20° gives 20).
    ``t_mtc_s`` is the time of the MTC (the lowest toe point in mid-swing).
    A toe drag is a trip event: the toe went below the floor in mid-swing; its depth is
    how far the rigid-foot model would have passed through it.
    """

    t_heel_strike_s: float
    t_heel_off_s: float
    t_toe_off_s: float
    t_end_s: float
    mtc_mm: float
    toe_drag: bool
    drag_depth_mm: float
    drag_duration_s: float
    foot_slap: bool
    foot_pitch_ic_deg: float
    push_off_pf_deg: float
    t_mtc_s: float = math.nan
    foot_flat_velocity_dps: float = math.nan


class LegEvents:
    """Records true events and assembles :class:`StrideOutcome` objects for one walker.

    A stride is complete at the foot-flat after its closing contact (the slap is known
    only then); after a toe-first contact at the contact itself.

    Parameters
    ----------
    slap_velocity_dps
        Foot angular velocity at forefoot contact above which the landing is a slap.
    """

    def __init__(self, slap_velocity_dps: float) -> None:
        self.slap_velocity_dps = slap_velocity_dps
        self.events: list[tuple[float, GaitEvent]] = []
        self.strides: list[StrideOutcome] = []
        self._open: dict[str, float] | None = None
        self._closing: tuple | None = None

    def heel_off(self, t_s: float) -> None:
        """Heel rising in late stance."""
        self.events.append((t_s, GaitEvent.HEEL_OFF))
        if self._open is not None:
            self._open["t_ho"] = t_s

    def toe_off(self, t_s: float, ankle_min_deg: float) -> None:
        """Toe leaves the floor; ``ankle_min_deg`` is the lowest ankle angle since heel-off."""
        self.events.append((t_s, GaitEvent.TOE_OFF))
        if self._open is not None:
            self._open["t_to"] = t_s
            self._open["po"] = -ankle_min_deg

    def initial_contact(
        self, t_s: float, heel_first: bool, foot_pitch_deg: float, min_toe_m: float, drag_s: float, t_min_toe_s: float = math.nan,
    ) -> None:
        """Close the stride whose swing just ended (if it started with a contact) and open the next.

        After a heel-first contact the stride is recorded at :meth:`foot_flat`.
        """
        self.events.append((t_s, GaitEvent.HEEL_STRIKE))
        st = self._open
        self._closing = None
        if st is not None and "t_to" in st:
            self._closing = (
                st["t_hs"], st.get("t_ho", math.nan), st["t_to"], t_s, min_toe_m * 1e3, min_toe_m < 0.0, max(0.0, -min_toe_m * 1e3),
                drag_s, foot_pitch_deg, st["po"], t_min_toe_s,
            )
            if not heel_first:
                self.foot_flat(math.nan)
        self._open = {"t_hs": t_s}

    def foot_flat(self, velocity_dps: float) -> None:
        """Forefoot contact ending the loading response, at ``velocity_dps`` (downward positive)."""
        c = self._closing
        if c is None:
            return
        self._closing = None
        slap = bool(velocity_dps > self.slap_velocity_dps)
        self.strides.append(StrideOutcome(*c[:8], slap, *c[8:], foot_flat_velocity_dps=velocity_dps))

    def walk_end(self) -> None:
        """Walking stopped: the stride under way is dropped."""
        self._open = None
        self._closing = None
