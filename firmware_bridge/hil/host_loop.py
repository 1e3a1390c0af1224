"""Host in the loop: the device streams its sensor, the host runs the reference pipeline and commands the envelope.

For every SENSOR_SAMPLE the host runs :class:`fes_sim.device.DevicePipeline`
and answers with SET_ENVELOPE carrying the sample's index. Measured per sample:

* **host latency** (host clock only): from the sample's bytes being read to
  the command's bytes being written (decode, pipeline, encode, write);
* **sample-to-command latency**: host latency plus the sample's transit, from
  its being taken on the device to its bytes being read. The transit needs the
  device clock mapped to the host's: :func:`~firmware_bridge.hil.timing.fit_device_clock`
  fits it to the samples' minimum one-way delay, bounded by time-sync pings
  (before the run and every ``resync_s`` during it). When the device clock is
  not a straight line of host time within ``max_drift_ppm`` (an emulator's guest
  clock that stalls), the figure is not measurable and ``clock_fit.reason``
  says why;
* **arrival jitter**: deviation of sample inter-arrival times from the period.

A duplicated or reordered sample (index at or below the last one seen) is
dropped and counted in ``stale_samples``; index gaps count as lost samples.
"""

from __future__ import annotations

import gc
import logging
import math
import threading
from dataclasses import dataclass, field

import numpy as np

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.recording import RecordingWriter
from fes_sim.samples import GaitEvent, ShankSample
from firmware_bridge.errors import BridgeError, LinkTimeout
from firmware_bridge.hil.junit import Check
from firmware_bridge.hil.setup import prepare_device, wire_controller
from firmware_bridge.hil.timing import MIN_FIT_SPAN_S, ClockSync, DeviceClockFit, Percentiles, fit_device_clock, jitter, sync_clock
from firmware_bridge.link.fes_link import FesLink, Received
from firmware_bridge.protocol import Mode, Nak, NakCode, SensorSample
from firmware_bridge.protocol.constants import CLOCK_TOLERANCE_PPM
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
    first_sample: int = field(default=0, repr=False)
    """position of its first sample among the run's samples"""

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
    stale_samples: int = 0
    """duplicated or reordered samples (index at or below the last one seen), dropped"""
    naks: list[str] = field(default_factory=list)
    host_latency: Percentiles | None = None
    sample_to_command: Percentiles | None = None
    arrival_jitter: Percentiles | None = None
    clock: ClockSync | None = None
    clock_fit: DeviceClockFit | None = None
    """the device clock mapped to the host's; None with under ``MIN_FIT_SPAN_S`` of samples"""
    strides: list[StrideRow] = field(default_factory=list)
    error: BridgeError | None = None
    duration_s: float = 0.0
    priority: str = "normal (not requested)"

    @property
    def latency_unmeasurable(self) -> str:
        """Why sample-to-command latency could not be measured ("" when it was)."""
        if self.clock_fit is None:
            return f"under {MIN_FIT_SPAN_S:g} s of samples: too few to fit the device clock"
        return self.clock_fit.reason

    def checks(self, p50_limit_ms: float | None, p99_limit_ms: float | None, max_lost_samples: int = 0) -> list[Check]:
        """Pass/fail checks: link intact, no more than ``max_lost_samples`` lost, no NAK, latency.

        A latency limit fails when the latency is not measurable; without limits the latency is one
        check, skipped (not passed) when not measurable.
        """
        out = [
            Check("link", self.error is None, str(self.error or f"{self.samples} samples"), self.duration_s),
            Check("no_lost_samples", self.lost_samples <= max_lost_samples and self.samples > 0,
                  f"{self.lost_samples} of {self.samples + self.lost_samples} samples lost (limit {max_lost_samples})"),
            Check("no_nak", not self.naks, "; ".join(self.naks[:5])),
        ]
        stc, why = self.sample_to_command, self.latency_unmeasurable
        if why:
            why = f"sample-to-command latency not measurable: {why}"
        limits = [(name, getattr(stc, f"{name}_s"), limit) for name, limit in (("p50", p50_limit_ms), ("p99", p99_limit_ms))
                  if limit is not None]
        for name, value_s, limit_ms in limits:
            out.append(Check(f"latency_{name}", not why and value_s * 1e3 <= limit_ms,
                             why or f"sample-to-command {name} {value_s * 1e3:.3f} ms (limit {limit_ms:g} ms)"))
        if not limits:
            out.append(Check("sample_to_command", not why, why or f"p50 {stc.p50_s * 1e3:.3f} ms, p99 "
                             f"{stc.p99_s * 1e3:.3f} ms (no limit set)", skipped=bool(why)))
        return out


class _Loop:
    """Per-sample work, run on the link's reader thread (no thread hand-off between sample and command)."""

    def __init__(self, link: FesLink, pipeline: DevicePipeline, result: HostLoopResult, wanted: int,
                 recorder: RecordingWriter | None) -> None:
        self.link, self.pipeline, self.result = link, pipeline, result
        self.wanted, self.recorder = wanted, recorder
        self.period_s = 1.0 / result.sample_rate_hz
        self.rx_s: list[float] = []
        self.tx_s: list[float] = []
        self.t_dev_s: list[float] = []
        self.unwrap = Unwrapper()
        self.sample = ShankSample(0.0)
        self.stride: StrideRow | None = None
        self.last_index: int | None = None
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
        if self.last_index is not None:
            step = (msg.sample_index - self.last_index) & 0xFFFFFFFF
            if step == 0 or step >= 0x80000000:  # a duplicate, or older than one already processed
                result.stale_samples += 1
                return
            result.lost_samples += step - 1
        self.last_index = msg.sample_index
        t_dev = self.unwrap(msg.t_us)
        out = self.pipeline.update(fill_shank_sample(msg, t_dev, self.sample))
        link.set_envelope(out.envelope, msg.sample_index)
        self.tx_s.append(link.clock())
        self.rx_s.append(rx_s)
        self.t_dev_s.append(t_dev)
        if self.recorder is not None:
            self.recorder.write(self.sample, out)
        if out.event == GaitEvent.HEEL_STRIKE:
            if self.stride is not None:
                self.stride.duration_s = t_dev - self.stride.t_start_s
                result.strides.append(self.stride)
            self.stride = StrideRow(len(result.strides) + 1, t_dev, first_sample=result.samples)
        result.samples += 1
        if self.stride is not None:
            self.stride.samples += 1
            if out.envelope > 0:
                self.stride.stim_ms += self.period_s * 1e3
        if result.samples >= self.wanted:
            self.done.set()

    def finish(self, clock: ClockSync | None, max_drift_ppm: float) -> None:
        """Latency and jitter statistics of the run, with the pings of the whole run."""
        result = self.result
        rx, tx = np.array(self.rx_s), np.array(self.tx_s)
        result.host_latency = Percentiles.of(tx - rx)
        result.arrival_jitter = jitter(rx, self.period_s)
        result.clock_fit = fit_device_clock(rx, self.t_dev_s, clock, max_drift_ppm)
        if result.clock_fit is None or result.clock_fit.reason:
            result.sample_to_command = Percentiles.of([])
            return
        s2c = tx - rx + result.clock_fit.transit_s(rx, self.t_dev_s)
        result.sample_to_command = Percentiles.of(s2c)
        for row in result.strides:
            p = Percentiles.of(s2c[row.first_sample:row.first_sample + row.samples])
            row.latency_p50_ms, row.latency_max_ms = p.p50_s * 1e3, p.max_s * 1e3


def run_host_loop(
    link: FesLink,
    controller: ControllerConfig,
    stimulator: StimulatorConfig,
    sample_rate_hz: int,
    duration_s: float,
    *,
    watchdog_ms: int = 250,
    recorder: RecordingWriter | None = None,
    sample_timeout_s: float = 0.25,
    resync_s: float = 2.0,
    realtime: bool = False,
    max_drift_ppm: float = CLOCK_TOLERANCE_PPM,
) -> HostLoopResult:
    """Run host in the loop for ``duration_s`` of device samples; never raises for link failures.

    Samples are processed on the link's reader thread as they are decoded, and
    Python's cyclic garbage collector is paused during the run (its pauses
    would show as latency spikes; the pipeline allocates nothing per sample).
    A port that vanishes, or samples that stop for ``sample_timeout_s``, end
    the run with ``result.error`` set; the recorder has every row up to then.
    Every ``resync_s`` a short burst of time-sync pings refines the clock
    sync (lost pings are skipped). A device clock drifting more than ``max_drift_ppm``
    from the host's makes sample-to-command latency not measurable.
    With ``realtime`` the process's threads run at raised scheduling priority
    during the run (see :func:`firmware_bridge.realtime.realtime`; what was
    obtained is in ``result.priority``).
    """
    with realtime_priority(realtime) as priority:
        result = _run(link, controller, stimulator, sample_rate_hz, duration_s, watchdog_ms, recorder, sample_timeout_s,
                      resync_s, max_drift_ppm)
    result.priority = priority.description
    return result


def _run(link: FesLink, controller: ControllerConfig, stimulator: StimulatorConfig, sample_rate_hz: int,
         duration_s: float, watchdog_ms: int, recorder: RecordingWriter | None, sample_timeout_s: float,
         resync_s: float, max_drift_ppm: float) -> HostLoopResult:
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
        loop = _Loop(link, pipeline, result, wanted, recorder)
        link.add_listener(loop)
        gc.collect()
        gc.disable()
        link.set_mode(Mode.HOST_LOOP, sample_rate_hz)
        loop.last_rx_s = last_sync_s = clock()
        while not loop.done.wait(0.01):
            if link.failure is not None:
                raise link.failure
            if clock() - loop.last_rx_s > sample_timeout_s:
                raise BridgeError(f"no sample from the device for {sample_timeout_s * 1e3:.0f} ms")
            if clock() - last_sync_s >= resync_s:
                last_sync_s = clock()
                result.clock = result.clock.with_burst(_resync(link))
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
        loop.finish(result.clock, max_drift_ppm)
    else:
        result.host_latency = result.sample_to_command = result.arrival_jitter = Percentiles.of([])
    return result


def _resync(link: FesLink) -> ClockSync:
    """A short time-sync burst during the run; an unanswered burst adds nothing."""
    try:
        return sync_clock(link, pings=4, gap_s=0.001, min_answered=1)
    except LinkTimeout as exc:
        log.info("clock re-sync skipped: %s", exc)
        return ClockSync((), 4)
