"""Gait events and per-stride outcomes of the simulated leg (the plant's ground truth)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numba.extending import register_jitable

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


#: the fields of :class:`StrideOutcome` in order: a stride row of :func:`leg_contact` and :func:`leg_foot_flat`
STRIDE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StrideOutcome))
_BOOL_FIELDS = frozenset(("toe_drag", "foot_slap"))


def matched_strides(
    runs: list[list[StrideOutcome]], reference: list[list[StrideOutcome]], tolerance_s: float = 6e-3,
) -> list[tuple[StrideOutcome, StrideOutcome]]:
    """Pairs of the same stride in two runs of the same walkers (one stride list per walker in each):
    matched by toe-off, a nominal event that two plant rates place within a plant step, so a stride
    one run completes and the other does not shifts no other pair."""
    return [(a, b) for sa, sb in zip(runs, reference) for a in sa for b in sb if abs(a.t_toe_off_s - b.t_toe_off_s) < tolerance_s]


def stride_outcome(row: list[float]) -> StrideOutcome:
    """The :class:`StrideOutcome` of a stride row (floats in :data:`STRIDE_FIELDS` order)."""
    return StrideOutcome(*(bool(v) if name in _BOOL_FIELDS else v for name, v in zip(STRIDE_FIELDS, row)))


# The stride bookkeeping is a small state machine on a float array (``new_leg_state``), so the
# same functions run as Python in the single plant's reference path and compiled in the population kernel.
#: state slots: a stride is open (since its contact), its heel-off, toe-off and push-off, a stride is closing
(_OPEN, _T_HS, _T_HO, _HAS_TO, _T_TO, _PO, _CLOSING) = range(7)
_C0 = 7  # the closing stride: t_hs, t_ho, t_to, t_end, mtc_mm, toe_drag, drag_depth_mm, drag_s, pitch_deg, po_deg, t_mtc_s
LEG_STATE_SIZE = _C0 + 11


def new_leg_state() -> np.ndarray:
    """The state of a leg with no stride yet."""
    return np.zeros(LEG_STATE_SIZE)


@register_jitable
def leg_heel_off(state, t_s):
    """Heel rising in late stance."""
    if state[_OPEN]:
        state[_T_HO] = t_s


@register_jitable
def leg_toe_off(state, t_s, ankle_min_deg):
    """Toe leaves the floor; ``ankle_min_deg`` is the lowest ankle angle since heel-off."""
    if state[_OPEN]:
        state[_HAS_TO] = 1.0
        state[_T_TO] = t_s
        state[_PO] = -ankle_min_deg


@register_jitable
def leg_contact(state, t_s, heel_first, foot_pitch_deg, min_toe_m, drag_s, t_min_toe_s, slap_velocity_dps, row):
    """Initial contact: close the stride whose swing just ended, open the next; True when a
    stride is complete (toe-first contact) and written to ``row``."""
    state[_CLOSING] = 0.0
    if state[_OPEN] and state[_HAS_TO]:
        depth = -min_toe_m * 1e3
        closing = (
            state[_T_HS], state[_T_HO], state[_T_TO], t_s, min_toe_m * 1e3, 1.0 if min_toe_m < 0.0 else 0.0, depth if depth > 0.0 else 0.0,
            drag_s, foot_pitch_deg, state[_PO], t_min_toe_s,
        )
        for k in range(11):
            state[_C0 + k] = closing[k]
        state[_CLOSING] = 1.0
    done = False
    if state[_CLOSING] and not heel_first:
        done = leg_foot_flat(state, math.nan, slap_velocity_dps, row)
    state[_OPEN] = 1.0
    state[_T_HS] = t_s
    state[_T_HO] = math.nan
    state[_HAS_TO] = 0.0
    return done


@register_jitable
def leg_foot_flat(state, velocity_dps, slap_velocity_dps, row):
    """Forefoot contact ending the loading response; True when it completes a stride (written to ``row``)."""
    if not state[_CLOSING]:
        return False
    state[_CLOSING] = 0.0
    for k in range(8):
        row[k] = state[_C0 + k]
    row[8] = 1.0 if velocity_dps > slap_velocity_dps else 0.0
    for k in range(8, 11):
        row[k + 1] = state[_C0 + k]
    row[12] = velocity_dps
    return True


@register_jitable
def leg_walk_end(state):
    """Walking stopped: the stride under way is dropped."""
    state[_OPEN] = 0.0
    state[_CLOSING] = 0.0


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
        self._state = new_leg_state()
        self._row = np.empty(len(STRIDE_FIELDS))

    def heel_off(self, t_s: float) -> None:
        """Heel rising in late stance."""
        self.events.append((t_s, GaitEvent.HEEL_OFF))
        leg_heel_off(self._state, t_s)

    def toe_off(self, t_s: float, ankle_min_deg: float) -> None:
        """Toe leaves the floor; ``ankle_min_deg`` is the lowest ankle angle since heel-off."""
        self.events.append((t_s, GaitEvent.TOE_OFF))
        leg_toe_off(self._state, t_s, ankle_min_deg)

    def initial_contact(
        self, t_s: float, heel_first: bool, foot_pitch_deg: float, min_toe_m: float, drag_s: float, t_min_toe_s: float = math.nan,
    ) -> None:
        """Close the stride whose swing just ended (if it started with a contact) and open the next.

        After a heel-first contact the stride is recorded at :meth:`foot_flat`.
        """
        self.events.append((t_s, GaitEvent.HEEL_STRIKE))
        if leg_contact(self._state, t_s, heel_first, foot_pitch_deg, min_toe_m, drag_s, t_min_toe_s, self.slap_velocity_dps, self._row):
            self.strides.append(stride_outcome(self._row.tolist()))

    def foot_flat(self, velocity_dps: float) -> None:
        """Forefoot contact ending the loading response, at ``velocity_dps`` (downward positive)."""
        if leg_foot_flat(self._state, velocity_dps, self.slap_velocity_dps, self._row):
            self.strides.append(stride_outcome(self._row.tolist()))

    def walk_end(self) -> None:
        """Walking stopped: the stride under way is dropped."""
        leg_walk_end(self._state)
