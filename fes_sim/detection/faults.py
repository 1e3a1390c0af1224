"""Sensor-fault monitor: missing, non-finite, stuck or saturated input and broken time.

Each check sets one bit; :data:`FAULT_NAMES` gives the flag names used in
``StimOutput.faults`` and recordings. A fault stays active until the inputs have
been valid for ``recover_ms`` (counted in samples, since the clock itself may be
what failed). After a jump back in time the new time line is accepted as the
reference, so a sensor whose clock restarts recovers after ``recover_ms``.
"""

from __future__ import annotations

import math

from fes_sim.control.config import SensorFaultConfig
from fes_sim.samples import ShankSample

MISSING = 1
NONFINITE = 2
STUCK = 4
SATURATED = 8
TIME_GAP = 16
TIME_BACKWARDS = 32
MAX_ON_TIME = 64  # raised by the controller, listed here so every flag has one name

#: bit → flag name, in the order flags are written
FAULT_NAMES: tuple[tuple[int, str], ...] = (
    (MISSING, "missing"),
    (NONFINITE, "nonfinite"),
    (STUCK, "stuck"),
    (SATURATED, "saturated"),
    (TIME_GAP, "time_gap"),
    (TIME_BACKWARDS, "time_backwards"),
    (MAX_ON_TIME, "max_on_time"),
)

_isfinite = math.isfinite


def fault_label(bits: int) -> str:
    """``"|"``-joined names of the flags set in ``bits`` (``""`` for none)."""
    return "|".join(name for bit, name in FAULT_NAMES if bits & bit)


class SensorMonitor:
    """Checks each sample's time and the input channels the detector needs.

    Parameters
    ----------
    config : SensorFaultConfig
        Gap, stuck and range rules.
    channels : sequence of str
        ``ShankSample`` attribute names the running detector depends on.
    sample_rate_hz : float
        Nominal rate, to turn ``stuck_ms`` and ``recover_ms`` into sample counts.
    """

    def __init__(self, config: SensorFaultConfig, channels: tuple[str, ...], sample_rate_hz: float) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.apply_config(config)
        self.configure(channels)
        self.reset()

    def apply_config(self, config: SensorFaultConfig) -> None:
        """Use new rules from the next sample on, keeping active faults and their
        recovery count (call :meth:`configure` afterwards if the ranges changed)."""
        self.config = config
        sample_rate_hz = self.sample_rate_hz
        ranges = {
            "tilt_deg": config.tilt_range_deg,
            "gyr_x_dps": config.gyro_range_dps,
            "gyr_y_dps": config.gyro_range_dps,
            "gyr_z_dps": config.gyro_range_dps,
            "acc_x_mps2": config.acc_range_mps2,
            "acc_y_mps2": config.acc_range_mps2,
            "acc_z_mps2": config.acc_range_mps2,
            "footswitch": math.inf,
        }
        self._ranges = ranges
        self.max_gap_s = config.max_gap_ms * 1e-3
        self.stuck_n = max(2, math.ceil(config.stuck_ms * 1e-3 * sample_rate_hz))
        self.recover_n = math.ceil(config.recover_ms * 1e-3 * sample_rate_hz)

    def reset(self) -> None:
        """Forget history: the next sample starts a fresh stream."""
        self.t_prev = math.nan
        self.bits = 0
        self.active = 0
        self._same = 0
        self._last = math.nan
        self._clean = 0

    def configure(self, channels: tuple[str, ...]) -> None:
        """Check these channels from now on (the first one is also checked for being stuck)."""
        self.checks = tuple((name, self._ranges[name]) for name in channels)
        self.stuck_channel = channels[0] if channels and channels[0] != "footswitch" else None

    def update(self, s: ShankSample) -> int:
        """Check one sample; return the active fault bits (0 when healthy)."""
        bits = 0
        t = s.t_s
        tp = self.t_prev
        if not _isfinite(t):
            bits = NONFINITE if t == t else MISSING
        else:
            if tp == tp:
                dt = t - tp
                if dt <= 0.0:
                    bits = TIME_BACKWARDS
                elif dt > self.max_gap_s:
                    bits = TIME_GAP
            self.t_prev = t  # after a jump back, the new time line is the reference
        for name, limit in self.checks:
            v = getattr(s, name)
            if v != v:
                bits |= MISSING
            elif not -limit < v < limit:
                bits |= NONFINITE if not _isfinite(v) else SATURATED
        ch = self.stuck_channel
        if ch is not None:
            v = getattr(s, ch)
            if v == self._last:
                self._same += 1
                if self._same >= self.stuck_n:
                    bits |= STUCK
            else:
                self._same = 0
                self._last = v
        self.bits = bits
        if bits:
            self.active = self.active | bits
            self._clean = 0
        elif self.active:
            self._clean += 1
            if self._clean >= self.recover_n:
                self.active = 0
        return self.active
