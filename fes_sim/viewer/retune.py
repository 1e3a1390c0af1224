"""Swapping a new controller config into a running device pipeline without cutting a burst short."""

from __future__ import annotations

import logging

from fes_sim.config.schema import Config
from fes_sim.device import DevicePipeline

log = logging.getLogger(__name__)


class RetunablePipeline:
    """Holds the running :class:`~fes_sim.device.DevicePipeline` and a pending controller config.

    :meth:`swap_if_idle` is called by the source thread before each sample: the
    pending config is applied with :meth:`DevicePipeline.retune` only while the
    stimulator is idle (between bursts), so retuning never cuts stimulation off
    without its ramp; the estimator and detector keep what they learnt.
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
        """Retune the pipeline if a config is pending and the output is idle; returns True if applied."""
        if self.pending is None or self.pipeline.out.state != "idle":
            return False
        self.pipeline.retune(self.pending)  # type: ignore[arg-type]
        self.pending = None
        log.info("controller retuned")
        return True
