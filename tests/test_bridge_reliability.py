"""Reliability of the link and emulator: corrupted wires, heartbeat loss, a port that vanishes mid-run."""

from __future__ import annotations

import random
import time

import pytest

from fes_sim.config import resolve
from fes_sim.replay import load_recording
from fes_sim.recording import RecordingWriter
from firmware_bridge.errors import PortVanished
from firmware_bridge.framelog import FrameLog
from firmware_bridge.hil import run_host_loop
from firmware_bridge.link import open_link
from firmware_bridge.link.fes_link import FesLink
from firmware_bridge.protocol import SetEnvelope
from firmware_bridge.emulator.process import EmulatorProcess
from tests.bridge_helpers import read_frame_log

CORRUPT = "fesemu://?flip_per_byte=0.003&drop=0.02&duplicate=0.02&delay=0.02&delay_ms=5&seed=7"


def test_corrupted_wire_never_applies_a_wrong_command():
    """Thousands of envelope commands over a wire that flips bits, drops, duplicates and delays.

    Every applied SET_ENVELOPE must be one the host sent, unchanged; acknowledged
    commands still get through thanks to retries.
    """
    sent: dict[int, float] = {}
    applied: list[SetEnvelope] = []
    with FesLink.open(CORRUPT, request_timeout_s=0.05, retries=10) as link:
        link.port.emulator.device.on_apply = lambda t, m: applied.append(m) if isinstance(m, SetEnvelope) else None
        link.configure(current_ma=20.0, pulse_width_us=200.0, frequency_hz=40.0)
        for i in range(4000):
            env = (i % 129) / 128
            sent[i] = env
            link.set_envelope(env, ref_index=i)
            if i % 200 == 0:
                assert link.status().rx_frames > 0  # requests get through by retrying
        time.sleep(0.1)
        status = link.status()
        emu = link.port.emulator
    assert applied, "nothing got through"
    assert all(sent.get(m.ref_index) == m.envelope for m in applied)
    assert emu.faults_in.flipped_bits > 100 and emu.faults_in.dropped > 20
    assert status.rx_errors > 50



def _corrupt(wire: bytes, rng: random.Random) -> bytes:
    """``wire`` (one frame with its delimiter) damaged at random; the delimiter stays, so its neighbours stay intact."""
    damaged = wire
    # two flips of one bit, a byte deleted and put back, or a 0x00 inserted at either end would leave it intact
    while wire[:-1] in damaged.split(b"\x00"):
        damaged = _damage(wire, rng)
    return damaged


def _damage(wire: bytes, rng: random.Random) -> bytes:
    body = bytearray(wire[:-1])
    kind = rng.randrange(4)
    if kind == 0:  # 1 to 8 bit flips
        for _ in range(rng.randint(1, 8)):
            body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncated
        del body[rng.randrange(1, len(body)):]
    elif kind == 2:  # bytes lost or inserted
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.5 and len(body) > 1:
                del body[rng.randrange(len(body))]
            else:
                body.insert(rng.randrange(len(body) + 1), rng.randrange(256))
    else:  # replaced by garbage of a similar length
        body = bytearray(rng.randrange(256) for _ in range(rng.randint(1, 60)))
    return bytes(body) + b"\x00"


def test_corrupted_frames_through_the_device_logic_never_apply_a_wrong_command():
    """Reliability figure: >= 100,000 corrupted host frames through the emulator's DeviceLogic (fake clock).

    The host sends commands of every kind (envelope, start/stop, configuration,
    limits, parameters, mode changes, host samples), each made unique by its
    values; most reach the device damaged. Every frame the device applied
    (its ``on_apply`` observer) must be one sent intact, and the device must
    still answer at the end.
    """
    from firmware_bridge.emulator import DeviceLogic, EmulatorConfig
    from firmware_bridge.emulator.sources import SyntheticSource
    from firmware_bridge.protocol import (FrameDecoder, GetStatus, Heartbeat, HelloRequest, Mode, SetConfig, SetLimits,
                                          SetMode, SetParam, Start, Status, Stop, decode, encode)
    from firmware_bridge.protocol.params import BY_KEY
    from firmware_bridge.samples import to_host_sample

    rng = random.Random(11)
    applied: list[object] = []
    answers = FrameDecoder()
    got: list[object] = []
    dev = DeviceLogic(EmulatorConfig(), lambda b: got.extend(p.message for p in answers.feed(b)),
                      on_apply=lambda t, m: applied.append(m))
    walk = SyntheticSource(200)
    delay = BY_KEY["stimulation.delay_ms"].param_id

    def command(i: int) -> object:
        k = i % 10
        if k == 0:
            return SetConfig(10.0 + (i % 997) * 0.01, 200.0, 40.0, 20, 20, 50, 0)
        if k == 1:
            return SetLimits(80.0 + (i % 997) * 0.01, 300.0, 1.0, 50.0, 30.0, 5000, 250)
        if k == 2:
            return Start(i % 1000, i % 200, 0)
        if k == 3:
            return Stop(i % 200, 0)
        if k == 4:
            return SetParam((i % 2000) * 0.5, delay)
        if k == 5:
            return SetMode(200, int(Mode.DEVICE_LOOP if i % 20 == 5 else Mode.COMMAND))
        if k in (6, 7):
            return to_host_sample(i, i * 5000, walk.step(0.0, 0.0, 0.0))
        if k == 8:
            return SetEnvelope(i, (i % 101) / 100)
        return Heartbeat(i)

    t, seq, intact, corrupted = 0.0, 0, [], 0
    dev.receive(encode(HelloRequest(2), 0), t)
    chunk = bytearray()
    for i in range(125_000):
        msg = command(i)
        seq = (seq + 1) & 0xFFFF
        wire = encode(msg, seq)
        if rng.random() < 0.85:
            chunk += _corrupt(wire, rng)
            corrupted += 1
        else:
            chunk += wire
            intact.append(decode(wire).message)  # as the device reads it: floats in binary32
        if len(chunk) > 512:
            t += 0.002
            dev.receive(bytes(chunk), t)
            dev.tick(t)
            chunk.clear()
    dev.receive(bytes(chunk) + encode(GetStatus(), (seq + 1) & 0xFFFF), t + 0.001)
    intact.append(GetStatus())
    sent = set(intact)
    wrong = [m for m in applied if m not in sent]
    assert corrupted >= 100_000 and not wrong, wrong[:3]
    assert len(applied) >= 0.5 * len(intact)  # the intact frames still get through (some are refused)
    assert isinstance(got[-1], Status) and got[-1].rx_errors > 0.9 * corrupted  # and the device still answers


def test_heartbeat_loss_stops_stimulation_within_timeout_plus_one_frame():
    with FesLink.open("fesemu://", heartbeat_ms=0) as link:
        link.set_limits(max_current_ma=20.0, max_pulse_width_us=300.0, min_frequency_hz=1.0, max_frequency_hz=50.0,
                        max_charge_uc=6.0, max_on_ms=5000, watchdog_ms=250)
        link.configure(current_ma=10.0, pulse_width_us=200.0, frequency_hz=40.0)
        link.set_envelope(1.0)
        last = link.ping()
        device = link.port.emulator.device
        assert device.output_on
        time.sleep(0.4)
        assert not device.output_on
        off_us = next(r.message.t_us for r in iter(lambda: link.recv(0.05), None)
                      if type(r.message).__name__ == "StimStateReport" and r.message.state == 6)
    assert 250 <= (off_us - last.device_rx_us) / 1000 <= 255


@pytest.mark.slow
def test_port_vanishing_mid_run_is_reported_fast_and_outputs_stay_intact(tmp_path):
    """The emulator process drops its pty 1.5 s into a host-in-the-loop run."""
    log_path, rec_path = tmp_path / "frames.csv", tmp_path / "run.csv"
    with EmulatorProcess("disconnect_after_s=1.5") as emu:
        link = open_link(emu.path, frame_log=FrameLog(log_path))
        recorder = RecordingWriter(rec_path, {"sample_rate_hz": 200}, with_truth=False)
        try:
            result = run_host_loop(link, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"),
                                   200, 10.0, recorder=recorder)
            returned_s = link.clock()
        finally:
            recorder.close()
            link.close()
    assert isinstance(result.error, PortVanished)
    rows = read_frame_log(log_path)
    last_rx = max(float(r[0]) for r in rows if r[1] == "rx")
    assert returned_s - last_rx < 0.1
    assert any(r[1] == "note" and "vanished" in r[5] for r in rows)
    assert all(len(r) == 6 for r in rows)
    rec = load_recording(rec_path)
    assert len(rec.t_s) == result.samples > 100
