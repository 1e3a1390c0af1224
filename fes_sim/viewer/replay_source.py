"""A recording replayed through the device pipeline, at a chosen speed, as a viewer source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fes_sim.config.schema import Config
from fes_sim.replay.loaders import load_recording
from fes_sim.samples import SAMPLE_FIELDS, GaitEvent, ShankSample
from fes_sim.viewer.buffer import NAN, ViewerBuffer, make_row
from fes_sim.viewer.retune import RetunablePipeline
from fes_sim.viewer.source import Source
from fes_sim.viewer.strides import HeelStrikeStrides

#: ``Recording.truth`` columns the viewer draws (truth panels and leg pose)
TRUTH_CHANNELS: tuple[str, ...] = ("true_tilt_deg", "ankle_deg", "toe_height_mm", "foot_pitch_deg")


class ReplaySource(Source):
    """Feeds each recorded sample to a :class:`~fes_sim.device.DevicePipeline` and shows the result.

    The pipeline runs the current controller config, so retuning works on a
    recording as it does on the simulation. A recording of the simulator
    carries its ground truth (:attr:`Recording.truth <fes_sim.replay.loaders.Recording.truth>`):
    the true tilt, ankle angle, toe height and foot pitch then fill the truth
    panels and pose the leg. Without it (real sensors) the tilt channel is drawn
    as the true tilt and the ankle and toe panels stay empty. Reference events
    (``NAME_events.csv``) are drawn as ground truth; strides are counted from
    reference heel strikes, or from detected ones when the recording has no reference.
    With the toe height in the truth, each stride's MTC (lowest toe point in
    mid-swing, after the reference toe-off) and toe drag are drawn as in the simulation.

    Parameters
    ----------
    buffer
        Destination of samples and events.
    path
        Any file :func:`fes_sim.replay.loaders.load_recording` reads.
    controller, stimulator
        The device to replay through.
    speed
        Recording seconds per wall-clock second.
    """

    label = "replay"

    def __init__(
        self,
        buffer: ViewerBuffer,
        path: str | Path,
        controller: Config,
        stimulator: Config,
        speed: float = 1.0,
        **kwargs: Any,
    ) -> None:
        self.recording = load_recording(path)
        super().__init__(buffer, self.recording.sample_rate_hz, speed, **kwargs)
        self.label = f"replay {Path(path).name} x{speed:g}"
        self.status.source = self.label
        self.device = RetunablePipeline(controller, stimulator, self.recording.sample_rate_hz)
        self._columns = [(name, self.recording.column(name)) for name in SAMPLE_FIELDS if name != "t_s"]
        truth = self.recording.truth
        self._truth = [(name, np.asarray(truth[name], dtype=float)) for name in TRUTH_CHANNELS if name in truth]
        self._reference = sorted(self.recording.events)
        self._sample = ShankSample(t_s=NAN)
        self._i = 0
        self._next_reference = 0
        self._strides = HeelStrikeStrides(self.recording.t_s, truth.get("toe_height_mm"))

    def _retune(self, kind: str, config: Config) -> None:
        if kind == "controller":
            self.device.request(config)
        else:
            super()._retune(kind, config)

    def _advance(self) -> bool:
        rec, i = self.recording, self._i
        if i >= rec.t_s.size:
            return False
        self._i += 1
        s = self._sample
        s.t_s = float(rec.t_s[i])
        for name, column in self._columns:
            setattr(s, name, float(column[i]))
        out = self.device.pipeline.update(s)
        threshold = getattr(self.device.pipeline.detector, "threshold_deg", NAN)
        values = {
            "t_s": s.t_s,
            "true_tilt_deg": s.tilt_deg,
            "tilt_est_deg": out.tilt_est_deg,
            "gyr_z_dps": s.gyr_z_dps,
            "envelope": out.envelope,
            "current_ma": out.current_ma,
            "pulses": out.pulses,
            "threshold_deg": threshold,
        }
        for name, column in self._truth:  # simulator ground truth overrides the sensor's tilt as "true tilt"
            values[name] = float(column[i])
        row = make_row(values)
        self.emit(row, out.event, s.t_s)
        self._emit_truth_until(s.t_s, out.event)
        self.status.stim_state = out.state
        self.status.faults = out.faults
        return True

    def _emit_truth_until(self, t_s: float, detected: GaitEvent) -> None:
        new: list[tuple[float, GaitEvent]] = []
        while self._next_reference < len(self._reference) and self._reference[self._next_reference][0] <= t_s:
            new.append(self._reference[self._next_reference])
            self._next_reference += 1
        gait = new if self._reference else [(t_s, detected)]
        strides = [m for t, ev in gait for m in self._strides.event(t, ev)]
        if new or strides:
            self.emit_truth(new, strides)
