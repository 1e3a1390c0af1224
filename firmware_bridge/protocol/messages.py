"""The message table of protocol version 2: ids, fixed little-endian layouts, replies.

Each message is a frozen dataclass declared with :func:`message`; each field is
declared with :func:`wire` giving its wire type (``u8``, ``u16``, ``u32``,
``u64``, ``f32``, ``f64``), unit and meaning. The classes are the Python API; the derived
:class:`MessageDef` objects in :data:`MESSAGES` are the single definition from
which the codec, ``docs/protocol.md`` tables and the generated C header come.
Layouts are packed (no padding) and little-endian; fields are ordered so that
each is also naturally aligned within the payload.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from firmware_bridge.errors import FrameError
from firmware_bridge.protocol.constants import MAX_PAYLOAD, Direction

T = TypeVar("T")

#: wire type → (struct code, C type)
WIRE_TYPES: dict[str, tuple[str, str]] = {
    "u8": ("B", "uint8_t"),
    "u16": ("H", "uint16_t"),
    "u32": ("I", "uint32_t"),
    "u64": ("Q", "uint64_t"),
    "f32": ("f", "float"),
    "f64": ("d", "double"),
}

H2D = Direction.HOST_TO_DEVICE
D2H = Direction.DEVICE_TO_HOST


@dataclass(frozen=True)
class FieldDef:
    """One payload field: name, wire type, byte offset, unit and meaning."""

    name: str
    wire: str
    offset: int
    unit: str
    doc: str

    @property
    def size(self) -> int:
        """Size in bytes."""
        return struct.calcsize("<" + WIRE_TYPES[self.wire][0])

    @property
    def c_type(self) -> str:
        """The C99 ``<stdint.h>`` type."""
        return WIRE_TYPES[self.wire][1]


@dataclass(frozen=True)
class MessageDef:
    """Everything the codec and the generator need to know about one message."""

    msg_id: int
    name: str
    direction: Direction
    reply: str
    fields: tuple[FieldDef, ...]
    doc: str
    layout: struct.Struct
    cls: type

    @property
    def size(self) -> int:
        """Payload size in bytes."""
        return self.layout.size


MESSAGES: dict[int, MessageDef] = {}
"""Message id → definition, in id order of declaration."""

BY_NAME: dict[str, MessageDef] = {}
"""Wire name (``SET_ENVELOPE``) → definition."""


def wire(kind: str, *, unit: str = "", doc: str, default: Any = dataclasses.MISSING) -> Any:
    """Declare a payload field of wire type ``kind`` (``u8`` ... ``f64``)."""
    if kind not in WIRE_TYPES:
        raise TypeError(f"unknown wire type {kind!r}")
    return dataclasses.field(default=default, metadata={"wire": kind, "unit": unit, "doc": doc})


def message(msg_id: int, name: str, direction: Direction, reply: str = "") -> Callable[[type[T]], type[T]]:
    """Class decorator: make a frozen dataclass and register its layout under ``msg_id``.

    ``reply`` names the message the device answers with (``ACK`` for commands,
    ``HELLO``, ``TIME_PONG``, ``STATUS``), or is empty for streamed messages that
    are answered only on error (with a NAK).
    """

    def register(cls: type[T]) -> type[T]:
        cls = dataclass(frozen=True, slots=True)(cls)
        fields, offset = [], 0
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            fd = FieldDef(f.name, f.metadata["wire"], offset, f.metadata["unit"], f.metadata["doc"])
            fields.append(fd)
            offset += fd.size
        layout = struct.Struct("<" + "".join(WIRE_TYPES[f.wire][0] for f in fields))
        in_range = 0x01 <= msg_id <= 0x7F if direction is H2D else 0x81 <= msg_id <= 0xFF
        if not in_range or msg_id in MESSAGES or name in BY_NAME or layout.size > MAX_PAYLOAD:
            raise TypeError(f"bad message definition {name} (0x{msg_id:02X})")
        doc = " ".join((cls.__doc__ or "").split())
        defn = MessageDef(msg_id, name, direction, reply, tuple(fields), doc, layout, cls)
        MESSAGES[msg_id] = defn
        BY_NAME[name] = defn
        cls.DEF = defn  # type: ignore[attr-defined]
        return cls

    return register


def definition(msg: object) -> MessageDef:
    """The :class:`MessageDef` of a message instance; FrameError for other objects."""
    try:
        return type(msg).DEF  # type: ignore[attr-defined,no-any-return]
    except AttributeError:
        raise FrameError(f"{type(msg).__name__} is not a protocol message") from None


def pack_payload(msg: object) -> bytes:
    """The payload bytes of ``msg``; FrameError when a value does not fit its wire type."""
    defn = definition(msg)
    values = [getattr(msg, f.name) for f in defn.fields]
    try:
        return defn.layout.pack(*values)
    except (struct.error, OverflowError, TypeError) as exc:
        raise FrameError(f"{defn.name}: value does not fit the wire layout ({exc})") from None


def unpack_payload(defn: MessageDef, payload: bytes) -> object:
    """Build the message of ``defn`` from exactly ``defn.size`` payload bytes."""
    return defn.cls(*defn.layout.unpack(payload))


# --------------------------------------------------------------------------- host → device


@message(0x01, "HELLO_REQUEST", H2D, reply="HELLO")
class HelloRequest:
    """Opens a session. The device stops stimulation, clears its duplicate filter and answers HELLO."""

    host_version: int = wire("u16", doc="protocol version the host speaks")
    reserved: int = wire("u16", doc="0", default=0)


@message(0x02, "SET_LIMITS", H2D, reply="ACK")
class SetLimits:
    """Safety limits. Each must not exceed the device's hardware maximum in HELLO, else NAK LIMIT_EXCEEDED."""

    max_current_ma: float = wire("f32", unit="mA", doc="highest output current")
    max_pulse_width_us: float = wire("f32", unit="µs", doc="longest phase width")
    min_frequency_hz: float = wire("f32", unit="Hz", doc="lowest pulse rate")
    max_frequency_hz: float = wire("f32", unit="Hz", doc="highest pulse rate")
    max_charge_uc: float = wire("f32", unit="µC", doc="highest charge per phase, current × pulse width")
    max_on_ms: int = wire("u32", unit="ms", doc="longest continuous stimulation; longer ends in fault MAX_ON_TIME")
    watchdog_ms: int = wire("u16", unit="ms", doc="stimulation stops when no valid host frame arrives for this long")
    reserved: int = wire("u16", doc="0", default=0)


@message(0x03, "SET_CONFIG", H2D, reply="ACK")
class SetConfig:
    """Stimulation parameters used by START, SET_ENVELOPE and the device's own controller."""

    current_ma: float = wire("f32", unit="mA", doc="output current at envelope 1")
    pulse_width_us: float = wire("f32", unit="µs", doc="phase width")
    frequency_hz: float = wire("f32", unit="Hz", doc="pulse rate")
    ramp_up_ms: int = wire("u16", unit="ms", doc="rise time of the device controller's envelope")
    ramp_down_ms: int = wire("u16", unit="ms", doc="fall time of the device controller's envelope")
    extension_ms: int = wire("u16", unit="ms", doc="stimulation kept on after heel strike by the device controller")
    channel: int = wire("u8", doc="output channel, 0-based")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x04, "SET_MODE", H2D, reply="ACK")
class SetMode:
    """Selects what the device does with samples (see Mode). Changing mode stops stimulation first."""

    sample_rate_hz: int = wire("u16", unit="Hz", doc="SENSOR_SAMPLE rate in HOST_LOOP; expected HOST_SAMPLE rate otherwise")
    mode: int = wire("u8", doc="Mode: 0 COMMAND, 1 HOST_LOOP, 2 DEVICE_LOOP")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x05, "START", H2D, reply="ACK")
class Start:
    """Starts stimulation at the configured parameters, ramping the envelope from 0 to 1."""

    duration_ms: int = wire("u32", unit="ms", doc="stop (with the configured ramp down) after this long; 0 = until STOP")
    ramp_up_ms: int = wire("u16", unit="ms", doc="rise time of the envelope")
    channel: int = wire("u8", doc="output channel, 0-based")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x06, "STOP", H2D, reply="ACK")
class Stop:
    """Stops stimulation, ramping the envelope down to 0; ramp 0 = off at once."""

    ramp_down_ms: int = wire("u16", unit="ms", doc="fall time of the envelope")
    channel: int = wire("u8", doc="output channel, 0-based")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x07, "SET_ENVELOPE", H2D)
class SetEnvelope:
    """Envelope set-point applied at once: current = envelope × configured current. Not acknowledged."""

    ref_index: int = wire("u32", doc="sample_index of the SENSOR_SAMPLE this answers, 0xFFFFFFFF = none")
    envelope: float = wire("f32", unit="1", doc="0 (off) to 1 (full); outside [0, 1] or NaN is NAK BAD_VALUE")


@message(0x08, "HEARTBEAT", H2D)
class Heartbeat:
    """Keeps the watchdog fed when no other host frame is due. Not acknowledged."""

    count: int = wire("u32", doc="increments by one per heartbeat")


@message(0x09, "ESTOP", H2D, reply="ACK")
class EStop:
    """Emergency stop: output off at once (no ramp), fault ESTOP latched until CLEAR_FAULTS."""

    reason: int = wire("u8", doc="free code for the log, 0 = operator")


@message(0x0A, "CLEAR_FAULTS", H2D, reply="ACK")
class ClearFaults:
    """Clears the given fault flags (latched or not). Output stays off until commanded again."""

    mask: int = wire("u16", doc="Fault flags to clear")


@message(0x0B, "HOST_SAMPLE", H2D)
class HostSample:
    """A sensor sample for the device's detector in DEVICE_LOOP mode. Not acknowledged."""

    sample_index: int = wire("u32", doc="increments by one per sample; gaps mean lost samples")
    t_us: int = wire("u32", unit="µs", doc="sample time on the host's sample clock, wraps at 2^32")
    acc_x_mps2: float = wire("f32", unit="m/s²", doc="specific force along the shank, NaN = absent")
    acc_y_mps2: float = wire("f32", unit="m/s²", doc="specific force forward")
    acc_z_mps2: float = wire("f32", unit="m/s²", doc="specific force to the left")
    gyr_x_dps: float = wire("f32", unit="°/s", doc="angular rate about x")
    gyr_y_dps: float = wire("f32", unit="°/s", doc="angular rate about y")
    gyr_z_dps: float = wire("f32", unit="°/s", doc="angular rate about z = d(tilt)/dt")
    tilt_deg: float = wire("f32", unit="°", doc="shank tilt from a tilt sensor, NaN = absent")
    footswitch: int = wire("u8", doc="0 heel off, 1 heel loaded, 0xFF absent")


@message(0x0C, "TIME_PING", H2D, reply="TIME_PONG")
class TimePing:
    """Time-sync request; the device answers TIME_PONG at once."""

    host_time_us: int = wire("u64", unit="µs", doc="host clock when sent, echoed back")


@message(0x0D, "GET_STATUS", H2D, reply="STATUS")
class GetStatus:
    """Asks for the device's counters and state."""


@message(0x0E, "SET_PARAM", H2D, reply="ACK")
class SetParam:
    """One setting of the device's own controller (firmware_bridge.protocol.params): detector, thresholds, estimator, fault rules, timing. Applied to the controller of the next DEVICE_LOOP run."""

    value: float = wire("f64", unit="param", doc="new value in the parameter's unit; a choice by its 0-based index")
    param_id: int = wire("u16", doc="parameter id (PARAMS table)")
    reserved: int = wire("u16", doc="0", default=0)


# --------------------------------------------------------------------------- device → host


@message(0x81, "HELLO", D2H)
class Hello:
    """Answer to HELLO_REQUEST: identity, capabilities and hardware maxima."""

    req_seq: int = wire("u16", doc="seq of the HELLO_REQUEST")
    protocol_version: int = wire("u16", doc="protocol version the device speaks")
    firmware_version: int = wire("u16", doc="vendor firmware version")
    sample_rate_hz: int = wire("u16", unit="Hz", doc="native sensor sample rate")
    device_id: int = wire("u32", doc="serial number")
    capabilities: int = wire("u32", doc="Capability flags")
    max_current_ma: float = wire("f32", unit="mA", doc="hardware maximum current")
    max_pulse_width_us: float = wire("f32", unit="µs", doc="hardware maximum phase width")
    min_frequency_hz: float = wire("f32", unit="Hz", doc="hardware minimum pulse rate")
    max_frequency_hz: float = wire("f32", unit="Hz", doc="hardware maximum pulse rate")
    max_charge_uc: float = wire("f32", unit="µC", doc="hardware maximum charge per phase")
    max_on_ms: int = wire("u32", unit="ms", doc="hardware maximum of SET_LIMITS.max_on_ms (longest continuous stimulation)")
    watchdog_ms: int = wire("u16", unit="ms", doc="current watchdog time-out")
    channels: int = wire("u8", doc="number of output channels")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x82, "ACK", D2H)
class Ack:
    """A command was valid and has been applied."""

    req_seq: int = wire("u16", doc="seq of the command")
    msg_id: int = wire("u8", doc="id of the command")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x83, "NAK", D2H)
class Nak:
    """A command was refused and NOT applied; nothing changed on the device."""

    req_seq: int = wire("u16", doc="seq of the refused frame")
    msg_id: int = wire("u8", doc="id of the refused frame")
    code: int = wire("u8", doc="NakCode")
    detail: int = wire("u16", doc="1-based index of the offending field, 0 = none")
    reserved: int = wire("u16", doc="0", default=0)


@message(0x84, "SENSOR_SAMPLE", D2H)
class SensorSample:
    """A sensor sample streamed by the device in HOST_LOOP mode."""

    sample_index: int = wire("u32", doc="increments by one per sample; gaps mean lost samples")
    t_us: int = wire("u32", unit="µs", doc="device clock at sampling, wraps at 2^32")
    acc_x_mps2: float = wire("f32", unit="m/s²", doc="specific force along the shank, NaN = absent")
    acc_y_mps2: float = wire("f32", unit="m/s²", doc="specific force forward")
    acc_z_mps2: float = wire("f32", unit="m/s²", doc="specific force to the left")
    gyr_x_dps: float = wire("f32", unit="°/s", doc="angular rate about x")
    gyr_y_dps: float = wire("f32", unit="°/s", doc="angular rate about y")
    gyr_z_dps: float = wire("f32", unit="°/s", doc="angular rate about z = d(tilt)/dt")
    tilt_deg: float = wire("f32", unit="°", doc="shank tilt from a tilt sensor, NaN = absent")
    footswitch: int = wire("u8", doc="0 heel off, 1 heel loaded, 0xFF absent")


@message(0x85, "STIM_STATE", D2H)
class StimStateReport:
    """Sent on every stimulation state transition, with the output now in force."""

    t_us: int = wire("u32", unit="µs", doc="device clock at the transition")
    ref_index: int = wire("u32", doc="sample_index that caused it, 0xFFFFFFFF = none")
    pulses: int = wire("u32", doc="pulses delivered since HELLO")
    charge_uc: float = wire("f32", unit="µC", doc="charge per phase delivered since HELLO, summed")
    envelope: float = wire("f32", unit="1", doc="envelope now")
    current_ma: float = wire("f32", unit="mA", doc="current now")
    pulse_width_us: float = wire("f32", unit="µs", doc="phase width now (0 while not configured)")
    frequency_hz: float = wire("f32", unit="Hz", doc="pulse rate now (0 while not configured)")
    state: int = wire("u8", doc="StimState after the transition")
    prev_state: int = wire("u8", doc="StimState before the transition")
    channel: int = wire("u8", doc="output channel, 0-based")
    reserved: int = wire("u8", doc="0", default=0)


@message(0x86, "DEVICE_EVENT", D2H)
class DeviceEvent:
    """A gait event detected by the device's own detector (DEVICE_LOOP mode)."""

    t_us: int = wire("u32", unit="µs", doc="device clock at detection")
    sample_index: int = wire("u32", doc="sample at which it was detected")
    tilt_est_deg: float = wire("f32", unit="°", doc="the device's tilt estimate at that sample")
    event: int = wire("u8", doc="Event: 1 heel strike, 2 heel off, 3 toe off")
    reserved: int = wire("u8", doc="0", default=0)
    reserved2: int = wire("u16", doc="0", default=0)


@message(0x87, "FAULT", D2H)
class FaultReport:
    """A fault was raised or cleared. Raising any fault switches the output off first."""

    t_us: int = wire("u32", unit="µs", doc="device clock")
    flags: int = wire("u16", doc="all active Fault flags after the change")
    code: int = wire("u16", doc="the Fault flag that changed")
    active: int = wire("u8", doc="1 raised, 0 cleared")


@message(0x88, "TIME_PONG", D2H)
class TimePong:
    """Answer to TIME_PING; offset ≈ (rx + tx)/2 − (host send + host receive)/2."""

    host_time_us: int = wire("u64", unit="µs", doc="echo of TIME_PING.host_time_us")
    device_rx_us: int = wire("u32", unit="µs", doc="device clock when the ping was decoded")
    device_tx_us: int = wire("u32", unit="µs", doc="device clock when the pong was queued")
    req_seq: int = wire("u16", doc="seq of the TIME_PING")
    reserved: int = wire("u16", doc="0", default=0)


@message(0x89, "STATUS", D2H)
class Status:
    """Answer to GET_STATUS: counters since HELLO and current state."""

    t_us: int = wire("u32", unit="µs", doc="device clock")
    rx_frames: int = wire("u32", doc="valid host frames received since HELLO, the HELLO_REQUEST included")
    rx_errors: int = wire("u32", doc="frames dropped: COBS, CRC, length or id (device-to-host ids included)")
    pulses: int = wire("u32", doc="pulses delivered")
    charge_uc: float = wire("f32", unit="µC", doc="charge per phase delivered, summed")
    req_seq: int = wire("u16", doc="seq of the GET_STATUS")
    fault_flags: int = wire("u16", doc="active Fault flags")
    state: int = wire("u8", doc="StimState")
    mode: int = wire("u8", doc="Mode")
    reserved: int = wire("u16", doc="0", default=0)


SAMPLE_CHANNELS: tuple[str, ...] = tuple(f.name for f in SensorSample.DEF.fields[2:9])  # type: ignore[attr-defined]
"""The float sensor fields shared by SENSOR_SAMPLE, HOST_SAMPLE and ShankSample."""

ACKED = frozenset(d.msg_id for d in MESSAGES.values() if d.reply == "ACK")
"""Ids of commands the device answers with ACK or NAK."""
