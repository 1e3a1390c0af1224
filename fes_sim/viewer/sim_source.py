"""The live closed-loop simulation as a viewer source, retunable while it walks."""

from __future__ import annotations

from typing import Any

from fes_sim.config.schema import Config
from fes_sim.errors import ConfigError
from fes_sim.loop import ClosedLoop, LoopTrace
from fes_sim.plant import WalkingPlant
from fes_sim.samples import GaitEvent
from fes_sim.sensors.imu import SensorConfig
from fes_sim.viewer.buffer import NAN, StrideMark, ViewerBuffer, make_row
from fes_sim.viewer.retune import RetunablePipeline
from fes_sim.viewer.source import Source

#: the simulated shank sensor: default IMU and tilt output, plus a heel switch so that every detector can run
SENSOR = SensorConfig(footswitch=True)
#: samples kept in the loop's own trace before it is emptied (the viewer keeps its own ring)
TRACE_SAMPLES = 2000


class SimulationSource(Source):
    """A :class:`~fes_sim.loop.ClosedLoop` stepped on the source thread at ``speed`` × real time.

    Parameters
    ----------
    buffer
        Destination of samples and events.
    walker, controller, stimulator, scenario
        Validated configs; ``scenario=None`` is the plant's default.
    sample_rate_hz
        Shank sensor rate (Hz).
    seed
        Seed of the run.
    speed
        Simulated seconds per wall-clock second.

    A new controller config retunes the running device pipeline once the
    stimulator is idle (:class:`~fes_sim.viewer.retune.RetunablePipeline`). A new walker config
    goes to the running plant (``WalkingPlant.set_walker``: from its next block, the
    sensor and the run carry on); only a new body height, sensor placement or force
    model starts a new plant and pipeline, with the time axis carrying on.
    """

    label = "simulation"

    def __init__(
        self,
        buffer: ViewerBuffer,
        walker: Config,
        controller: Config,
        stimulator: Config,
        scenario: Config | None = None,
        sample_rate_hz: float = 200.0,
        seed: int = 1,
        speed: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(buffer, sample_rate_hz, speed, **kwargs)
        self.stimulator = stimulator
        self.scenario = scenario
        self.seed = seed
        self.walker = walker
        self._pending_walker: Config | None = None
        self._t_offset_s = 0.0
        self._build(controller)

    def _build(self, controller: Config) -> None:
        plant = WalkingPlant(self.walker, scenario=self.scenario, sensor=SENSOR, sample_rate_hz=self.sample_rate_hz)  # type: ignore[arg-type]
        self.device = RetunablePipeline(controller, self.stimulator, self.sample_rate_hz)
        self.loop = ClosedLoop(plant, self.device.pipeline)
        self._n_events = 0
        self._n_strides = 0

    @property
    def controller(self) -> Config:
        """The controller config currently running."""
        return self.device.pipeline.config

    def _open(self) -> None:
        self.loop.reset(self.seed)
        self._emit_current()

    def _retune(self, kind: str, config: Config) -> None:
        if kind == "controller":
            self.device.request(config)
        elif kind == "walker":
            self._pending_walker = config
        else:
            super()._retune(kind, config)

    def _advance(self) -> bool:
        if self._pending_walker is not None:
            try:
                self.loop.plant.set_walker(self._pending_walker)  # type: ignore[arg-type]
                self.walker, self._pending_walker = self._pending_walker, None
            except ConfigError:
                self._restart_with_walker(self._pending_walker)
                return True
        self.loop.step()
        self._emit_current()
        if len(self.loop.trace.t_s) > TRACE_SAMPLES:
            self.loop.trace = LoopTrace()
        return True

    def _restart_with_walker(self, walker: Config) -> None:
        self._t_offset_s += self.loop.sample.t_s + 1.0 / self.sample_rate_hz  # type: ignore[union-attr]
        self.walker, self._pending_walker = walker, None
        self._build(self.device.pending or self.device.pipeline.config)
        self.loop.reset(self.seed)
        self._emit_current()

    def _emit_current(self) -> None:
        loop, off = self.loop, self._t_offset_s
        sample, out, truth = loop.sample, loop.output, loop.plant.state
        t = sample.t_s + off
        row = make_row(
            {
                "t_s": t,
                "true_tilt_deg": truth.true_tilt_deg,
                "tilt_est_deg": out.tilt_est_deg,
                "gyr_z_dps": sample.gyr_z_dps,
                "envelope": out.envelope,
                "current_ma": out.current_ma,
                "pulses": out.pulses,
                "ankle_deg": truth.ankle_deg,
                "toe_height_mm": truth.toe_height_mm,
                "foot_pitch_deg": truth.foot_pitch_deg,
                "knee_deg": truth.knee_deg,
                "threshold_deg": getattr(loop.pipeline.detector, "threshold_deg", NAN),  # only the tilt trigger has one
            }
        )
        self.emit(row, out.event, t)
        events, strides = loop.plant.events, loop.plant.strides
        if len(events) > self._n_events or len(strides) > self._n_strides:
            new_events = [(te + off, GaitEvent(ev)) for te, ev in events[self._n_events :]]
            marks = [
                StrideMark(s.t_toe_off_s + off, s.t_end_s + off, s.t_mtc_s + off, s.mtc_mm, bool(s.toe_drag))
                for s in strides[self._n_strides :]
            ]
            self.emit_truth(new_events, marks)
            self._n_events, self._n_strides = len(events), len(strides)
        self.status.stim_state = out.state
        self.status.faults = out.faults
