"""Reliability of the link and emulator: corrupted wires, heartbeat loss, a port that vanishes mid-run."""

from __future__ import annotations

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
