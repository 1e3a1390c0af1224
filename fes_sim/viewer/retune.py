"""Retuning a running device pipeline: checked once when submitted, applied between bursts."""

from __future__ import annotations

import logging

from fes_sim.config.schema import Config
from fes_sim.device import DevicePipeline

log = logging.getLogger(__name__)


class RetunablePipeline:
    """The running :class:`~fes_sim.device.DevicePipeline` of a viewer source, and its retuning.

    :meth:`request` hands a new controller config to
    :meth:`DevicePipeline.retune <fes_sim.device.DevicePipeline.retune>`, which
    checks it against the stimulator's limits at once (an unsafe config raises
    :class:`~fes_sim.errors.SafetyLimitError` there and changes nothing) and
    applies it while the output is idle, or holds it in :attr:`pending` until
    the burst in progress has ended with its ramp. The sample loop only calls
    ``pipeline.update``, which never raises for a pending config: it was
    checked when submitted. The estimator and detector keep what they learnt.
    """

    def __init__(self, controller: Config, stimulator: Config, sample_rate_hz: float) -> None:
        self.stimulator = stimulator
        self.sample_rate_hz = sample_rate_hz
        self.pipeline = DevicePipeline(controller, stimulator, sample_rate_hz)  # type: ignore[arg-type]

    @property
    def pending(self) -> Config | None:
        """A submitted config still waiting for the burst in progress to end, or None."""
        return self.pipeline.pending

    @property
    def idle(self) -> bool:
        """True when the output is idle (a submitted config would take effect at once)."""
        return self.pipeline.out.state == "idle"

    def check(self, controller: Config) -> None:
        """Raise :class:`~fes_sim.errors.SafetyLimitError` (or ConfigError) if ``controller`` cannot run here.

        Builds a throwaway pipeline, so the check is exactly the device's own.
        """
        DevicePipeline(controller, self.stimulator, self.sample_rate_hz)  # type: ignore[arg-type]

    def request(self, controller: Config) -> bool:
        """Submit a new controller config (on the source thread); True if in effect now, False if pending.

        Raises
        ------
        SafetyLimitError
            The config exceeds the stimulator's limits; nothing changed.
        """
        applied = self.pipeline.retune(controller)  # type: ignore[arg-type]
        log.info("controller retuned" if applied else "controller retune pending until the burst ends")
        return applied
