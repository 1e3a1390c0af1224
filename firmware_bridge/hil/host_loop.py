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

import gc
import logging
import math
import threading
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
from firmware_bridge.link.fes_link import FesLink, Received
from firmware_bridge.protocol import Mode, Nak, NakCode, SensorSample
from firmware_bridge.realtime import realtime as realtime_priority
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
    priority: str = "normal (not requested)"

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


class _Loop:
    """Per-sample work, run on the link's reader thread (no thread hand-off between sample and command)."""

    def __init__(self, link: FesLink, pipeline: DevicePipeline, result: HostLoopResult, offset_s: float,
                 wanted: int, recorder: RecordingWriter | None) -> None:
        self.link, self.pipeline, self.result, self.offset_s = link, pipeline, result, offset_s
        self.wanted, self.recorder = wanted, recorder
        self.period_s = 1.0 / result.sample_rate_hz
        self.host_lat: list[float] = []
        self.s2c: list[float] = []
        self.arrivals: list[float] = []
        self.unwrap = Unwrapper()
        self.sample = ShankSample(0.0)
        self.stride: StrideRow | None = None
        self.next_index: int | None = None
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.last_rx_s = link.clock()

    def __call__(self, item: Received) -> bool:
        msg = item.message
        if isinstance(msg, Nak):
            self.result.naks.append(f"{NakCode(msg.code).name} for msg 0x{msg.msg_id:02X}")
            return True
        if not isinstance(msg, SensorSample) or self.done.is_set():
            return False
        try:
            self._sample(item.host_t_s, msg)
        except BaseException as exc:  # reported by run_host_loop on the caller's thread
            self.error = exc
            self.done.set()
        return True

    def _sample(self, rx_s: float, msg: SensorSample) -> None:
        result, link = self.result, self.link
        self.last_rx_s = rx_s
        if self.next_index is not None and msg.sample_index != self.next_index:
            result.lost_samples += (msg.sample_index - self.next_index) & 0xFFFFFFFF
        self.next_index = (msg.sample_index + 1) & 0xFFFFFFFF
        t_dev = self.unwrap(msg.t_us)
        out = self.pipeline.update(fill_shank_sample(msg, t_dev, self.sample))
        link.set_envelope(out.envelope, msg.sample_index)
        t_tx = link.clock()
        result.samples += 1
        self.arrivals.append(rx_s)
        self.host_lat.append(t_tx - rx_s)
        lat = t_tx - (msg.t_us * 1e-6 - self.offset_s)
        self.s2c.append(lat)
        if self.recorder is not None:
            self.recorder.write(self.sample, out)
        if out.event == GaitEvent.HEEL_STRIKE:
            if self.stride is not None:
                self.stride.duration_s = t_dev - self.stride.t_start_s
                _close_stride(self.stride)
                result.strides.append(self.stride)
            self.stride = StrideRow(len(result.strides) + 1, t_dev)
        if self.stride is not None:
            self.stride.samples += 1
            self.stride.latencies_s.append(lat)
            if out.envelope > 0:
                self.stride.stim_ms += self.period_s * 1e3
        if result.samples >= self.wanted:
            self.done.set()


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
    realtime: bool = False,
) -> HostLoopResult:
    """Run host in the loop for ``duration_s`` of device samples; never raises for link failures.

    Samples are processed on the link's reader thread as they are decoded, and
    Python's cyclic garbage collector is paused during the run (its pauses
    would show as latency spikes; the pipeline allocates nothing per sample).
    A port that vanishes, or samples that stop for ``sample_timeout_s``, end
    the run with ``result.error`` set; the recorder has every row up to then.
    With ``realtime`` the process's threads run at raised scheduling priority
    during the run (see :func:`firmware_bridge.realtime.realtime`; what was
    obtained is in ``result.priority``).
    """
    with realtime_priority(realtime) as priority:
        result = _run(link, controller, stimulator, sample_rate_hz, duration_s, watchdog_ms, recorder, sample_timeout_s)
    result.priority = priority.description
    return result


def _run(link: FesLink, controller: ControllerConfig, stimulator: StimulatorConfig, sample_rate_hz: int,
         duration_s: float, watchdog_ms: int, recorder: RecordingWriter | None, sample_timeout_s: float) -> HostLoopResult:
    result = HostLoopResult(float(sample_rate_hz))
    controller = wire_controller(controller)
    pipeline = DevicePipeline(controller, stimulator, float(sample_rate_hz))
    clock = link.clock
    wanted = int(round(duration_s * sample_rate_hz))
    t_begin = clock()
    loop: _Loop | None = None
    gc_was_enabled = gc.isenabled()
    try:
        prepare_device(link, controller, stimulator, watchdog_ms)
        result.clock = sync_clock(link)
        loop = _Loop(link, pipeline, result, result.clock.offset_s, wanted, recorder)
        link.add_listener(loop)
        gc.collect()
        gc.disable()
        link.set_mode(Mode.HOST_LOOP, sample_rate_hz)
        loop.last_rx_s = clock()
        while not loop.done.wait(0.01):
            if link.failure is not None:
                raise link.failure
            if clock() - loop.last_rx_s > sample_timeout_s:
                raise BridgeError(f"no sample from the device for {sample_timeout_s * 1e3:.0f} ms")
        if loop.error is not None:
            raise loop.error
    except BridgeError as exc:
        result.error = exc
        log.error("host-in-the-loop run ended: %s", exc)
    finally:
        if gc_was_enabled:
            gc.enable()
        if loop is not None:
            loop.done.set()
            link.remove_listener(loop)
        if result.error is None:
            try:
                link.stop()
            except BridgeError as exc:
                result.error = exc
    result.duration_s = clock() - t_begin
    if loop is not None:
        result.host_latency = Percentiles.of(loop.host_lat)
        result.sample_to_command = Percentiles.of(loop.s2c)
        result.arrival_jitter = jitter(loop.arrivals, 1.0 / sample_rate_hz)
    else:
        result.host_latency = result.sample_to_command = result.arrival_jitter = Percentiles.of([])
    return result


def _close_stride(row: StrideRow) -> None:
    p = Percentiles.of(row.latencies_s)
    row.latency_p50_ms = p.p50_s * 1e3
    row.latency_max_ms = p.max_s * 1e3
    row.latencies_s.clear()
