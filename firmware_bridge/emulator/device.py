"""The device side of the protocol as a clock-driven state machine (no threads, no I/O).

:class:`DeviceLogic` receives bytes with :meth:`DeviceLogic.receive` and time
with :meth:`DeviceLogic.tick`; every frame it sends goes to ``emit``. The
runner in :mod:`firmware_bridge.emulator.runner` drives it from a real
transport, and tests drive it directly with a fake clock. It implements
docs/protocol.md: the watchdog, limit checks with NAK, duplicate filtering,
ramps, maximum on-time, faults, time sync, HOST_LOOP streaming from a
:class:`~firmware_bridge.emulator.sources.SampleSource`, and DEVICE_LOOP with
the reference :class:`fes_sim.device.DevicePipeline` running "on the device".
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable

from fes_sim.config import resolve
from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.errors import ConfigError, FesError
from fes_sim.samples import ShankSample
from firmware_bridge.emulator.config import EmulatorConfig
from firmware_bridge.emulator.sources import PlantSource, RecordingSource, SampleSource, SyntheticSource
from firmware_bridge.protocol.params import PARAMS, apply_params
from firmware_bridge.protocol import (
    ACKED,
    DEFAULT_MAX_ON_MS,
    LATCHED_FAULTS,
    MAX_SAMPLE_RATE_HZ,
    NO_SAMPLE,
    PROTOCOL_VERSION,
    WATCHDOG_RANGE_MS,
    Ack,
    Capability,
    ClearFaults,
    DeviceEvent,
    EStop,
    Fault,
    FaultReport,
    FrameDecoder,
    GetStatus,
    Heartbeat,
    Hello,
    HelloRequest,
    HostSample,
    Mode,
    Nak,
    NakCode,
    Packet,
    Rejected,
    SetConfig,
    SetEnvelope,
    SetLimits,
    SetMode,
    SetParam,
    Start,
    Status,
    StimState,
    StimStateReport,
    Stop,
    TimePing,
    TimePong,
    definition,
    encode,
)
from firmware_bridge.samples import Unwrapper, fill_shank_sample, to_sensor_sample

log = logging.getLogger(__name__)

CAPABILITIES = Capability.COMMAND | Capability.HOST_LOOP | Capability.DEVICE_LOOP | Capability.TIME_SYNC | Capability.STATUS
FIRMWARE_VERSION = 0x0100
_OUTPUT_ON_FAULTS_CLEARED = Fault.MAX_ON_TIME | Fault.LIMIT


def make_source(config: EmulatorConfig, sample_rate_hz: float) -> SampleSource:
    """The HOST_LOOP sensor source named by ``config.source``, reset with ``config.seed``."""
    source: SampleSource
    if config.source == "plant":
        source = PlantSource(config.walker, sample_rate_hz)
    elif config.source == "recording":
        source = RecordingSource(config.recording, sample_rate_hz)
    else:
        source = SyntheticSource(sample_rate_hz)
    source.reset(config.seed)
    return source


class _Refuse(Exception):
    def __init__(self, code: NakCode, field: str = "") -> None:
        self.code = code
        self.field = field


@dataclass
class Limits:
    """The limits in force (SET_LIMITS), initially the hardware maxima."""

    max_current_ma: float
    max_pulse_width_us: float
    min_frequency_hz: float
    max_frequency_hz: float
    max_charge_uc: float
    max_on_ms: int
    watchdog_ms: int


class DeviceLogic:
    """One emulated stimulator.

    Parameters
    ----------
    config
        Hardware, presets and sensor source.
    emit
        Called with the wire bytes of every frame the device sends.
    on_apply
        Optional observer called as ``on_apply(now_s, message)`` whenever a host
        frame is applied (not for duplicates or refused frames); tests use it to
        prove that no corrupted command was ever applied.
    t0_s
        Time at which the device clock reads 0 (power-up).
    clock
        Optional: the present time, read when a command has been applied (building
        a HOST_LOOP sensor source can take long; its stream starts then).
        Without it, commands take no time.
    """

    def __init__(
        self,
        config: EmulatorConfig,
        emit: Callable[[bytes], None],
        on_apply: Callable[[float, object], None] | None = None,
        t0_s: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.emit = emit
        self.on_apply = on_apply
        self.clock = clock
        hw = resolve("stimulator", config.stimulator)
        assert isinstance(hw, StimulatorConfig)
        self.hardware = hw
        controller = resolve("controller", config.controller)
        assert isinstance(controller, ControllerConfig)
        self.controller_cfg = controller
        self.decoder = FrameDecoder(report_rejects=True)
        self.source: SampleSource | None = None
        self._t0_s = t0_s
        self._seq = 0
        self.pulses = 0
        self.charge_uc = 0.0
        self.rx_frames = 0
        self.applied = 0
        self.session_open = False
        self.faults = Fault(0)
        self._power_on()

    # ------------------------------------------------------------------ state

    def _power_on(self) -> None:
        hw = self.hardware
        self.limits = Limits(hw.max_current_ma, hw.max_pulse_width_us, self.config.min_frequency_hz,
                             hw.max_frequency_hz, hw.max_charge_per_phase_uc,
                             min(DEFAULT_MAX_ON_MS, self.max_on_ms), self.config.watchdog_ms)
        self.stim: SetConfig | None = None
        self.params: dict[int, float] = {}  # SET_PARAM wire values over the controller preset
        self.mode = Mode.COMMAND
        self.sample_rate_hz = self.config.sample_rate_hz
        self.state = StimState.IDLE
        self.envelope = 0.0
        self._ramp: tuple[float, float, float, float] | None = None  # t_start, env_from, env_to, duration_s
        self._stop_at_s = math.inf
        self._on_since_s = math.nan
        self._last_rx_s = math.nan
        self._last_seq: int | None = None
        self._last_cmd: tuple[bytes, bytes] | None = None  # the command's wire bytes, its answer frame
        self._rx_foreign = 0
        self._pulse_phase = 0.0
        self._pulse_t_s = math.nan
        self._ref_index = NO_SAMPLE
        self.pipeline = None
        self._stream_next_s = math.inf
        self._stream_start_s = math.nan
        self._sample_index = 0
        self._unwrap = Unwrapper()
        self._sample = ShankSample(0.0)

    def device_us(self, now_s: float) -> int:
        """Device clock in µs (u32, wrapping), running ``config.clock_drift_ppm`` fast."""
        return round((now_s - self._t0_s) * (1e6 + self.config.clock_drift_ppm)) & 0xFFFFFFFF

    @property
    def output_on(self) -> bool:
        """True while the output envelope is above zero."""
        return self.envelope > 0.0

    @property
    def active(self) -> bool:
        """True in any state but IDLE and FAULT (output on, ramping, or about to start)."""
        return self.state not in (StimState.IDLE, StimState.FAULT)

    def current_ma(self) -> float:
        """The current being delivered now."""
        return self.envelope * self.stim.current_ma if self.stim is not None else 0.0

    # ------------------------------------------------------------------ input

    def receive(self, data: bytes, now_s: float) -> None:
        """Bytes from the host arrived at ``now_s``."""
        for packet in self.decoder.feed(data):
            self.tick(now_s)
            self._frame(packet, now_s)

    @property
    def rx_errors(self) -> int:
        """Frames dropped since HELLO: bad COBS, CRC, length or id, and device-to-host frames."""
        return self.decoder.stats.errors + self._rx_foreign

    def _reject(self, packet: Packet) -> None:
        """A frame with a good CRC that is no host-to-device message: a host-to-device id the table
        lacks or with a wrong payload size gets NAK UNKNOWN_MESSAGE or BAD_LENGTH; a device-to-host
        frame (an echo of our own) is dropped silently, so an echoing line cannot start a NAK storm."""
        msg = packet.message
        if not isinstance(msg, Rejected):
            self._rx_foreign += 1
        elif msg.msg_id < 0x80:
            code = NakCode.UNKNOWN_MESSAGE if msg.unknown_id else NakCode.BAD_LENGTH
            self._send(Nak(packet.seq, msg.msg_id, int(code), 0))

    def _frame(self, packet: Packet, now_s: float) -> None:
        seq, msg = packet.seq, packet.message
        if isinstance(msg, Rejected) or definition(msg).direction != 0:
            self._reject(packet)
            return
        defn = definition(msg)
        self.rx_frames += 1
        self._last_rx_s = now_s
        self._ref_index = NO_SAMPLE
        if Fault.WATCHDOG in self.faults:  # every valid host frame clears it, duplicates included
            self._clear_fault(Fault.WATCHDOG, now_s)
        if isinstance(msg, HelloRequest):
            self._hello(seq, now_s)
            return
        answered = defn.msg_id in ACKED or isinstance(msg, (TimePing, GetStatus))
        if answered and self._last_cmd is not None and self._last_cmd[0] == packet.wire:
            # a retransmission (same seq, id and payload): answer again, apply once
            self.emit(self._last_cmd[1])
            return
        if not answered and seq == self._last_seq:
            return  # duplicate of a streamed frame
        self._last_seq = seq
        try:
            answer = self._apply(msg, seq, now_s)
        except _Refuse as refusal:
            index = next((i + 1 for i, f in enumerate(defn.fields) if f.name == refusal.field), 0)
            answer = Nak(seq, defn.msg_id, int(refusal.code), index)
        else:
            self.applied += 1
            if self.on_apply is not None:
                self.on_apply(now_s, msg)
        if answer is None:
            return
        frame = self._send(answer)
        if answered:
            self._last_cmd = (packet.wire, frame)

    def _hello(self, seq: int, now_s: float) -> None:
        self.stim = None  # the configuration goes first: the reports below already say so
        self._clear_fault(self.faults & ~LATCHED_FAULTS, now_s)  # reported; latched faults stay
        self._output_off(now_s, StimState.FAULT if self.faults else StimState.IDLE)
        latched, state = self.faults, self.state
        self._power_on()
        self.faults, self.state = latched, state
        self.session_open = True
        self._last_rx_s = now_s
        self.decoder.stats.__init__()  # type: ignore[misc]
        self.pulses, self.charge_uc, self.rx_frames = 0, 0.0, 1
        hw = self.hardware
        self._send(Hello(seq, PROTOCOL_VERSION, FIRMWARE_VERSION, self.sample_rate_hz, self.config.device_id,
                         int(CAPABILITIES), hw.max_current_ma, hw.max_pulse_width_us, self.config.min_frequency_hz,
                         hw.max_frequency_hz, hw.max_charge_per_phase_uc, self.max_on_ms, self.limits.watchdog_ms,
                         self.config.channels))

    @property
    def max_on_ms(self) -> int:
        """Hardware maximum of the on-time limit (HELLO.max_on_ms)."""
        return int(self.hardware.max_on_time_s * 1000)

    def _apply(self, msg: object, seq: int, now_s: float) -> object | None:
        """Check and apply one host frame; returns the answer, raises _Refuse for a NAK."""
        for f in definition(msg).fields:
            value = getattr(msg, f.name)
            if f.wire in ("f32", "f64") and not math.isfinite(value) and not isinstance(msg, HostSample):
                raise _Refuse(NakCode.BAD_VALUE, f.name)
        if isinstance(msg, Heartbeat):
            return None
        if isinstance(msg, SetEnvelope):
            self._set_envelope(msg, now_s)
            return None
        if isinstance(msg, HostSample):
            self._host_sample(msg, now_s)
            return None
        if isinstance(msg, TimePing):
            rx = self.device_us(now_s)
            return TimePong(msg.host_time_us, rx, self.device_us(now_s), seq)
        if isinstance(msg, GetStatus):
            return Status(self.device_us(now_s), self.rx_frames, self.rx_errors, self.pulses,
                          self.charge_uc, seq, int(self.faults), int(self.state), int(self.mode))
        handler = {
            SetLimits: self._set_limits, SetConfig: self._set_config, SetParam: self._set_param, SetMode: self._set_mode, Start: self._start,
            Stop: self._stop, EStop: self._estop, ClearFaults: self._clear_faults,
        }.get(type(msg))
        if handler is None:
            raise _Refuse(NakCode.UNSUPPORTED)
        handler(msg, now_s)
        return Ack(seq, definition(msg).msg_id)

    # ------------------------------------------------------------------ commands

    def _set_limits(self, m: SetLimits, now_s: float) -> None:
        hw = self.hardware
        for name, value, top in (  # in field order: the first field out of range decides
            ("max_current_ma", m.max_current_ma, hw.max_current_ma),
            ("max_pulse_width_us", m.max_pulse_width_us, hw.max_pulse_width_us),
            ("min_frequency_hz", m.min_frequency_hz, None),
            ("max_frequency_hz", m.max_frequency_hz, hw.max_frequency_hz),
            ("max_charge_uc", m.max_charge_uc, hw.max_charge_per_phase_uc),
        ):
            if not (value >= self.config.min_frequency_hz if top is None else 0 < value <= top):
                raise _Refuse(NakCode.LIMIT_EXCEEDED, name)
        if m.max_on_ms > self.max_on_ms:
            raise _Refuse(NakCode.LIMIT_EXCEEDED, "max_on_ms")
        if m.min_frequency_hz > m.max_frequency_hz:
            raise _Refuse(NakCode.BAD_VALUE, "min_frequency_hz")
        if m.max_on_ms == 0:
            raise _Refuse(NakCode.BAD_VALUE, "max_on_ms")
        if not WATCHDOG_RANGE_MS[0] <= m.watchdog_ms <= WATCHDOG_RANGE_MS[1]:
            raise _Refuse(NakCode.BAD_VALUE, "watchdog_ms")
        if self.active:
            raise _Refuse(NakCode.BAD_STATE)
        previous = self.limits, self.stim
        self.limits = Limits(m.max_current_ma, m.max_pulse_width_us, m.min_frequency_hz, m.max_frequency_hz,
                             m.max_charge_uc, m.max_on_ms, m.watchdog_ms)
        if not self._config_allowed():
            self.stim = None  # in DEVICE_LOOP the controller stops: HOST_SAMPLE is refused
        if self.mode is Mode.DEVICE_LOOP:
            try:
                self.pipeline = self._make_pipeline(self.sample_rate_hz) if self.stim is not None else None
            except _Refuse:
                self.limits, self.stim = previous
                raise

    def _config_allowed(self) -> bool:
        """True when a configuration is stored and lies within the limits in force."""
        if self.stim is None:
            return False
        try:
            self._check_config(self.stim)
        except _Refuse:
            return False
        return True

    def _check_config(self, m: SetConfig) -> None:
        lim = self.limits
        if not 0 <= m.current_ma <= lim.max_current_ma:
            raise _Refuse(NakCode.LIMIT_EXCEEDED, "current_ma")
        if not 0 < m.pulse_width_us <= lim.max_pulse_width_us:
            raise _Refuse(NakCode.LIMIT_EXCEEDED, "pulse_width_us")
        if not lim.min_frequency_hz <= m.frequency_hz <= lim.max_frequency_hz:
            raise _Refuse(NakCode.LIMIT_EXCEEDED, "frequency_hz")
        if m.current_ma * m.pulse_width_us * 1e-3 > lim.max_charge_uc:
            raise _Refuse(NakCode.LIMIT_EXCEEDED, "current_ma")
        if m.channel >= self.config.channels:
            raise _Refuse(NakCode.BAD_VALUE, "channel")

    def _set_config(self, m: SetConfig, now_s: float) -> None:
        self._check_config(m)
        if self.active:
            raise _Refuse(NakCode.BAD_STATE)
        previous, self.stim = self.stim, m
        if self.mode is Mode.DEVICE_LOOP:
            try:
                self.pipeline = self._make_pipeline(self.sample_rate_hz)
            except _Refuse:
                self.stim = previous
                raise

    def _set_param(self, m: SetParam, now_s: float) -> None:
        pdef = PARAMS.get(m.param_id)
        if pdef is None:
            raise _Refuse(NakCode.BAD_VALUE, "param_id")
        try:
            pdef.check(m.value)
        except ConfigError:
            raise _Refuse(NakCode.BAD_VALUE, "value") from None
        if self.active:
            raise _Refuse(NakCode.BAD_STATE)
        previous = self.params
        self.params = {**previous, m.param_id: m.value}
        if self.mode is Mode.DEVICE_LOOP and self.stim is not None:
            try:
                self.pipeline = self._make_pipeline(self.sample_rate_hz)
            except _Refuse:
                self.params = previous
                raise

    def _check_may_enable_output(self) -> None:
        """Refusals of a command that would switch output on: latched ESTOP first, then no session yet."""
        if Fault.ESTOP in self.faults:
            raise _Refuse(NakCode.ESTOP_LATCHED)
        if not self.session_open:
            raise _Refuse(NakCode.BAD_STATE)

    def _set_mode(self, m: SetMode, now_s: float) -> None:
        if m.mode in (Mode.HOST_LOOP, Mode.DEVICE_LOOP):
            self._check_may_enable_output()
        if m.mode not in Mode._value2member_map_:
            raise _Refuse(NakCode.BAD_VALUE, "mode")
        mode = Mode(m.mode)
        if not 1 <= m.sample_rate_hz <= MAX_SAMPLE_RATE_HZ:
            raise _Refuse(NakCode.UNSUPPORTED, "sample_rate_hz")
        if mode is not Mode.COMMAND and self.stim is None:
            raise _Refuse(NakCode.NOT_CONFIGURED)
        pipeline = self._make_pipeline(m.sample_rate_hz) if mode is Mode.DEVICE_LOOP else None
        source = self._make_source(m.sample_rate_hz) if mode is Mode.HOST_LOOP else None
        self._output_off(now_s, StimState.FAULT if self.faults else StimState.IDLE)
        self.mode, self.sample_rate_hz, self.pipeline, self.source = mode, m.sample_rate_hz, pipeline, source
        self._unwrap.reset()
        self._sample_index = 0
        # the sampling timer starts once SET_MODE is applied: building the source (the walking
        # simulator) can take long, and a stream dated from the frame's arrival would start with a backlog
        start_s = self.clock() if self.clock is not None and mode is Mode.HOST_LOOP else now_s
        self._stream_start_s = start_s
        self._stream_next_s = start_s + 1.0 / m.sample_rate_hz if mode is Mode.HOST_LOOP else math.inf

    def _make_pipeline(self, sample_rate_hz: int):  # type: ignore[no-untyped-def]
        """The reference pipeline with the host's SET_CONFIG and the limits in force."""
        from fes_sim.device import DevicePipeline

        assert self.stim is not None
        s, lim = self.stim, self.limits
        try:
            ctrl = apply_params(self.controller_cfg, self.params)
            stimulation = ctrl.stimulation.replace(
                current_ma=s.current_ma, pulse_width_us=s.pulse_width_us, frequency_hz=s.frequency_hz,
                ramp_up_ms=float(s.ramp_up_ms), ramp_down_ms=float(s.ramp_down_ms), extension_ms=float(s.extension_ms),
                max_on_time_s=min(ctrl.stimulation.max_on_time_s, lim.max_on_ms * 1e-3),
            )
            stimulator = self.hardware.replace(
                max_current_ma=lim.max_current_ma, max_pulse_width_us=lim.max_pulse_width_us,
                max_frequency_hz=lim.max_frequency_hz, max_charge_per_phase_uc=lim.max_charge_uc,
                max_on_time_s=lim.max_on_ms * 1e-3,
            )
            return DevicePipeline(ctrl.replace(stimulation=stimulation), stimulator, float(sample_rate_hz))
        except FesError as exc:
            log.info("DEVICE_LOOP refused: %s", exc)
            raise _Refuse(NakCode.LIMIT_EXCEEDED) from None

    def _make_source(self, sample_rate_hz: int) -> SampleSource:
        try:
            source = make_source(self.config, sample_rate_hz)
        except (FesError, ImportError) as exc:
            log.error("HOST_LOOP refused: sensor source %r unavailable: %s", self.config.source, exc)
            raise _Refuse(NakCode.UNSUPPORTED) from None
        return source

    def _start(self, m: Start, now_s: float) -> None:
        self._check_may_enable_output()
        if self.stim is None:
            raise _Refuse(NakCode.NOT_CONFIGURED)
        if self.mode is not Mode.COMMAND:
            raise _Refuse(NakCode.BAD_STATE)
        if m.duration_ms > self.limits.max_on_ms:
            raise _Refuse(NakCode.LIMIT_EXCEEDED, "duration_ms")
        if m.channel >= self.config.channels:
            raise _Refuse(NakCode.BAD_VALUE, "channel")
        self._clear_fault(_OUTPUT_ON_FAULTS_CLEARED & self.faults, now_s)
        self._stop_at_s = now_s + m.duration_ms * 1e-3 if m.duration_ms else math.inf
        self._ref_index = NO_SAMPLE
        self._ramp_to(1.0, m.ramp_up_ms * 1e-3, now_s, StimState.RAMP_UP, StimState.ON)

    def _stop(self, m: Stop, now_s: float) -> None:
        if m.channel >= self.config.channels:
            raise _Refuse(NakCode.BAD_VALUE, "channel")
        self._stop_at_s = math.inf
        if self.mode is Mode.DEVICE_LOOP:
            self._output_off(now_s, StimState.FAULT if self.faults else StimState.IDLE)
            if self.pipeline is not None:
                self.pipeline.reset()
        elif self.active:
            self._ramp_to(0.0, m.ramp_down_ms * 1e-3, now_s, StimState.RAMP_DOWN, StimState.IDLE)

    def _estop(self, m: EStop, now_s: float) -> None:
        self._raise_fault(Fault.ESTOP, now_s)

    def _clear_faults(self, m: ClearFaults, now_s: float) -> None:
        self._clear_fault(Fault(m.mask & 0xFFFF) & self.faults, now_s)

    def _set_envelope(self, m: SetEnvelope, now_s: float) -> None:
        if m.envelope > 0:
            self._check_may_enable_output()
        if not 0.0 <= m.envelope <= 1.0:
            raise _Refuse(NakCode.BAD_VALUE, "envelope")
        if self.stim is None:
            raise _Refuse(NakCode.NOT_CONFIGURED)
        if self.mode is Mode.DEVICE_LOOP:
            raise _Refuse(NakCode.BAD_STATE)
        if m.envelope > 0:
            self._clear_fault(_OUTPUT_ON_FAULTS_CLEARED & self.faults, now_s)
        if self.faults:
            return  # output stays off while a fault is active
        self._ramp = None
        self._stop_at_s = math.inf
        self._ref_index = m.ref_index
        self._set_output(m.envelope, StimState.ON if m.envelope > 0 else StimState.IDLE, now_s)

    def _host_sample(self, m: HostSample, now_s: float) -> None:
        if self.mode is not Mode.DEVICE_LOOP:
            raise _Refuse(NakCode.BAD_STATE)
        if self.stim is None or self.pipeline is None:
            raise _Refuse(NakCode.NOT_CONFIGURED)
        if self.faults:
            return  # output stays off; the controller restarts once the faults clear (reset when raised)
        sample = fill_shank_sample(m, self._unwrap(m.t_us), self._sample)
        out = self.pipeline.update(sample)
        self._ref_index = m.sample_index
        if out.event:
            self._send(DeviceEvent(self.device_us(now_s), m.sample_index, out.tilt_est_deg, int(out.event)))
        self.pulses += out.pulses
        self.charge_uc += out.charge_uc
        envelope = min(max(out.envelope, 0.0), 1.0)
        self._set_output(envelope, StimState[out.state.upper()], now_s, count_pulses=False)

    # ------------------------------------------------------------------ output

    def _ramp_to(self, target: float, duration_s: float, now_s: float, moving: StimState, done: StimState) -> None:
        if duration_s <= 0:
            self._ramp = None
            self._set_output(target, done, now_s)
        else:
            self._ramp = (now_s, self.envelope, target, duration_s)
            self._set_output(self.envelope, moving, now_s)

    def _set_output(self, envelope: float, state: StimState, now_s: float, count_pulses: bool = True) -> None:
        if envelope > 0 and not self._config_allowed():
            # last line of defence: the checks never let this through; off with fault LIMIT instead
            self._raise_fault(Fault.LIMIT, now_s)
            return
        if count_pulses:
            self._count_pulses(now_s)
        was_on = self.output_on
        self.envelope = envelope
        if self.output_on and not was_on:
            self._on_since_s = now_s
            self._pulse_t_s = now_s
            self._pulse_phase = 1.0  # the first pulse is delivered at onset
        elif not self.output_on:
            self._on_since_s = math.nan
        if state != self.state:
            prev, self.state = self.state, state
            s = self.stim
            self._send(StimStateReport(
                self.device_us(now_s), self._ref_index, self.pulses & 0xFFFFFFFF, self.charge_uc, self.envelope,
                self.current_ma(), s.pulse_width_us if s else 0.0, s.frequency_hz if s else 0.0, int(state), int(prev), 0,
            ))

    def _count_pulses(self, now_s: float) -> None:
        """Pulses delivered since the last count, at the configured rate (first pulse at onset)."""
        if not self.output_on or self.stim is None or self.mode is Mode.DEVICE_LOOP:
            return
        self._pulse_phase += (now_s - self._pulse_t_s) * self.stim.frequency_hz
        self._pulse_t_s = now_s
        n = int(self._pulse_phase)
        if n:
            self._pulse_phase -= n
            self.pulses += n
            self.charge_uc += n * self.current_ma() * self.stim.pulse_width_us * 1e-3

    def _output_off(self, now_s: float, state: StimState) -> None:
        self._count_pulses(now_s)
        self._ramp = None
        self._stop_at_s = math.inf
        self._pulse_phase = 0.0
        self._set_output(0.0, state, now_s, count_pulses=False)

    def _raise_fault(self, flag: Fault, now_s: float) -> None:
        self._output_off(now_s, StimState.FAULT)  # output off before the report
        if flag in self.faults:
            return
        self.faults |= flag
        self._send(FaultReport(self.device_us(now_s), int(self.faults), int(flag), 1))
        if self.pipeline is not None:
            self.pipeline.reset()

    def _clear_fault(self, flags: Fault, now_s: float) -> None:
        for flag in Fault:
            if flag in flags and flag in self.faults:
                self.faults &= ~flag
                self._send(FaultReport(self.device_us(now_s), int(self.faults), int(flag), 0))
        if not self.faults and self.state is StimState.FAULT:
            self._set_output(0.0, StimState.IDLE, now_s)

    # ------------------------------------------------------------------ time

    def tick(self, now_s: float) -> None:
        """Advance ramps, duration, on-time, watchdog and the sample stream to ``now_s``."""
        self._ref_index = NO_SAMPLE  # transitions of the clock are caused by no sample
        if self.session_open and now_s - self._last_rx_s >= self.limits.watchdog_ms * 1e-3 and Fault.WATCHDOG not in self.faults:
            self._raise_fault(Fault.WATCHDOG, now_s)
        if self.output_on and now_s - self._on_since_s > self.limits.max_on_ms * 1e-3:
            self._raise_fault(Fault.MAX_ON_TIME, now_s)
        if now_s >= self._stop_at_s:
            self._stop_at_s = math.inf
            ramp = self.stim.ramp_down_ms * 1e-3 if self.stim else 0.0
            self._ramp_to(0.0, ramp, now_s, StimState.RAMP_DOWN, StimState.IDLE)
        if self._ramp is not None:
            t_start, env_from, env_to, duration = self._ramp
            frac = (now_s - t_start) / duration
            if frac >= 1.0:
                self._ramp = None
                self._set_output(env_to, StimState.ON if env_to > 0 else StimState.IDLE, now_s)
            else:
                self._set_output(env_from + (env_to - env_from) * frac, self.state, now_s)
        else:
            self._count_pulses(now_s)
        while now_s >= self._stream_next_s and self.source is not None:
            self._stream_sample(self._stream_next_s)
            self._stream_next_s = self._stream_start_s + (self._sample_index + 1) / self.sample_rate_hz

    def _stream_sample(self, sampled_s: float) -> None:
        """Send the sample taken at its scheduled instant ``sampled_s``: like a sampling timer's
        time stamp, it stays on the sample grid when the device is late to send it."""
        s = self.stim
        assert self.source is not None
        sample = self.source.step(self.current_ma(), s.pulse_width_us if s else 0.0, s.frequency_hz if s else 0.0)
        self._send(to_sensor_sample(self._sample_index, self.device_us(sampled_s), sample))
        self._sample_index += 1

    def next_deadline(self, now_s: float) -> float:
        """The latest time the next :meth:`tick` may happen without missing anything."""
        times = [self._stream_next_s, self._stop_at_s]
        if self.session_open and Fault.WATCHDOG not in self.faults:
            times.append(self._last_rx_s + self.limits.watchdog_ms * 1e-3)
        if self.output_on:
            times.append(self._on_since_s + self.limits.max_on_ms * 1e-3 + 1e-4)
        if self._ramp is not None:
            times.append(min(now_s + 1e-3, self._ramp[0] + self._ramp[3]))
        return min(times)

    # ------------------------------------------------------------------ output frames

    def _send(self, msg: object) -> bytes:
        self._seq = (self._seq + 1) & 0xFFFF
        frame = encode(msg, self._seq)
        self.emit(frame)
        return frame
