"""Where an emulated device's sensor samples come from in HOST_LOOP mode.

A source is stepped once per sample with the output the device is applying,
so a simulated walker reacts to the stimulation (closed loop through the wire).
"""

from __future__ import annotations

import math
from typing import Protocol

from fes_sim.errors import RecordingError
from fes_sim.samples import GRAVITY_MPS2, SAMPLE_FIELDS, ShankSample


class SampleSource(Protocol):
    """Anything that yields one shank sample per call, given the applied output."""

    def reset(self, seed: int) -> None:
        """Start again from the beginning, seeded."""

    def step(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> ShankSample:
        """The next sample while this output is applied."""


class PlantSource:
    """The walking simulator (:class:`fes_sim.plant.WalkingPlant`) as a sensor."""

    def __init__(self, walker: str, sample_rate_hz: float) -> None:
        from fes_sim.config import resolve
        from fes_sim.plant import WalkingPlant
        from fes_sim.sensors.imu import SensorConfig

        # a device streams every channel it has: IMU, fused tilt and the heel switch
        self.plant = WalkingPlant(resolve("walker", walker), sample_rate_hz=sample_rate_hz, sensor=SensorConfig(footswitch=True))
        self._first: ShankSample | None = None

    def reset(self, seed: int) -> None:
        self._first = self.plant.reset(seed)

    def step(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> ShankSample:
        if self._first is not None:  # the sample at t = 0 comes first
            first, self._first = self._first, None
            return first
        return self.plant.step(current_ma, pulse_width_us, frequency_hz)


class RecordingSource:
    """A recorded walk (any format :func:`fes_sim.replay.load_recording` reads), looped at its end.

    The applied output is ignored: a recording cannot react to stimulation.
    Sample times are renumbered at the streaming rate, so looping stays monotonic.
    """

    def __init__(self, path: str, sample_rate_hz: float) -> None:
        from fes_sim.replay import load_recording

        rec = load_recording(path)
        if abs(rec.sample_rate_hz - sample_rate_hz) > 0.01 * sample_rate_hz:
            raise RecordingError(f"{path}: recorded at {rec.sample_rate_hz:g} Hz, but {sample_rate_hz:g} Hz was asked for "
                                 "(resampling is not done; use the recording's rate)")
        columns = {name: rec.column(name) for name in SAMPLE_FIELDS if name != "t_s"}
        self.samples = [ShankSample(float(t), **{k: float(v[i]) for k, v in columns.items()}) for i, t in enumerate(rec.t_s)]
        if not self.samples:
            raise RecordingError(f"{path}: the recording has no samples")
        self.dt_s = 1.0 / sample_rate_hz
        self._i = 0
        self._out = ShankSample(0.0)

    def reset(self, seed: int) -> None:
        self._i = 0

    def step(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> ShankSample:
        src = self.samples[self._i % len(self.samples)]
        out = self._out
        for name in SAMPLE_FIELDS:
            setattr(out, name, getattr(src, name))
        out.t_s = self._i * self.dt_s
        self._i += 1
        return out


class SyntheticSource:
    """A deterministic test signal: shank tilt swinging as a sine at the stride rate.

    ``tilt = amplitude · sin(2π t / stride_s)`` with matching gyro and
    accelerometer channels (static-tilt model of :mod:`fes_sim.samples`) and a
    heel switch loaded while the tilt is rising. It exercises the wire and the
    device logic when the walking simulator is not wanted; it is not a gait model.
    """

    def __init__(self, sample_rate_hz: float, stride_s: float = 1.1, amplitude_deg: float = 30.0) -> None:
        self.dt_s = 1.0 / sample_rate_hz
        self.stride_s = stride_s
        self.amplitude_deg = amplitude_deg
        self._k = 0
        self._sample = ShankSample(0.0)

    def reset(self, seed: int) -> None:
        self._k = 0

    def step(self, current_ma: float, pulse_width_us: float, frequency_hz: float) -> ShankSample:
        t = self._k * self.dt_s
        self._k += 1
        w = 2.0 * math.pi / self.stride_s
        tilt = self.amplitude_deg * math.sin(w * t)
        s = self._sample
        s.t_s = t
        s.tilt_deg = tilt
        s.gyr_x_dps = s.gyr_y_dps = 0.0
        s.gyr_z_dps = self.amplitude_deg * w * math.cos(w * t)
        s.acc_x_mps2 = GRAVITY_MPS2 * math.cos(math.radians(tilt))
        s.acc_y_mps2 = -GRAVITY_MPS2 * math.sin(math.radians(tilt))
        s.acc_z_mps2 = 0.0
        s.footswitch = 1.0 if s.gyr_z_dps > 0 else 0.0
        return s
