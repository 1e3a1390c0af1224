"""Conversions between :class:`fes_sim.samples.ShankSample` and the wire's sample messages."""

from __future__ import annotations

import math

from fes_sim.samples import ShankSample
from firmware_bridge.protocol import FOOTSWITCH_ABSENT, SAMPLE_CHANNELS, HostSample, SensorSample
from firmware_bridge.protocol.messages import definition, pack_payload, unpack_payload

_WRAP_US = 1 << 32


def footswitch_to_wire(value: float) -> int:
    """0/1 heel switch (NaN = absent) → u8 0, 1 or 0xFF."""
    if math.isnan(value):
        return FOOTSWITCH_ABSENT
    return 1 if value >= 0.5 else 0


def footswitch_from_wire(value: int) -> float:
    """u8 0, 1 or 0xFF → 0.0, 1.0 or NaN."""
    return math.nan if value == FOOTSWITCH_ABSENT else float(value != 0)


def to_host_sample(index: int, t_us: int, sample: ShankSample) -> HostSample:
    """HOST_SAMPLE carrying ``sample`` with index ``index`` and time ``t_us`` (wrapped to u32)."""
    return HostSample(index & 0xFFFFFFFF, t_us % _WRAP_US, *(getattr(sample, c) for c in SAMPLE_CHANNELS),
                      footswitch_to_wire(sample.footswitch))


def as_received(msg: HostSample) -> HostSample:
    """``msg`` as the device decodes it: the float channels rounded to binary32."""
    return unpack_payload(definition(msg), pack_payload(msg))  # type: ignore[return-value]


def to_sensor_sample(index: int, t_us: int, sample: ShankSample) -> SensorSample:
    """SENSOR_SAMPLE carrying ``sample`` (what a device in HOST_LOOP mode streams)."""
    return SensorSample(index & 0xFFFFFFFF, t_us % _WRAP_US, *(getattr(sample, c) for c in SAMPLE_CHANNELS),
                        footswitch_to_wire(sample.footswitch))


def fill_shank_sample(msg: HostSample | SensorSample, t_s: float, out: ShankSample) -> ShankSample:
    """Overwrite ``out`` with the channels of ``msg`` at time ``t_s`` and return it."""
    out.t_s = t_s
    for c in SAMPLE_CHANNELS:
        setattr(out, c, getattr(msg, c))
    out.footswitch = footswitch_from_wire(msg.footswitch)
    return out


class Unwrapper:
    """Turns a wrapping u32 µs counter into monotonic seconds.

    A step backwards by more than half the range counts as one wrap (2³² µs,
    about 71.6 min); smaller steps backwards are kept as they are.
    """

    def __init__(self) -> None:
        self._last: int | None = None
        self._base = 0

    def reset(self) -> None:
        """Forget the history."""
        self._last = None
        self._base = 0

    def __call__(self, t_us: int) -> float:
        if self._last is not None and t_us < self._last and self._last - t_us > _WRAP_US // 2:
            self._base += _WRAP_US
        self._last = t_us
        return (self._base + t_us) * 1e-6
