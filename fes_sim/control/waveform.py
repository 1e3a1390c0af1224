"""Biphasic pulse shapes: the two phases of each delivered pulse, charge balanced.

A symmetric biphasic pulse is ``(+I, PW)`` then ``(−I, PW)``. An asymmetric one
keeps the primary phase and returns the same charge in a longer, lower phase,
``(−I/r, r·PW)`` with the stimulator's ``asymmetric_recovery_ratio`` r, so the
net DC component is zero either way (IEC 60601-2-10 asks the instructions to
state waveform and DC component; REFERENCE §9).
"""

from __future__ import annotations

from fes_sim.control.controller import Pulse


def pulse_phases(pulse: Pulse, waveform: str, recovery_ratio: float = 4.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((amplitude_ma, width_us), (amplitude_ma, width_us))`` of the primary and recovery phase."""
    if waveform == "symmetric":
        return (pulse.current_ma, pulse.pulse_width_us), (-pulse.current_ma, pulse.pulse_width_us)
    if waveform == "asymmetric":
        return (pulse.current_ma, pulse.pulse_width_us), (-pulse.current_ma / recovery_ratio, pulse.pulse_width_us * recovery_ratio)
    raise ValueError(f"unknown waveform {waveform!r} (expected 'symmetric' or 'asymmetric')")
