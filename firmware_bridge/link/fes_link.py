"""Our own protocol (docs/protocol.md) over any pyserial port: the ``fes`` link backend.

A reader thread decodes every byte the device sends. Answers to requests are
matched to the waiting caller by ``req_seq``; everything the device sends on
its own (samples, state reports, events, faults, NAKs of streamed frames) goes
to a queue read with :meth:`FesLink.recv`. A heartbeat thread keeps the
device's watchdog fed whenever nothing else was sent for one heartbeat period.
Any port failure is turned into :class:`~firmware_bridge.errors.PortVanished`,
delivered to every waiting caller at once, so nothing hangs.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import serial

from firmware_bridge import urlhandler
from firmware_bridge.errors import BridgeError, DeviceRefused, LinkClosed, LinkTimeout, PortVanished
from firmware_bridge.framelog import FrameLog
from firmware_bridge.link.base import DeviceInfo, Link
from firmware_bridge.protocol import (
    DEFAULT_HEARTBEAT_MS,
    NO_SAMPLE,
    PROTOCOL_VERSION,
    Ack,
    ClearFaults,
    DecoderStats,
    EStop,
    FrameDecoder,
    GetStatus,
    Heartbeat,
    Hello,
    HelloRequest,
    Mode,
    Nak,
    NakCode,
    SetConfig,
    SetParam,
    SetEnvelope,
    SetLimits,
    SetMode,
    Start,
    Status,
    Stop,
    TimePing,
    TimePong,
    definition,
    encode,
)
from firmware_bridge.protocol.params import controller_params
from firmware_bridge.samples import to_host_sample
from fes_sim.control.config import ControllerConfig
from fes_sim.samples import ShankSample

log = logging.getLogger(__name__)

_ANSWERS = (Hello, Ack, Nak, TimePong, Status)
_READ_TIMEOUT_S = 0.02


class Received(NamedTuple):
    """A device-initiated frame and the host clock when its bytes were read."""

    host_t_s: float
    seq: int
    message: object


@dataclass
class LinkStats:
    """Counters of one link."""

    tx_frames: int = 0
    rx_frames: int = 0
    retries: int = 0
    naks: int = 0
    late_answers: int = 0
    lost_rx_frames: int = 0
    queue_overflows: int = 0
    stale_frames: int = 0
    """device-initiated frames discarded because they came before the HELLO that opened the session"""
    decoder: DecoderStats = field(default_factory=DecoderStats)


@dataclass(frozen=True)
class ClockSample:
    """One TIME_PING/TIME_PONG exchange (section 8 of docs/protocol.md)."""

    host_t_s: float
    round_trip_s: float
    offset_s: float
    """device clock − host clock, valid modulo the device's 2³² µs wrap."""
    device_rx_us: int
    """device clock when it decoded the ping."""


class _Pending:
    __slots__ = ("expect", "event", "answer", "t_s")

    def __init__(self, expect: type) -> None:
        self.expect = expect
        self.event = threading.Event()
        self.answer: object = None
        self.t_s = math.nan


class FesLink(Link):
    """A session with a device speaking our protocol.

    Parameters
    ----------
    port
        An open pyserial port (anything ``serial.serial_for_url`` returns).
    request_timeout_s, retries
        Each request waits this long for its answer and is sent at most
        ``retries + 1`` times (same ``seq``, so the device applies it once).
    hello_timeout_s
        HELLO_REQUEST is repeated for this long before the device counts as silent.
    heartbeat_ms
        Heartbeat period; 0 disables the heartbeat thread.
    frame_log
        Optional :class:`FrameLog` receiving every frame in both directions.
    queue_size
        Device-initiated frames kept for :meth:`recv`; older ones are dropped
        (and counted) when the caller falls behind.
    clock
        Host clock in seconds (monotonic).
    """

    backend_name = "fes"

    def __init__(
        self,
        port: serial.SerialBase,
        *,
        request_timeout_s: float = 0.1,
        retries: int = 3,
        hello_timeout_s: float = 2.0,
        heartbeat_ms: float = DEFAULT_HEARTBEAT_MS,
        frame_log: FrameLog | None = None,
        queue_size: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.port = port
        self.request_timeout_s = request_timeout_s
        self.retries = retries
        self.hello_timeout_s = hello_timeout_s
        self.heartbeat_s = heartbeat_ms * 1e-3
        self.frame_log = frame_log
        self.clock = clock
        self.stats = LinkStats()
        self._decoder = FrameDecoder()
        self.stats.decoder = self._decoder.stats
        self._queue: queue.Queue[Received | None] = queue.Queue(maxsize=queue_size)
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self._tx_lock = threading.Lock()
        self._seq = 0
        self._last_tx_s = -math.inf
        self._last_rx_seq: int | None = None
        self._failure: BridgeError | None = None
        self._device: DeviceInfo | None = None
        self._stop = threading.Event()
        self._heartbeats = 0
        self._before_hello = False  # device-initiated frames belong to an earlier session until HELLO arrives
        self._listeners: list[Callable[[Received], bool]] = []
        self._reader = threading.Thread(target=self._read_loop, name=f"fes-reader {port.name}", daemon=True)
        self._heart = threading.Thread(target=self._heartbeat_loop, name=f"fes-heartbeat {port.name}", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        port: str,
        *,
        baudrate: int = 1_000_000,
        frame_log: str | FrameLog | None = None,
        handshake: bool = True,
        **options: Any,
    ) -> "FesLink":
        """Open ``port`` (any pyserial name or URL, or ``fesemu://``) and say HELLO.

        Raises
        ------
        PortVanished
            If the port cannot be opened.
        LinkTimeout
            If the device does not answer HELLO.
        """
        urlhandler.register()
        try:
            ser = serial.serial_for_url(port, baudrate=baudrate, timeout=_READ_TIMEOUT_S, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortVanished(f"cannot open {port}: {exc}") from None
        flog = frame_log if frame_log is None or isinstance(frame_log, FrameLog) else FrameLog(frame_log)
        link = cls(ser, frame_log=flog, **options)
        if handshake:
            try:
                link.hello()
            except BaseException:
                link.close()
                raise
        return link

    # ------------------------------------------------------------------ session

    @property
    def device(self) -> DeviceInfo:
        if self._device is None:
            raise BridgeError("no HELLO received yet; call hello() first")
        return self._device

    def hello(self) -> DeviceInfo:
        """Open the session: HELLO_REQUEST → HELLO; starts the heartbeat thread.

        Device-initiated frames that come before the HELLO (a watchdog fault or
        state report of an earlier session, still buffered in the port or the
        device) are discarded and counted in ``stats.stale_frames``: after
        hello(), :meth:`recv` and the listeners see only frames of this session.
        """
        self._before_hello = True  # the reader drops device-initiated frames until the HELLO answer
        self._drop_queued()
        try:
            self._write_bytes(b"\x00")  # lets the device's decoder resynchronise
            # a device may still be booting or enumerating, and some ports (QEMU's pty) drop
            # the first bytes after opening: keep asking for up to hello_timeout_s
            retries = max(self.retries, int(math.ceil(self.hello_timeout_s / self.request_timeout_s)) - 1)
            ans: Hello = self.request(HelloRequest(PROTOCOL_VERSION), retries=retries)  # type: ignore[assignment]
        finally:
            self._before_hello = False
        if ans.protocol_version != PROTOCOL_VERSION:
            raise BridgeError(f"device speaks protocol version {ans.protocol_version}, host speaks {PROTOCOL_VERSION}")
        self._device = DeviceInfo(
            ans.protocol_version, ans.firmware_version, ans.device_id, ans.capabilities, ans.channels,
            ans.sample_rate_hz, ans.max_current_ma, ans.max_pulse_width_us, ans.min_frequency_hz,
            ans.max_frequency_hz, ans.max_charge_uc, ans.max_on_ms, ans.watchdog_ms,
        )
        if self.heartbeat_s > 0 and not self._heart.is_alive():
            self._heart.start()
        return self._device

    def set_limits(
        self, *, max_current_ma: float, max_pulse_width_us: float, min_frequency_hz: float,
        max_frequency_hz: float, max_charge_uc: float, max_on_ms: int, watchdog_ms: int,
    ) -> None:
        """SET_LIMITS; DeviceRefused when the device refuses them."""
        self.request(SetLimits(max_current_ma, max_pulse_width_us, min_frequency_hz, max_frequency_hz,
                               max_charge_uc, max_on_ms, watchdog_ms))

    def configure(
        self, *, current_ma: float, pulse_width_us: float, frequency_hz: float,
        ramp_up_ms: int = 0, ramp_down_ms: int = 0, extension_ms: int = 0, channel: int = 0,
    ) -> None:
        """SET_CONFIG: stimulation parameters for START, SET_ENVELOPE and the device's controller."""
        self.request(SetConfig(current_ma, pulse_width_us, frequency_hz, int(ramp_up_ms), int(ramp_down_ms),
                               int(extension_ms), channel))

    def set_param(self, param_id: int, value: float) -> None:
        """SET_PARAM: one setting of the device's own controller (``firmware_bridge.protocol.params``)."""
        self.request(SetParam(float(value), int(param_id)))

    def configure_controller(self, controller: ControllerConfig) -> None:
        """Send every SET_PARAM setting of ``controller`` (detector, thresholds, estimator, faults, timing).

        With :meth:`configure` for the output, the device's controller then runs
        exactly ``controller`` in DEVICE_LOOP mode. A device that does not run a
        setting's value (another detector, exercise mode) refuses it with
        :class:`~firmware_bridge.errors.DeviceRefused`.
        """
        for param_id, value in controller_params(controller):
            self.set_param(param_id, value)

    def set_mode(self, mode: Mode, sample_rate_hz: int) -> None:
        """SET_MODE (output off first, controller reset)."""
        self.request(SetMode(int(sample_rate_hz), int(mode)))

    def start(self, *, duration_ms: int = 0, ramp_up_ms: int = 0, channel: int = 0) -> None:
        """START stimulation at the configured parameters."""
        self.request(Start(int(duration_ms), int(ramp_up_ms), channel))

    def stop(self, *, ramp_down_ms: int = 0, channel: int = 0) -> None:
        """STOP stimulation (in DEVICE_LOOP: output off at once and the device's controller reset)."""
        self.request(Stop(int(ramp_down_ms), channel))

    def estop(self, reason: int = 0) -> None:
        """Emergency stop; latched until :meth:`clear_faults`."""
        self.request(EStop(reason))

    def clear_faults(self, mask: int) -> None:
        """CLEAR_FAULTS for the given latched fault flags."""
        self.request(ClearFaults(mask))

    def status(self) -> Status:
        """GET_STATUS → STATUS."""
        return self.request(GetStatus())  # type: ignore[return-value]

    def set_envelope(self, envelope: float, ref_index: int = NO_SAMPLE) -> int:
        """Send SET_ENVELOPE (not acknowledged); returns its seq."""
        return self.send(SetEnvelope(ref_index, envelope))

    def send_sample(self, index: int, t_us: int, sample: ShankSample) -> int:
        """Send HOST_SAMPLE for DEVICE_LOOP mode (not acknowledged); returns its seq."""
        return self.send(to_host_sample(index, t_us, sample))

    def ping(self) -> ClockSample:
        """One time-sync exchange."""
        self._check_open()
        pong, t3 = self._request(TimePing(int(self.clock() * 1e6)), None, 0)
        assert isinstance(pong, TimePong)
        t0_s = pong.host_time_us * 1e-6
        rx, tx = pong.device_rx_us * 1e-6, pong.device_tx_us * 1e-6
        return ClockSample(t3, (t3 - t0_s) - (tx - rx), ((rx - t0_s) + (tx - t3)) / 2, pong.device_rx_us)

    # ------------------------------------------------------------------ traffic

    def send(self, msg: object) -> int:
        """Send a streamed (unacknowledged) message; returns its seq."""
        self._check_open()
        with self._tx_lock:
            seq = self._next_seq()
            self._write_frame(seq, msg)
        return seq

    def request(self, msg: object, timeout_s: float | None = None, retries: int | None = None) -> object:
        """Send a command and wait for its answer, retrying with the same seq.

        Raises
        ------
        DeviceRefused
            The device answered NAK (nothing was applied).
        LinkTimeout
            No answer after all attempts.
        PortVanished
            The port failed meanwhile.
        """
        self._check_open()
        return self._request(msg, timeout_s, retries)[0]

    def _request(self, msg: object, timeout_s: float | None, retries: int | None) -> tuple[object, float]:
        """:meth:`request` without the open check; also returns the host time of the answer."""
        defn = definition(msg)
        expect = {"HELLO": Hello, "TIME_PONG": TimePong, "STATUS": Status, "ACK": Ack}.get(defn.reply)
        if expect is None:
            raise BridgeError(f"{defn.name} is not answered; use send()")
        timeout_s = self.request_timeout_s if timeout_s is None else timeout_s
        attempts = 1 + (self.retries if retries is None else retries)
        pending = _Pending(expect)
        with self._tx_lock:
            seq = self._next_seq()
            with self._pending_lock:
                self._pending[seq] = pending
            wire = self._write_frame(seq, msg)
        try:
            for attempt in range(attempts):
                if attempt:
                    self.stats.retries += 1
                    log.debug("retrying %s seq %d (attempt %d)", defn.name, seq, attempt + 1)
                    with self._tx_lock:
                        self._write_bytes(wire, seq, msg)
                if pending.event.wait(timeout_s):
                    break
                self._check_failure()
            else:
                self._check_failure()
                raise LinkTimeout(f"no answer to {defn.name} after {attempts} attempts of {timeout_s * 1e3:.0f} ms")
        finally:
            with self._pending_lock:
                self._pending.pop(seq, None)
        self._check_failure()
        answer = pending.answer
        if isinstance(answer, Nak):
            code = NakCode(answer.code).name if answer.code in NakCode._value2member_map_ else str(answer.code)
            field_name = defn.fields[answer.detail - 1].name if 0 < answer.detail <= len(defn.fields) else ""
            raise DeviceRefused(f"device refused {defn.name}: {code}" + (f" ({field_name})" if field_name else ""),
                                answer.code, answer.detail)
        return answer, pending.t_s

    def recv(self, timeout_s: float | None = None) -> Received | None:
        """The next device-initiated frame, or None after ``timeout_s``; PortVanished if the port failed."""
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            self._check_failure()
            return None
        if item is None:
            self._queue.put(None)  # keep the sentinel for other readers
            self._check_failure()
            raise LinkClosed("link closed")
        return item

    def add_listener(self, listener: Callable[[Received], bool]) -> None:
        """Call ``listener`` on the reader thread for every device-initiated frame, as soon as it is decoded.

        This is the low-latency path (no thread hand-off). A listener returns
        True when it consumed the frame, which then does not go to :meth:`recv`.
        It must be quick and must not call :meth:`request` (that would wait for
        the thread it runs on); :meth:`send` is fine.
        """
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Received], bool]) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    @property
    def failure(self) -> BridgeError | None:
        """The error that ended the link (e.g. PortVanished), or None."""
        return self._failure

    # ------------------------------------------------------------------ internals

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def _drop_queued(self) -> None:
        """Discard the frames waiting for :meth:`recv` (not the end-of-link sentinel)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._queue.put(None)
                return
            self.stats.stale_frames += 1

    def _check_open(self) -> None:
        self._check_failure()
        if self._closed:
            raise LinkClosed("link is closed")

    def _check_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _write_frame(self, seq: int, msg: object) -> bytes:
        wire = encode(msg, seq)
        self._write_bytes(wire, seq, msg)
        return wire

    def _write_bytes(self, data: bytes, seq: int = -1, msg: object = None) -> None:
        """Write under ``_tx_lock`` (or before threads share the port)."""
        try:
            self.port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._fail(PortVanished(f"{self.port.name}: port vanished while writing ({exc})"))
            raise self._failure from None  # type: ignore[misc]
        now = self.clock()
        self._last_tx_s = now
        if msg is not None:
            self.stats.tx_frames += 1
            if self.frame_log is not None:
                self.frame_log.frame(now, "tx", seq, msg, data[:-1])

    def _read_loop(self) -> None:
        errors_before = self._decoder.stats.as_dict()
        while not self._stop.is_set():
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._stop.is_set():
                    self._fail(PortVanished(f"{self.port.name}: port vanished ({exc})"))
                return
            if not data:
                continue
            now = self.clock()
            for packet in self._decoder.feed(data):
                self._dispatch(now, packet.seq, packet.message, packet.wire)
            if self.frame_log is not None and self._decoder.stats.errors:
                errors_now = self._decoder.stats.as_dict()
                for name, count in errors_now.items():
                    if name.endswith(("errors", "ids", "oversize")) and name != "errors" and count > errors_before[name]:
                        self.frame_log.error(now, name, count - errors_before[name])
                errors_before = errors_now

    def _dispatch(self, now: float, seq: int, msg: object, wire: bytes) -> None:
        self.stats.rx_frames += 1
        if self.frame_log is not None:
            self.frame_log.frame(now, "rx", seq, msg, wire)
        if self._last_rx_seq is not None:
            gap = (seq - self._last_rx_seq - 1) & 0xFFFF
            if gap < 0x8000:
                self.stats.lost_rx_frames += gap
        self._last_rx_seq = seq
        if isinstance(msg, _ANSWERS):
            with self._pending_lock:
                pending = self._pending.get(msg.req_seq)  # type: ignore[attr-defined]
            if pending is not None and (isinstance(msg, (pending.expect, Nak))):
                if not pending.event.is_set():
                    if isinstance(msg, Hello):
                        self._before_hello = False  # before the caller wakes: the next frame is of this session
                    pending.answer = msg
                    pending.t_s = now
                    pending.event.set()
                return
            if not isinstance(msg, Nak):
                self.stats.late_answers += 1
                return
            self.stats.naks += 1
        if self._before_hello:
            self.stats.stale_frames += 1
            return
        item = Received(now, seq, msg)
        for listener in self._listeners:
            try:
                if listener(item):
                    return
            except Exception:  # a listener bug must not kill the reader (and with it the link)
                log.exception("link listener failed on %s", type(msg).__name__)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.stats.queue_overflows += 1

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s / 2):
            if self.clock() - self._last_tx_s < self.heartbeat_s / 2:
                continue
            self._heartbeats += 1
            try:
                with self._tx_lock:
                    self._write_frame(self._next_seq(), Heartbeat(self._heartbeats & 0xFFFFFFFF))
            except BridgeError:
                return

    def _fail(self, error: BridgeError) -> None:
        if self._failure is not None:
            return
        self._failure = error
        log.error("%s", error)
        if self.frame_log is not None:
            self.frame_log.note(self.clock(), str(error))
        with self._pending_lock:
            for pending in self._pending.values():
                pending.event.set()
        self._queue_sentinel()

    def _queue_sentinel(self) -> None:
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass

    def _send_stop(self) -> None:
        """STOP (output off at once), then back to COMMAND mode so a streaming device falls quiet."""
        if self._failure is not None:
            return
        try:
            self._request(Stop(0, 0), 0.05, 2)
            if self._device is not None:
                self._request(SetMode(max(1, self._device.sample_rate_hz), int(Mode.COMMAND)), 0.05, 2)
        except BridgeError as exc:
            log.warning("could not stop the device while closing: %s", exc)

    def _shutdown(self) -> None:
        self._stop.set()
        for t in (self._heart, self._reader):
            if t.is_alive() and t is not threading.current_thread():
                t.join(timeout=1.0)
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass
        self._queue_sentinel()
        if self.frame_log is not None:
            self.frame_log.close()
