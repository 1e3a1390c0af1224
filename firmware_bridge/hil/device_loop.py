"""Device in the loop: stream samples to the device and check its stimulation against the host's reference.

The host streams HOST_SAMPLE frames at the sample rate, paced by the wall
clock, and runs :class:`fes_sim.device.DevicePipeline` on exactly the values
the device receives (binary32, as on the wire). The device reports its state
transitions (STIM_STATE, with the index of the sample that caused them). An
*onset* is a transition into an output state (ramp_up, on, extension,
ramp_down) from a silent one (idle, delay, fault); an *offset* the reverse.
Each reference onset and offset must be matched by the device's within the
tolerance, and the device must have no extra ones.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.samples import ShankSample
from firmware_bridge.emulator.sources import SampleSource
from firmware_bridge.errors import BridgeError
from firmware_bridge.hil.junit import Check
from firmware_bridge.hil.setup import prepare_device, wire_controller
from firmware_bridge.hil.timing import sleep_until
from firmware_bridge.link.fes_link import FesLink
from firmware_bridge.protocol import NO_SAMPLE, DeviceEvent, Mode, Nak, NakCode, StimState, StimStateReport
from firmware_bridge.samples import Unwrapper, as_received, fill_shank_sample, to_host_sample

log = logging.getLogger(__name__)

OUTPUT_STATES = frozenset({StimState.RAMP_UP, StimState.ON, StimState.EXTENSION, StimState.RAMP_DOWN})
_SETTLE_S = 0.3


@dataclass
class BurstRow:
    """One reference stimulation burst and the device's matching one (sample indices)."""

    index: int
    ref_on: int
    ref_off: int | None
    dev_on: int | None = None
    dev_off: int | None = None
    onset_ms: float = math.nan
    offset_ms: float = math.nan
    passed: bool = False

    def values(self, rate_hz: float) -> tuple[object, ...]:
        """Cells for the per-stride table (times in s, differences in ms)."""
        def t(i: int | None) -> float:
            return math.nan if i is None else i / rate_hz
        return (self.index, t(self.ref_on), t(self.dev_on), self.onset_ms, t(self.ref_off), t(self.dev_off),
                self.offset_ms, self.passed)


BURST_HEADERS = ("burst", "ref_on_s", "dev_on_s", "d_on_ms", "ref_off_s", "dev_off_s", "d_off_ms", "pass")


@dataclass
class DeviceLoopResult:
    """What a device-in-the-loop run found."""

    sample_rate_hz: float
    tolerance_ms: float
    samples_sent: int = 0
    bursts: list[BurstRow] = field(default_factory=list)
    extra_device_onsets: list[int] = field(default_factory=list)
    extra_device_offsets: list[int] = field(default_factory=list)
    ref_events: int = 0
    device_events: int = 0
    naks: list[str] = field(default_factory=list)
    max_lag_s: float = 0.0
    error: BridgeError | None = None
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every check passes."""
        return all(c.passed for c in self.checks())

    def checks(self) -> list[Check]:
        """One check per burst, plus link, extra transitions and NAKs."""
        out = [Check("link", self.error is None, str(self.error or f"{self.samples_sent} samples sent"), self.duration_s),
               Check("no_nak", not self.naks, "; ".join(self.naks[:5])),
               Check("reference_has_bursts", bool(self.bursts), f"{len(self.bursts)} reference bursts")]
        for b in self.bursts:
            out.append(Check(f"burst_{b.index:03d}", b.passed,
                             f"onset {b.onset_ms:+.1f} ms, offset {b.offset_ms:+.1f} ms (tolerance {self.tolerance_ms:g} ms)"))
        extra = len(self.extra_device_onsets) + len(self.extra_device_offsets)
        out.append(Check("no_extra_device_bursts", extra == 0,
                         f"device onsets at samples {self.extra_device_onsets[:5]}, offsets at {self.extra_device_offsets[:5]}"))
        return out


def _edges(states: list[tuple[int, StimState]]) -> tuple[list[int], list[int]]:
    """Onset and offset sample indices from ``(index, new_state)`` transitions in order."""
    on, off, active = [], [], False
    for index, state in states:
        now = state in OUTPUT_STATES
        if now and not active:
            on.append(index)
        elif active and not now:
            off.append(index)
        active = now
    return on, off


def compare(ref: list[tuple[int, StimState]], dev: list[tuple[int, StimState]], rate_hz: float,
            tolerance_ms: float) -> tuple[list[BurstRow], list[int], list[int]]:
    """Match device onsets/offsets to the reference's; returns rows and the unmatched device edges."""
    ref_on, ref_off = _edges(ref)
    dev_on, dev_off = _edges(dev)
    tol = tolerance_ms * 1e-3 * rate_hz  # in samples
    free_on, free_off = list(dev_on), list(dev_off)

    def take(pool: list[int], target: int) -> int | None:
        best = min(pool, key=lambda i: abs(i - target), default=None)
        if best is None or abs(best - target) > tol:
            return None
        pool.remove(best)
        return best

    rows = []
    for k, on in enumerate(ref_on):
        off = ref_off[k] if k < len(ref_off) else None
        row = BurstRow(k + 1, on, off, take(free_on, on))
        if off is not None:
            row.dev_off = take(free_off, off)
        if row.dev_on is not None:
            row.onset_ms = (row.dev_on - on) / rate_hz * 1e3
        if row.dev_off is not None and off is not None:
            row.offset_ms = (row.dev_off - off) / rate_hz * 1e3
        row.passed = row.dev_on is not None and (off is None or row.dev_off is not None)
        rows.append(row)
    return rows, free_on, free_off


def run_device_loop(
    link: FesLink,
    controller: ControllerConfig,
    stimulator: StimulatorConfig,
    source: SampleSource,
    sample_rate_hz: int,
    duration_s: float,
    *,
    tolerance_ms: float,
    watchdog_ms: int = 250,
    realtime: bool = True,
) -> DeviceLoopResult:
    """Stream ``duration_s`` of ``source`` to the device and compare; never raises for link failures.

    ``source`` is stepped with the reference model's output, so a simulated
    walker is closed-loop with the reference (device and reference see the
    same samples).
    """
    result = DeviceLoopResult(float(sample_rate_hz), tolerance_ms)
    controller = wire_controller(controller)
    ref = DevicePipeline(controller, stimulator, float(sample_rate_hz))
    st = controller.stimulation
    ref_states: list[tuple[int, StimState]] = []
    dev_states: list[tuple[int, StimState]] = []
    unwrap = Unwrapper()
    wire_sample = ShankSample(0.0)
    n = int(round(duration_s * sample_rate_hz))
    clock = link.clock
    t_begin = clock()
    current = 0.0
    last_ref_state = StimState.IDLE

    def drain(timeout_s: float = 0.0) -> None:
        while True:
            item = link.recv(timeout_s)
            if item is None:
                return
            msg = item.message
            if isinstance(msg, StimStateReport):
                # a transition not caused by a sample (a fault, STOP) is placed at the last sample sent
                index = msg.ref_index if msg.ref_index != NO_SAMPLE else result.samples_sent - 1
                if index >= 0:
                    dev_states.append((index, StimState(msg.state)))
            elif isinstance(msg, DeviceEvent):
                result.device_events += 1
            elif isinstance(msg, Nak):
                result.naks.append(f"{NakCode(msg.code).name} for msg 0x{msg.msg_id:02X}")

    try:
        prepare_device(link, controller, stimulator, watchdog_ms)
        link.set_mode(Mode.DEVICE_LOOP, sample_rate_hz)
        drain()
        t0 = clock()
        for k in range(n):
            sample = source.step(current, st.pulse_width_us, st.frequency_hz)
            if realtime:
                due = t0 + k / sample_rate_hz
                sleep_until(due, clock)
                result.max_lag_s = max(result.max_lag_s, clock() - due)
            # the reference runs on the values the device decodes (binary32 on the wire)
            msg = as_received(to_host_sample(k, int(round(sample.t_s * 1e6)), sample))
            link.send(msg)
            result.samples_sent += 1
            out = ref.update(fill_shank_sample(msg, unwrap(msg.t_us), wire_sample))
            state = StimState[out.state.upper()]
            if state != last_ref_state:
                ref_states.append((k, state))
                last_ref_state = state
            if out.event:
                result.ref_events += 1
            current = out.current_ma
            drain()
        time.sleep(_SETTLE_S)
        drain()
    except BridgeError as exc:
        result.error = exc
        log.error("device-in-the-loop run ended: %s", exc)
    finally:
        if result.error is None:
            try:
                link.stop()
            except BridgeError as exc:
                result.error = exc
    result.duration_s = clock() - t_begin
    result.bursts, result.extra_device_onsets, result.extra_device_offsets = compare(
        ref_states, dev_states, float(sample_rate_hz), tolerance_ms)
    return result
