"""The closed loop: walking plant → shank sample → device pipeline → stimulation → plant.

:class:`ClosedLoop` is stepped one sensor sample at a time, so the same object
serves a batch run (:meth:`ClosedLoop.run`), the live viewer (which steps it
from its own thread) and tests. Nothing in it reads the wall clock except
:meth:`ClosedLoop.run`, which measures the real-time factor.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from fes_sim.device import DevicePipeline, StimOutput
from fes_sim.plant import WalkingPlant
from fes_sim.recording import RecordingWriter
from fes_sim.samples import GaitEvent, ShankSample


@dataclass
class LoopTrace:
    """What a closed-loop run leaves behind for scoring and reports.

    Per-sample arrays are filled as the run goes; events are ``(t_s, GaitEvent)``.
    """

    t_s: list[float] = field(default_factory=list)
    envelope: list[float] = field(default_factory=list)
    current_ma: list[float] = field(default_factory=list)
    charge_uc: list[float] = field(default_factory=list)
    tilt_est_deg: list[float] = field(default_factory=list)
    true_tilt_deg: list[float] = field(default_factory=list)
    ankle_deg: list[float] = field(default_factory=list)
    toe_height_mm: list[float] = field(default_factory=list)
    detected_events: list[tuple[float, GaitEvent]] = field(default_factory=list)
    #: wall-clock seconds of the whole run, and of its start (reset and first step: the
    #: compiled simulator is built there on first use, then loaded from numba's cache)
    wall_s: float = 0.0
    startup_s: float = 0.0

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-sample lists as numpy arrays."""
        names = ("t_s", "envelope", "current_ma", "charge_uc", "tilt_est_deg", "true_tilt_deg", "ankle_deg", "toe_height_mm")
        return {name: np.asarray(getattr(self, name), dtype=float) for name in names}

    def stim_intervals(self) -> list[tuple[float, float]]:
        """``(t_on_s, t_off_s)`` of each stretch with a non-zero envelope."""
        intervals: list[tuple[float, float]] = []
        t_on = None
        for t, env in zip(self.t_s, self.envelope):
            if env > 0.0 and t_on is None:
                t_on = t
            elif env <= 0.0 and t_on is not None:
                intervals.append((t_on, t))
                t_on = None
        if t_on is not None and self.t_s:
            intervals.append((t_on, self.t_s[-1]))
        return intervals


class ClosedLoop:
    """One walker, one device, stepped together.

    Parameters
    ----------
    plant
        The walking simulator (ground truth, muscle and foot).
    pipeline
        The device logic; ``None`` runs the walker with no stimulator at all.
    recorder
        Optional writer that receives every row and every reference event.
    """

    def __init__(
        self,
        plant: WalkingPlant,
        pipeline: DevicePipeline | None,
        recorder: RecordingWriter | None = None,
    ) -> None:
        self.plant = plant
        self.pipeline = pipeline
        self.recorder = recorder
        self.trace = LoopTrace()
        self.sample: ShankSample | None = None
        self.output: StimOutput | None = None
        self._events_written = 0

    def reset(self, seed: int) -> None:
        """Start a new run; the same seed gives the same run."""
        self.trace = LoopTrace()
        self._events_written = 0
        if self.pipeline is not None:
            self.pipeline.reset()
        self.sample = self.plant.reset(seed)
        self._process(self.sample)

    def step(self) -> StimOutput | None:
        """Advance one sensor sample, holding the last stimulation output over it."""
        out = self.output
        if out is None:
            sample = self.plant.step(0.0, 0.0, 0.0)
        else:
            sample = self.plant.step(out.current_ma, out.pulse_width_us, out.frequency_hz)
        self.sample = sample
        return self._process(sample)

    def _process(self, sample: ShankSample) -> StimOutput | None:
        trace = self.trace
        out = self.pipeline.update(sample) if self.pipeline is not None else None
        self.output = out
        truth = self.plant.state
        trace.t_s.append(sample.t_s)
        trace.true_tilt_deg.append(truth.true_tilt_deg)
        trace.ankle_deg.append(truth.ankle_deg)
        trace.toe_height_mm.append(truth.toe_height_mm)
        if out is None:
            trace.envelope.append(0.0)
            trace.current_ma.append(0.0)
            trace.charge_uc.append(0.0)
            trace.tilt_est_deg.append(math.nan)
        else:
            trace.tilt_est_deg.append(out.tilt_est_deg)
            trace.envelope.append(out.envelope)
            trace.current_ma.append(out.current_ma)
            trace.charge_uc.append(out.charge_uc)
            if out.event:
                trace.detected_events.append((sample.t_s, GaitEvent(out.event)))
        if self.recorder is not None:
            self.recorder.write(sample, out, self.plant.state)
            events = self.plant.events
            if len(events) > self._events_written:
                self.recorder.write_events(events[self._events_written :])
                self._events_written = len(events)
        return out

    def run(
        self,
        duration_s: float,
        seed: int,
        on_progress: Callable[[float], None] | None = None,
        progress_every_s: float = 1.0,
    ) -> LoopTrace:
        """Run ``duration_s`` of simulated time from ``reset(seed)``.

        ``on_progress(simulated_s)`` is called after the first step and then every
        ``progress_every_s`` of simulated time, for progress bars.
        """
        started = time.perf_counter()
        self.reset(seed)
        n_steps = int(round(duration_s * self.plant.sample_rate_hz))
        every = max(1, int(round(progress_every_s * self.plant.sample_rate_hz)))
        try:
            for k in range(1, n_steps + 1):
                self.step()
                if k == 1:
                    self.trace.startup_s = time.perf_counter() - started
                if on_progress is not None and (k == 1 or k % every == 0):
                    on_progress(k / self.plant.sample_rate_hz)
        finally:
            if self.recorder is not None:
                self.recorder.flush()
            self.trace.wall_s = time.perf_counter() - started
        return self.trace
