"""Host in the loop: the device streams its sensor, the host runs the reference pipeline and commands the envelope.

For every SENSOR_SAMPLE the host runs :class:`fes_sim.device.DevicePipeline`
and answers with SET_ENVELOPE carrying the sample's index. Measured per sample:

* **host latency**: host clock from the sample's bytes being read to the
  command's bytes being written (decode, pipeline, encode, write);
* **sample-to-command latency**: from the device's sample time, mapped to the
  host clock with the time-sync offset, to the command written; this includes
  the device's transmit path and the serial link;
* **arrival jitter**: deviation of sample inter-arrival times from the period.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.recording import RecordingWriter
from fes_sim.samples import GaitEvent, ShankSample
from firmware_bridge.errors import BridgeError
from firmware_bridge.hil.junit import Check
from firmware_bridge.hil.setup import prepare_device, wire_controller
from firmware_bridge.hil.timing import ClockSync, Percentiles, jitter, sync_clock
from firmware_bridge.link.fes_link import FesLink
from firmware_bridge.protocol import Mode, Nak, NakCode, SensorSample
from firmware_bridge.samples import Unwrapper, fill_shank_sample

log = logging.getLogger(__name__)


@dataclass
class StrideRow:
    """One stride of a host-in-the-loop run (heel strike to heel strike, as the host detected it)."""

    index: int
    t_start_s: float
    duration_s: float = math.nan
    samples: int = 0
    stim_ms: float = 0.0
    latency_p50_ms: float = math.nan
    latency_max_ms: float = math.nan
    latencies_s: list[float] = field(default_factory=list, repr=False)

    def values(self) -> tuple[object, ...]:
        """Cells for the per-stride table."""
        return (self.index, self.t_start_s, self.duration_s, self.samples, self.stim_ms, self.latency_p50_ms, self.latency_max_ms)


STRIDE_HEADERS = ("stride", "t_start_s", "stride_s", "samples", "stim_ms", "lat_p50_ms", "lat_max_ms")


@dataclass
class HostLoopResult:
    """What a host-in-the-loop run measured."""

    sample_rate_hz: float
    samples: int = 0
    lost_samples: int = 0
    naks: list[str] = field(default_factory=list)
    host_latency: Percentiles | None = None
    sample_to_command: Percentiles | None = None
    arrival_jitter: Percentiles | None = None
    clock: ClockSync | None = None
    strides: list[StrideRow] = field(default_factory=list)
    error: BridgeError | None = None
    duration_s: float = 0.0

    def checks(self, p50_limit_ms: float, p99_limit_ms: float) -> list[Check]:
        """Pass/fail checks: link intact, no lost samples, no NAK, latency within limits."""
        stc = self.sample_to_command
        out = [
            Check("link", self.error is None, str(self.error or f"{self.samples} samples"), self.duration_s),
            Check("no_lost_samples", self.lost_samples == 0 and self.samples > 0,
                  f"{self.lost_samples} of {self.samples + self.lost_samples} samples lost"),
            Check("no_nak", not self.naks, "; ".join(self.naks[:5])),
        ]
        if stc is not None and stc.n:
            out.append(Check("latency_p50", stc.p50_s * 1e3 <= p50_limit_ms,
                             f"sample-to-command p50 {stc.p50_s * 1e3:.3f} ms (limit {p50_limit_ms:g} ms)"))
            out.append(Check("latency_p99", stc.p99_s * 1e3 <= p99_limit_ms,
                             f"sample-to-command p99 {stc.p99_s * 1e3:.3f} ms (limit {p99_limit_ms:g} ms)"))
        return out


def run_host_loop(
    link: FesLink,
    controller: ControllerConfig,
    stimulator: StimulatorConfig,
    sample_rate_hz: int,
    duration_s: float,
    *,
    watchdog_ms: int = 250,
    recorder: RecordingWriter | None = None,
    sample_timeout_s: float = 0.1,
) -> HostLoopResult:
    """Run host in the loop for ``duration_s`` of device samples; never raises for link failures.

    A port that vanishes, or samples that stop for ``sample_timeout_s``, end the
    run with ``result.error`` set; the recorder has every row up to then.
    """
    result = HostLoopResult(float(sample_rate_hz))
    controller = wire_controller(controller)
    pipeline = DevicePipeline(controller, stimulator, float(sample_rate_hz))
    clock = link.clock
    host_lat: list[float] = []
    s2c: list[float] = []
    arrivals: list[float] = []
    unwrap = Unwrapper()
    sample = ShankSample(0.0)
    stride: StrideRow | None = None
    wanted = int(round(duration_s * sample_rate_hz))
    next_index: int | None = None
    t_begin = clock()
    try:
        prepare_device(link, controller, stimulator, watchdog_ms)
        result.clock = sync_clock(link)
        offset = result.clock.offset_s
        link.set_mode(Mode.HOST_LOOP, sample_rate_hz)
        period = 1.0 / sample_rate_hz
        while result.samples < wanted:
            item = link.recv(sample_timeout_s)
            if item is None:
                raise BridgeError(f"no sample from the device for {sample_timeout_s * 1e3:.0f} ms")
            msg = item.message
            if isinstance(msg, Nak):
                result.naks.append(f"{NakCode(msg.code).name} for msg 0x{msg.msg_id:02X}")
                continue
            if not isinstance(msg, SensorSample):
                continue
            if next_index is not None and msg.sample_index != next_index:
                result.lost_samples += (msg.sample_index - next_index) & 0xFFFFFFFF
            next_index = (msg.sample_index + 1) & 0xFFFFFFFF
            t_dev = unwrap(msg.t_us)
            out = pipeline.update(fill_shank_sample(msg, t_dev, sample))
            link.set_envelope(out.envelope, msg.sample_index)
            t_tx = clock()
            result.samples += 1
            arrivals.append(item.host_t_s)
            host_lat.append(t_tx - item.host_t_s)
            lat = t_tx - ((msg.t_us * 1e-6) - offset)
            s2c.append(lat)
            if recorder is not None:
                recorder.write(sample, out)
            if out.event == GaitEvent.HEEL_STRIKE:
                if stride is not None:
                    stride.duration_s = t_dev - stride.t_start_s
                    _close_stride(stride)
                    result.strides.append(stride)
                stride = StrideRow(len(result.strides) + 1, t_dev)
            if stride is not None:
                stride.samples += 1
                stride.latencies_s.append(lat)
                if out.envelope > 0:
                    stride.stim_ms += period * 1e3
    except BridgeError as exc:
        result.error = exc
        log.error("host-in-the-loop run ended: %s", exc)
    finally:
        if result.error is None:
            try:
                link.stop()
            except BridgeError as exc:
                result.error = exc
    result.duration_s = clock() - t_begin
    result.host_latency = Percentiles.of(host_lat)
    result.sample_to_command = Percentiles.of(s2c)
    result.arrival_jitter = jitter(arrivals, 1.0 / sample_rate_hz)
    return result


def _close_stride(row: StrideRow) -> None:
    p = Percentiles.of(row.latencies_s)
    row.latency_p50_ms = p.p50_s * 1e3
    row.latency_max_ms = p.max_s * 1e3
    row.latencies_s.clear()
