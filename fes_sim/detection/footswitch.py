"""Heel-switch detector: heel-off on release, heel strike on loading, debounced."""

from __future__ import annotations

import math

from fes_sim.control.config import FootswitchConfig
from fes_sim.samples import GaitEvent

_NONE = GaitEvent.NONE


class HeelSwitchDetector:
    """Debounced heel switch (1 = loaded). A new state must hold ``debounce_ms``.

    The event is reported at the sample that completes the debounce, so it lags the
    switch edge by the debounce time; a heel switch gives no toe-off. A release after
    the heel was loaded longer than ``max_loaded_ms`` is not a heel-off (standing or
    shifting weight), and the loading that ends such a release is not a heel strike.
    """

    def __init__(self, config: FootswitchConfig, adaptation_strides: float = 8.0) -> None:
        self.apply_config(config, adaptation_strides)
        self.reset()

    def apply_config(self, config: FootswitchConfig, adaptation_strides: float = 8.0) -> None:
        """Use a new threshold and debounce from the next sample on, keeping the switch state."""
        self.config = config
        self.debounce_s = config.debounce_ms * 1e-3
        self.max_loaded_s = config.max_loaded_ms * 1e-3

    def reset(self) -> None:
        """Unknown switch state; the first reading sets it without an event."""
        self.loaded: bool | None = None
        self.aborted = False
        self.t_change = math.nan
        self.t_loaded = math.nan  # when the heel was last loaded (debounced)
        self.walking = False  # the last release was a heel-off
        self.phase = 0

    def interrupt(self) -> None:
        """Forget the switch state (after a sensor fault); the next reading sets it again."""
        self.reset()

    def update(self, t_s: float, tilt_deg: float, rate_dps: float, footswitch: float = math.nan) -> GaitEvent:
        """One sample of the switch channel; returns the debounced event."""
        if footswitch != footswitch:
            self.t_change = math.nan
            return _NONE
        reading = footswitch > self.config.threshold
        if self.loaded is None:
            self.loaded = reading
            self.t_loaded = t_s
            return _NONE
        if reading == self.loaded:
            self.t_change = math.nan
            return _NONE
        if self.t_change != self.t_change:
            self.t_change = t_s
        if t_s - self.t_change < self.debounce_s:
            return _NONE
        self.loaded = reading
        self.t_change = math.nan
        self.phase = 0 if reading else 1
        if reading:
            self.t_loaded = t_s
            return GaitEvent.HEEL_STRIKE if self.walking else _NONE
        self.walking = t_s - self.t_loaded <= self.max_loaded_s
        return GaitEvent.HEEL_OFF if self.walking else _NONE
