"""Frame encoding and a decoder that never raises on garbage.

A frame on the wire is ``COBS(msg_id u8 | seq u16 | payload | crc u16) 0x00``:
COBS (Cheshire & Baker, IEEE/ACM Trans. Netw. 7(2), 1999) removes every zero
byte so that 0x00 delimits frames, and the CRC is CRC-16/CCITT-FALSE
(poly 0x1021, init 0xFFFF, no reflection, no final xor; check value of
``b"123456789"`` is 0x29B1), computed by :func:`binascii.crc_hqx` over header and
payload and stored little-endian.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, fields
from typing import NamedTuple

from cobs import cobs

from firmware_bridge.errors import FrameError
from firmware_bridge.protocol.constants import CRC_SIZE, HEADER_SIZE, MAX_ENCODED_FRAME
from firmware_bridge.protocol.messages import MESSAGES, definition, pack_payload, unpack_payload

_HEADER = struct.Struct("<BH")
_CRC = struct.Struct("<H")
_DELIM = b"\x00"


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data``."""
    return binascii.crc_hqx(data, 0xFFFF)


class Packet(NamedTuple):
    """A decoded frame: its sequence number, the message, and its COBS bytes (no delimiter)."""

    seq: int
    message: object
    wire: bytes


@dataclass(frozen=True)
class Rejected:
    """The message of a :class:`Packet` whose CRC is good but which the table does not know.

    Only a :class:`FrameDecoder` made with ``report_rejects`` returns these
    (a device answers them with NAK UNKNOWN_MESSAGE or BAD_LENGTH); they are
    counted in the decoder's errors all the same.
    """

    msg_id: int
    unknown_id: bool
    """True for an id not in the table, False for a payload of the wrong size."""


def raw_frame(msg: object, seq: int) -> bytes:
    """Header + payload + CRC of ``msg`` before COBS encoding."""
    defn = definition(msg)
    if not 0 <= seq <= 0xFFFF:
        raise FrameError(f"sequence number {seq} is outside 0..65535")
    body = _HEADER.pack(defn.msg_id, seq) + pack_payload(msg)
    return body + _CRC.pack(crc16(body))


def encode(msg: object, seq: int) -> bytes:
    """The bytes to write for ``msg`` with sequence number ``seq``, delimiter included."""
    return cobs.encode(raw_frame(msg, seq)) + _DELIM


def parse_raw(raw: bytes) -> tuple[int, object]:
    """Check and unpack one COBS-decoded frame; FrameError names what is wrong."""
    if len(raw) < HEADER_SIZE + CRC_SIZE:
        raise FrameError(f"frame of {len(raw)} bytes is shorter than header + CRC")
    body, (crc,) = raw[:-CRC_SIZE], _CRC.unpack_from(raw, len(raw) - CRC_SIZE)
    if crc16(body) != crc:
        raise FrameError("CRC mismatch")
    msg_id, seq = _HEADER.unpack_from(body)
    defn = MESSAGES.get(msg_id)
    if defn is None:
        raise FrameError(f"unknown message id 0x{msg_id:02X}")
    payload = body[HEADER_SIZE:]
    if len(payload) != defn.size:
        raise FrameError(f"{defn.name} payload is {len(payload)} bytes, expected {defn.size}")
    return seq, unpack_payload(defn, payload)


def decode(frame: bytes) -> Packet:
    """Decode one encoded frame (delimiter optional); FrameError when it is not valid."""
    encoded = frame[:-1] if frame.endswith(_DELIM) else frame
    try:
        raw = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise FrameError(f"COBS: {exc}") from None
    seq, msg = parse_raw(raw)
    return Packet(seq, msg, bytes(encoded))


@dataclass
class DecoderStats:
    """Counters of a :class:`FrameDecoder`."""

    frames: int = 0
    cobs_errors: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    unknown_ids: int = 0
    oversize: int = 0
    bytes_dropped: int = 0

    @property
    def errors(self) -> int:
        """Frames dropped for any reason."""
        return self.cobs_errors + self.crc_errors + self.length_errors + self.unknown_ids + self.oversize

    def as_dict(self) -> dict[str, int]:
        """All counters by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"errors": self.errors}


class FrameDecoder:
    """Incremental decoder: feed it any bytes, get back the valid packets.

    It never raises on input. A bad frame is counted and dropped, and decoding
    resumes after the next delimiter. The pending buffer never holds more than
    :data:`MAX_ENCODED_FRAME` bytes: a longer run without delimiter is counted
    once as ``oversize`` and skipped up to the next delimiter. With
    ``report_rejects``, a frame with a good CRC but an unknown id or a wrong
    payload size is also returned, in order, as a packet whose message is
    :class:`Rejected`.
    """

    def __init__(self, report_rejects: bool = False) -> None:
        self.report_rejects = report_rejects
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._skipping = False

    def reset(self) -> None:
        """Forget any partial frame (counters are kept)."""
        self._buf.clear()
        self._skipping = False

    def feed(self, data: bytes) -> list[Packet]:
        """Consume ``data`` and return the packets completed by it, in order."""
        out: list[Packet] = []
        start = 0
        n = len(data)
        while start < n:
            end = data.find(_DELIM, start)
            if end < 0:
                self._append(data[start:])
                break
            self._append(data[start:end])
            if self._skipping:
                self._skipping = False
            elif self._buf:
                packet = self._frame(bytes(self._buf))
                if packet is not None:
                    out.append(packet)
            self._buf.clear()
            start = end + 1
        return out

    def _append(self, chunk: bytes) -> None:
        if self._skipping:
            self.stats.bytes_dropped += len(chunk)
            return
        if len(self._buf) + len(chunk) > MAX_ENCODED_FRAME:
            self.stats.oversize += 1
            self.stats.bytes_dropped += len(self._buf) + len(chunk)
            self._buf.clear()
            self._skipping = True
            return
        self._buf += chunk

    def _frame(self, encoded: bytes) -> Packet | None:
        stats = self.stats
        try:
            raw = cobs.decode(encoded)
        except cobs.DecodeError:
            stats.cobs_errors += 1
            stats.bytes_dropped += len(encoded)
            return None
        if len(raw) < HEADER_SIZE + CRC_SIZE or crc16(raw[:-CRC_SIZE]) != _CRC.unpack_from(raw, len(raw) - CRC_SIZE)[0]:
            stats.crc_errors += 1
            stats.bytes_dropped += len(encoded)
            return None
        msg_id, seq = _HEADER.unpack_from(raw)
        defn = MESSAGES.get(msg_id)
        if defn is None or len(raw) - HEADER_SIZE - CRC_SIZE != defn.size:
            if defn is None:
                stats.unknown_ids += 1
            else:
                stats.length_errors += 1
            stats.bytes_dropped += len(encoded)
            return Packet(seq, Rejected(msg_id, defn is None), encoded) if self.report_rejects else None
        stats.frames += 1
        return Packet(seq, unpack_payload(defn, raw[HEADER_SIZE:-CRC_SIZE]), encoded)
