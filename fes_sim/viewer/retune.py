"""Swapping a new controller config into a running device pipeline without cutting a burst short."""

from __future__ import annotations

import logging

from fes_sim.config.schema import Config
from fes_sim.device import DevicePipeline

log = logging.getLogger(__name__)


class RetunablePipeline:
    """Holds the running :class:`~fes_sim.device.DevicePipeline` and a pending controller config.

    :meth:`swap_if_idle` is called by the source thread before each sample: the
    pending config replaces the pipeline only while the stimulator is idle
    (between bursts), so retuning never cuts stimulation off without its ramp.
    The new pipeline starts from reset state (its detector re-adapts within a few
    strides), because :class:`DevicePipeline` has no way to change its config in place.
    """

    def __init__(self, controller: Config, stimulator: Config, sample_rate_hz: float) -> None:
        self.stimulator = stimulator
        self.sample_rate_hz = sample_rate_hz
        self.pipeline = DevicePipeline(controller, stimulator, sample_rate_hz)  # type: ignore[arg-type]
        self.pending: Config | None = None

    def request(self, controller: Config) -> None:
        """Queue a new controller config (call on the source thread)."""
        self.pending = controller

    def swap_if_idle(self) -> bool:
        """Replace the pipeline if a config is pending and the output is idle; returns True if swapped."""
        if self.pending is None or self.pipeline.out.state != "idle":
            return False
        self.pipeline = DevicePipeline(self.pending, self.stimulator, self.sample_rate_hz)  # type: ignore[arg-type]
        self.pending = None
        log.info("controller retuned")
        return True
