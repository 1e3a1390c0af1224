"""Framing constants and the enumerations carried inside messages (protocol version 2).

The normative description is ``docs/protocol.md``; this module and
:mod:`firmware_bridge.protocol.messages` are its machine-readable form, from which
``tools/gen_protocol_c.py`` generates the C header.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

PROTOCOL_VERSION = 2
"""Incremented whenever a layout or a meaning changes (2: HELLO carries the hardware maximum on-time;
output-enabling commands are refused before the first HELLO_REQUEST)."""

HEADER_SIZE = 3
"""``msg_id`` (u8) + ``seq`` (u16, little-endian) in front of every payload."""

CRC_SIZE = 2
"""CRC-16/CCITT-FALSE of header + payload, little-endian, after the payload."""

MAX_PAYLOAD = 48
"""Largest payload of any message, in bytes."""

MAX_RAW_FRAME = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE
"""Largest frame before COBS encoding (53 bytes)."""

MAX_ENCODED_FRAME = MAX_RAW_FRAME + 1
"""Largest COBS-encoded frame without its delimiter: COBS adds one byte per 254 (54 bytes)."""

MAX_WIRE_FRAME = MAX_ENCODED_FRAME + 1
"""Largest frame on the wire, delimiter included (55 bytes)."""

DELIMITER = 0x00
"""Ends every frame; never appears inside an encoded frame."""

NO_SAMPLE = 0xFFFFFFFF
"""``ref_index`` value meaning "not caused by a sample"."""

FOOTSWITCH_ABSENT = 0xFF
"""``footswitch`` value meaning "no heel switch" (0 = heel off, 1 = heel loaded)."""

DEFAULT_WATCHDOG_MS = 250
"""Watchdog time-out of a device that was never sent ``SET_LIMITS``."""

DEFAULT_MAX_ON_MS = 5000
"""Longest continuous stimulation of a device that was never sent ``SET_LIMITS``."""

WATCHDOG_RANGE_MS = (10, 1000)
"""Allowed ``SET_LIMITS.watchdog_ms``."""

CLOCK_TOLERANCE_PPM = 1000.0
"""Largest rate error of the device clock against true time (a crystal is within 100 ppm); a HIL run
against a device beyond it reports its latencies as not measurable."""

MAX_SAMPLE_RATE_HZ = 1000
"""Highest ``SET_MODE.sample_rate_hz`` a device must accept."""

ACK_DEADLINE_MS = 20
"""A device answers every command within this time."""

DEFAULT_HEARTBEAT_MS = 50
"""Heartbeat period the host uses: five heartbeats per default watchdog period."""


class Direction(IntEnum):
    """Who sends a message. Host-to-device ids are 0x01-0x7F, device-to-host 0x81-0xFF."""

    HOST_TO_DEVICE = 0
    DEVICE_TO_HOST = 1


class NakCode(IntEnum):
    """Reason carried by a NAK. ``detail`` is the 1-based index of the offending field (0: none)."""

    UNKNOWN_MESSAGE = 1
    BAD_LENGTH = 2
    LIMIT_EXCEEDED = 3
    BAD_VALUE = 4
    BAD_STATE = 5
    ESTOP_LATCHED = 6
    UNSUPPORTED = 7
    NOT_CONFIGURED = 8


class StimState(IntEnum):
    """Stimulation state; the labels are those of the recording format."""

    IDLE = 0
    DELAY = 1
    RAMP_UP = 2
    ON = 3
    EXTENSION = 4
    RAMP_DOWN = 5
    FAULT = 6

    @property
    def label(self) -> str:
        """Lower-case name as written in recordings."""
        return self.name.lower()


class Mode(IntEnum):
    """What the device does with samples (``SET_MODE``)."""

    COMMAND = 0
    """No sample traffic; the host drives the output with START/STOP/SET_ENVELOPE."""
    HOST_LOOP = 1
    """The device streams SENSOR_SAMPLE at ``sample_rate_hz``; the host answers with SET_ENVELOPE."""
    DEVICE_LOOP = 2
    """The host streams HOST_SAMPLE; the device runs its own detector and controller."""


class Fault(IntFlag):
    """Fault flags (``FAULT.flags``, ``STATUS.fault_flags``). Any active fault means output off."""

    WATCHDOG = 0x0001
    ESTOP = 0x0002
    LIMIT = 0x0004
    MAX_ON_TIME = 0x0008
    SENSOR_LOSS = 0x0010
    ELECTRODE = 0x0020
    INTERNAL = 0x0040


LATCHED_FAULTS = Fault.ESTOP | Fault.ELECTRODE | Fault.INTERNAL
"""Faults that stay until ``CLEAR_FAULTS``; the others clear on the next valid host frame."""


class Capability(IntFlag):
    """Bits of ``HELLO.capabilities``."""

    COMMAND = 0x0001
    HOST_LOOP = 0x0002
    DEVICE_LOOP = 0x0004
    TIME_SYNC = 0x0008
    STATUS = 0x0010


class Event(IntEnum):
    """Gait events (same numbers as :class:`fes_sim.samples.GaitEvent`)."""

    NONE = 0
    HEEL_STRIKE = 1
    HEEL_OFF = 2
    TOE_OFF = 3
