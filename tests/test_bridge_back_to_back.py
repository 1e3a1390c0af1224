"""One back-to-back suite for every device: in-process emulator, emulator on a pty, real device.

The real device runs only with ``pytest --serial-port PORT``; the same tests
then exercise the board exactly as they exercise the emulator.
"""

from __future__ import annotations

import time

import pytest

from fes_sim.config import resolve
from firmware_bridge.emulator.sources import SyntheticSource
from firmware_bridge.errors import DeviceRefused
from firmware_bridge.hil import run_device_loop, run_host_loop
from firmware_bridge.link import open_link
from firmware_bridge.link.fes_link import FesLink
from firmware_bridge.protocol import (
    PROTOCOL_VERSION,
    Fault,
    FaultReport,
    NakCode,
    StimState,
    StimStateReport,
)
from firmware_bridge.emulator.process import EmulatorProcess


@pytest.fixture(params=["inproc", "pty", "serial"])
def port(request):
    """A port name with a device behind it."""
    if request.param == "inproc":
        yield "fesemu://"
    elif request.param == "pty":
        with EmulatorProcess() as emu:
            yield emu.path
    else:
        name = request.config.getoption("--serial-port")
        if not name:
            pytest.skip("no real device: give --serial-port PORT")
        yield name


def _drain(link, seconds):
    out, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        item = link.recv(left)
        if item is not None:
            out.append(item)
    return out


def test_hello(port):
    with open_link(port) as link:
        dev = link.device
        assert dev.protocol_version == PROTOCOL_VERSION
        assert dev.max_current_ma > 0 and dev.channels >= 1 and 10 <= dev.watchdog_ms <= 250


def test_out_of_range_config_is_refused(port):
    with open_link(port) as link:
        with pytest.raises(DeviceRefused) as err:
            link.configure(current_ma=link.device.max_current_ma * 2, pulse_width_us=100.0, frequency_hz=40.0)
        assert err.value.code == NakCode.LIMIT_EXCEEDED
        assert link.status().state == StimState.IDLE


def test_start_and_stop_report_transitions(port):
    with open_link(port) as link:
        link.configure(current_ma=10.0, pulse_width_us=200.0, frequency_hz=40.0)
        link.start(ramp_up_ms=20)
        time.sleep(0.1)
        link.stop(ramp_down_ms=0)
        states = [(r.message.prev_state, r.message.state) for r in _drain(link, 0.1)
                  if isinstance(r.message, StimStateReport)]
        assert states == [(StimState.IDLE, StimState.RAMP_UP), (StimState.RAMP_UP, StimState.ON),
                          (StimState.ON, StimState.IDLE)]
        assert link.status().pulses >= 3



def test_a_new_session_sees_no_frames_of_the_previous_one(port):
    """One device, two link sessions: frames the device sent before the second HELLO are not the new session's.

    After the first session closes, the device's watchdog (armed by its HELLO)
    fires with nobody listening. The second link is opened without handshake
    and waits, so that FAULT and STIM_STATE(FAULT) certainly arrive before its HELLO.
    """
    with FesLink.open(port) as first:
        first.configure(current_ma=10.0, pulse_width_us=200.0, frequency_hz=40.0)
    with FesLink.open(port, handshake=False) as link:
        time.sleep(0.5)  # > watchdog time-out: the device reports the fault to the new port
        link.hello()
        link.configure(current_ma=10.0, pulse_width_us=200.0, frequency_hz=40.0)
        link.start()
        time.sleep(0.05)
        link.stop()
        messages = [r.message for r in _drain(link, 0.1)]
    assert not any(isinstance(m, FaultReport) for m in messages), messages
    assert [(m.prev_state, m.state) for m in messages if isinstance(m, StimStateReport)] == [
        (StimState.IDLE, StimState.ON), (StimState.ON, StimState.IDLE)]
    if port != "fesemu://":  # the in-process emulator is a new device per link: nothing stale
        assert link.stats.stale_frames >= 2


def test_time_sync_round_trip(port):
    with open_link(port) as link:
        rtts = [link.ping().round_trip_s for _ in range(20)]
        assert min(rtts) < 0.02


def test_watchdog_stops_stimulation_when_heartbeats_stop(port):
    """Measured on device timestamps: output off within the time-out plus one 5 ms frame."""
    with FesLink.open(port, heartbeat_ms=0) as link:
        link.set_limits(max_current_ma=20.0, max_pulse_width_us=300.0, min_frequency_hz=link.device.min_frequency_hz,
                        max_frequency_hz=50.0, max_charge_uc=6.0, max_on_ms=5000, watchdog_ms=100)
        link.configure(current_ma=10.0, pulse_width_us=200.0, frequency_hz=40.0)
        link.start()
        _drain(link, 0.02)
        pong_rx = link.ping().device_rx_us  # the ping is the host's last frame
        reports = [r.message for r in _drain(link, 0.3)]
        off = [m for m in reports if isinstance(m, StimStateReport) and m.state == StimState.FAULT]
        fault = [m for m in reports if isinstance(m, FaultReport) and m.code == Fault.WATCHDOG]
        assert off and fault
        delay_ms = ((off[0].t_us - pong_rx) & 0xFFFFFFFF) / 1000
        assert 100 - 1 <= delay_ms <= 100 + 5


def test_host_in_the_loop_loses_no_samples(port):
    with open_link(port) as link:
        result = run_host_loop(link, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"), 200, 2.0)
    assert result.error is None and result.samples == 400 and result.lost_samples == 0 and not result.naks


def test_device_in_the_loop_matches_reference(port):
    source = SyntheticSource(200)
    with open_link(port) as link:
        result = run_device_loop(link, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"),
                                 source, 200, 4.0, tolerance_ms=5.0)
    assert result.error is None and result.bursts
    assert result.passed, result.checks()
