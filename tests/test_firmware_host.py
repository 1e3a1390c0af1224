"""Host unit tests of the firmware's portable C core (COBS, CRC, frames, messages, device).

The core is compiled with the system C compiler under AddressSanitizer and
UBSan (``make -C firmware host-test``) into a small driver that answers one
line per command; these tests compare it with the Python codec and with every
entry of ``firmware/generated/test_vectors.json``, byte for byte, and feed it
garbage and truncated frames (any out-of-bounds access aborts the driver).
"""

from __future__ import annotations

import binascii
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from cobs import cobs
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.protocol import framing
from firmware_bridge.protocol import messages as M
from firmware_bridge.protocol.constants import Fault, NakCode, StimState

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
VECTORS = json.loads((FIRMWARE / "generated" / "test_vectors.json").read_text())


class Harness:
    """The sanitizer-built C driver, one command per line."""

    def __init__(self, exe: Path) -> None:
        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, cmd: str, data: bytes | str = b"") -> str:
        arg = data.hex() if isinstance(data, bytes) else data
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{cmd} {arg}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"C driver died (sanitizer report above?), exit {self.proc.poll()}"
        return line.strip()

    def close(self) -> int:
        assert self.proc.stdin
        self.proc.stdin.close()
        return self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    missing = [t for t in ("cc", "make") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: cannot build the firmware host tests")
    build = tmp_path_factory.mktemp("fwhost")
    proc = subprocess.run(["make", "-C", str(FIRMWARE), f"BUILD={build}", "host-test"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning" not in proc.stderr
    h = Harness(build / "host" / "fes_host_test")
    yield h
    assert h.close() == 0


def test_crc_vectors(harness):
    for v in VECTORS["crc"]:
        assert int(harness.ask("crc", v["data_hex"]), 16) == v["crc"]


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_crc_and_cobs_match_python(harness, data):
    assert int(harness.ask("crc", data), 16) == binascii.crc_hqx(data, 0xFFFF)
    encoded = cobs.encode(data)
    assert harness.ask("cobs_enc", data) == encoded.hex()
    assert harness.ask("cobs_dec", encoded) == data.hex()


def test_cobs_vectors(harness):
    for v in VECTORS["cobs"]:
        assert harness.ask("cobs_enc", v["raw_hex"]) == v["encoded_hex"]
        assert harness.ask("cobs_dec", v["encoded_hex"]) == v["raw_hex"]


def test_every_vector_frame_decodes_and_reencodes_byte_for_byte(harness):
    assert len(VECTORS["frames"]) >= len(M.MESSAGES)
    for v in VECTORS["frames"]:
        reply = harness.ask("wire", v["wire_hex"]).split()
        assert reply[:3] == ["OK", str(v["msg_id"]), str(v["seq"])], v["message"]
        payload = reply[3] if len(reply) == 10 else ""
        assert payload == v["payload_hex"], v["message"]
        assert reply[-6] == v["wire_hex"], v["message"]
        assert reply[-4:] == ["1", "0", "0", "0"]


def test_invalid_vectors_are_rejected_and_counted(harness):
    expected = {"crc": "0 0 1 0", "too_short": "0 0 1 0", "cobs": "0 1 0 0", "oversize": "0 0 0 1"}
    for v in VECTORS["invalid"]:
        reply = harness.ask("wire", v["wire_hex"])
        assert not reply.startswith("OK"), v["why"]
        if v["why"] in ("unknown_id", "length"):
            assert reply.startswith("ERR " + ("unknown" if v["why"] == "unknown_id" else "length"))
        else:
            assert reply.endswith(expected[v["why"]]), v["why"]


def test_garbage_and_truncated_frames_never_break_the_decoder(harness):
    rng = random.Random(9)
    good = bytes.fromhex(VECTORS["frames"][5]["wire_hex"])
    for _ in range(300):
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        cut = good[: rng.randrange(1, len(good))]
        # garbage, a truncated frame, then a good frame after a resync delimiter
        reply = harness.ask("wire", garbage + cut + b"\x00" + good)
        assert good.hex() in reply.split()


def _device(harness, msg, seq) -> list:
    out = bytes.fromhex(harness.ask("dev", framing.encode(msg, seq)))
    return [p.message for p in framing.FrameDecoder().feed(out)]


def test_device_refuses_out_of_range_settings_with_nak(harness):
    hello = _device(harness, M.HelloRequest(1), 1)
    assert isinstance(hello[-1], M.Hello)
    naks = _device(harness, M.SetConfig(hello[-1].max_current_ma + 1, 250, 40, 80, 80, 100, 0), 2)
    assert naks == [M.Nak(2, M.SetConfig.DEF.msg_id, NakCode.LIMIT_EXCEEDED, 1)]
    naks = _device(harness, M.SetConfig(30, 250, float("nan"), 80, 80, 100, 0), 3)
    assert naks[0].code == NakCode.BAD_VALUE and naks[0].detail == 3
    naks = _device(harness, M.Start(0, 0, 0), 4)
    assert naks[0].code == NakCode.NOT_CONFIGURED
    assert harness.ask("out") == "0"


def test_device_watchdog_switches_output_off_on_its_own_clock(harness):
    _device(harness, M.HelloRequest(1), 10)
    assert isinstance(_device(harness, M.SetConfig(30, 250, 40, 0, 0, 100, 0), 11)[-1], M.Ack)
    _device(harness, M.Start(0, 0, 0), 12)
    assert int(harness.ask("out")) == 30000
    harness.ask("tick", "249000")
    assert int(harness.ask("out")) == 30000
    frames = [p.message for p in framing.FrameDecoder().feed(bytes.fromhex(harness.ask("tick", "250000")))]
    assert harness.ask("out") == "0"
    assert any(isinstance(f, M.FaultReport) and f.code == Fault.WATCHDOG and f.active for f in frames)
    assert any(isinstance(f, M.StimStateReport) and f.state == StimState.FAULT for f in frames)


def _walk_samples(n: int, rate_hz: int) -> list:
    from firmware_bridge.emulator.sources import SyntheticSource

    src = SyntheticSource(rate_hz)
    out = []
    for i in range(n):
        s = src.step(0.0, 0.0, 0.0)
        out.append(M.HostSample(i, round(s.t_s * 1e6), s.acc_x_mps2, s.acc_y_mps2, s.acc_z_mps2, 0.0, 0.0,
                                s.gyr_z_dps, s.tilt_deg, 0xFF))
    return out


def test_device_loop_refuses_samples_once_lowered_limits_discard_the_configuration(harness):
    """SET_CONFIG(40 mA, 300 µs) → DEVICE_LOOP → SET_LIMITS(100 µs): no pulse at 300 µs, samples refused."""
    harness.ask("tick", "0")
    _device(harness, M.HelloRequest(1), 20)
    assert isinstance(_device(harness, M.SetConfig(40, 300, 40, 0, 0, 100, 0), 21)[-1], M.Ack)
    assert isinstance(_device(harness, M.SetMode(100, 2), 22)[-1], M.Ack)
    assert isinstance(_device(harness, M.SetLimits(120, 100, 1, 150, 50, 5000, 1000), 23)[-1], M.Ack)
    answers = []
    for k, sample in enumerate(_walk_samples(500, 100)):
        harness.ask("tick", str(sample.t_us))
        answers += _device(harness, sample, 100 + k)
        assert harness.ask("out") == "0"
    assert answers and all(isinstance(a, M.Nak) and a.code == NakCode.NOT_CONFIGURED for a in answers)


def test_output_beyond_the_limits_is_never_applied_even_with_a_corrupted_configuration(harness):
    """The output stage's last check: a stored width above the limits (a memory fault) ends in fault LIMIT, output off."""
    harness.ask("tick", "0")
    _device(harness, M.HelloRequest(1), 30)
    _device(harness, M.SetLimits(120, 300, 1, 150, 50, 5000, 1000), 31)
    assert isinstance(_device(harness, M.SetConfig(30, 250, 40, 0, 0, 100, 0), 32)[-1], M.Ack)
    assert isinstance(_device(harness, M.Start(0, 100, 0), 33)[-1], M.Ack)
    harness.ask("tick", "20000")
    assert int(harness.ask("out")) > 0
    assert harness.ask("poke_pw", "400") == "ok"
    frames = [p.message for p in framing.FrameDecoder().feed(bytes.fromhex(harness.ask("tick", "40000")))]
    assert harness.ask("out") == "0"
    assert any(isinstance(f, M.FaultReport) and f.code == Fault.LIMIT and f.active for f in frames)
    assert [f.state for f in frames if isinstance(f, M.StimStateReport)] == [StimState.FAULT]


def test_no_output_before_the_first_hello(harness):
    """Without a session the watchdog is not armed: output-enabling commands are refused with BAD_STATE."""
    harness.ask("tick", "0")
    assert harness.ask("boot") == "ok"
    assert isinstance(_device(harness, M.SetConfig(30, 250, 40, 0, 0, 100, 0), 40)[-1], M.Ack)
    for seq, msg in enumerate([M.Start(0, 0, 0), M.SetEnvelope(0, 0.5), M.SetMode(100, 1), M.SetMode(100, 2)], 41):
        (nak,) = _device(harness, msg, seq)
        assert isinstance(nak, M.Nak) and nak.code == NakCode.BAD_STATE, msg
    harness.ask("tick", "5000000")
    assert harness.ask("out") == "0"
    hello = _device(harness, M.HelloRequest(2), 50)[-1]
    assert hello.max_on_ms == 10_000
    assert isinstance(_device(harness, M.SetConfig(30, 250, 40, 0, 0, 100, 0), 51)[-1], M.Ack)
    assert isinstance(_device(harness, M.Start(0, 0, 0), 52)[-1], M.Ack)
    assert harness.ask("out") == "30000"


def test_max_on_time_limit_above_the_hardware_maximum_is_refused(harness):
    hello = _device(harness, M.HelloRequest(2), 60)[-1]
    for max_on_ms in (hello.max_on_ms + 1, 0xFFFFFFFF):
        (nak,) = _device(harness, M.SetLimits(100, 300, 1, 50, 30, max_on_ms, 250), 61 + max_on_ms % 7)
        assert isinstance(nak, M.Nak) and (nak.code, nak.detail) == (NakCode.LIMIT_EXCEEDED, 6)
    assert isinstance(_device(harness, M.SetLimits(100, 300, 1, 50, 30, hello.max_on_ms, 250), 70)[-1], M.Ack)


def test_output_stage_gets_currents_above_65_ma_and_fractional_rates(harness):
    """The porting layer carried µA in 16 bits (65.5 mA at most, hardware 120 mA) and whole Hz (33.3 -> 33)."""
    _device(harness, M.HelloRequest(2), 80)
    assert isinstance(_device(harness, M.SetConfig(80.0, 250.5, 33.3, 0, 0, 100, 0), 81)[-1], M.Ack)
    assert isinstance(_device(harness, M.Start(0, 0, 0), 82)[-1], M.Ack)
    current_ua, frequency_mhz, width_us = (int(v) for v in harness.ask("stim").split())
    assert (current_ua, frequency_mhz, width_us) == (80_000, 33_300, 250)
    _device(harness, M.Stop(0, 0), 83)
