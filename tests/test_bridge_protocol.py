"""Codec: round trips, the decoder's behaviour on garbage, and the test vectors."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import FrameError
from firmware_bridge.protocol import (
    MAX_ENCODED_FRAME,
    MESSAGES,
    FrameDecoder,
    SetEnvelope,
    crc16,
    decode,
    encode,
)
from tests.conftest import PROJECT_ROOT

_INTS = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}


def _field_strategy(wire: str):
    if wire in ("f32", "f64"):
        return st.floats(width=32 if wire == "f32" else 64, allow_nan=True, allow_infinity=True)
    return st.integers(0, (1 << _INTS[wire]) - 1)


@st.composite
def messages(draw):
    defn = draw(st.sampled_from(list(MESSAGES.values())))
    values = {f.name: draw(_field_strategy(f.wire)) for f in defn.fields}
    return defn.cls(**values)


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    for f in a.DEF.fields:
        x, y = getattr(a, f.name), getattr(b, f.name)
        if not (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))):
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(messages(), st.integers(0, 0xFFFF))
def test_round_trip(msg, seq):
    wire = encode(msg, seq)
    assert wire.count(0) == 1 and wire.endswith(b"\x00")
    assert len(wire) <= MAX_ENCODED_FRAME + 1
    packet = decode(wire)
    assert packet.seq == seq and _same(packet.message, msg)


@settings(max_examples=200, deadline=None)
@given(st.lists(messages(), min_size=1, max_size=8), st.lists(st.integers(1, 16), min_size=1, max_size=8))
def test_stream_split_anywhere(msgs, cuts):
    stream = b"".join(encode(m, i) for i, m in enumerate(msgs))
    dec, got, pos = FrameDecoder(), [], 0
    for cut in cuts * 100:
        got += dec.feed(stream[pos:pos + cut])
        pos += cut
        if pos >= len(stream):
            break
    got += dec.feed(stream[pos:])
    assert [p.seq for p in got] == list(range(len(msgs)))
    assert all(_same(p.message, m) for p, m in zip(got, msgs))
    assert dec.stats.errors == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_never_raises_and_resyncs(garbage):
    dec = FrameDecoder()
    dec.feed(garbage)
    assert len(dec._buf) <= MAX_ENCODED_FRAME
    good = SetEnvelope(ref_index=3, envelope=0.25)
    packets = dec.feed(b"\x00" + encode(good, 9))
    assert packets[-1].message == good and packets[-1].seq == 9


def test_oversize_run_is_skipped_to_next_delimiter():
    dec = FrameDecoder()
    assert dec.feed(b"\x01" * 1000) == []
    assert dec.stats.oversize == 1 and len(dec._buf) == 0
    assert dec.feed(b"\x02" * 10 + b"\x00" + encode(SetEnvelope(1, 1.0), 1))[0].seq == 1
    assert dec.stats.oversize == 1


def test_each_error_kind_is_counted():
    vectors = json.loads((PROJECT_ROOT / "firmware" / "generated" / "test_vectors.json").read_text())
    dec = FrameDecoder()
    for case in vectors["invalid"]:
        assert dec.feed(bytes.fromhex(case["wire_hex"])) == [], case["why"]
        with pytest.raises(FrameError):
            decode(bytes.fromhex(case["wire_hex"]))
    s = dec.stats
    assert (s.crc_errors, s.unknown_ids, s.length_errors, s.cobs_errors, s.oversize) == (2, 1, 1, 1, 1)
    assert s.frames == 0 and s.errors == 6


def test_vectors_decode_byte_for_byte():
    vectors = json.loads((PROJECT_ROOT / "firmware" / "generated" / "test_vectors.json").read_text())
    for c in vectors["crc"]:
        assert crc16(bytes.fromhex(c["data_hex"])) == c["crc"]
    for v in vectors["frames"]:
        packet = decode(bytes.fromhex(v["wire_hex"]))
        defn = MESSAGES[v["msg_id"]]
        assert packet.seq == v["seq"] and type(packet.message) is defn.cls
        values = {k: math.nan if x == "nan" else x for k, x in v["fields"].items()}
        assert _same(packet.message, defn.cls(**values))
        assert encode(packet.message, packet.seq).hex() == v["wire_hex"]


def test_encode_rejects_values_outside_wire_range():
    with pytest.raises(FrameError, match="SET_ENVELOPE"):
        encode(SetEnvelope(ref_index=-1, envelope=0.0), 0)
    with pytest.raises(FrameError, match="sequence"):
        encode(SetEnvelope(ref_index=0, envelope=0.0), 70000)
    with pytest.raises(FrameError, match="not a protocol message"):
        encode(object(), 0)


def test_random_corruption_never_yields_a_wrong_message():
    """Codec level: 100,000 frames, each with random bit flips, drops or insertions.

    Every packet the decoder returns must be one that was sent, unchanged.
    """
    rng = random.Random(5)
    sent = [SetEnvelope(ref_index=i, envelope=(i % 129) / 128) for i in range(100_000)]
    dec, accepted, corrupted = FrameDecoder(), 0, 0
    chunks = []
    for i, m in enumerate(sent):
        wire = bytearray(encode(m, i & 0xFFFF))
        r = rng.random()
        if r < 0.3:
            for _ in range(rng.randint(1, 3)):
                wire[rng.randrange(len(wire))] ^= 1 << rng.randrange(8)
            corrupted += 1
        elif r < 0.35:
            del wire[rng.randrange(len(wire))]
            corrupted += 1
        elif r < 0.4:
            wire.insert(rng.randrange(len(wire)), rng.randrange(256))
            corrupted += 1
        chunks.append(bytes(wire))
    stream = b"".join(chunks)
    for start in range(0, len(stream), 4096):
        for p in dec.feed(stream[start:start + 4096]):
            assert p.message == sent[p.message.ref_index] and p.seq == p.message.ref_index & 0xFFFF
            accepted += 1
    assert accepted >= len(sent) - corrupted * 2
    assert dec.stats.errors > 0.9 * corrupted
