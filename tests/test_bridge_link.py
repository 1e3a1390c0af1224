"""Link layer: backend registry, opening, requests, time-outs, closing."""

from __future__ import annotations

import pytest
import serial

from firmware_bridge.errors import BackendError, BridgeError, LinkClosed, LinkTimeout, PortVanished
from firmware_bridge.link import BACKENDS, backend_class, open_link, register_backend, split_target
from firmware_bridge.link.fes_link import FesLink
from firmware_bridge.protocol import Mode, SetMode, Stop


def test_backend_names_and_prefixes():
    assert split_target("/dev/ttyACM0") == ("fes", "/dev/ttyACM0")
    assert split_target("fes::loop://") == ("fes", "loop://")
    assert split_target("COM5", backend="fes") == ("fes", "COM5")
    assert split_target("unknown::x") == ("fes", "unknown::x")
    with pytest.raises(BackendError, match="names backend"):
        split_target("fes::x", backend="other")
    assert backend_class("fes") is FesLink


def test_unknown_and_broken_backends_give_clear_errors(monkeypatch):
    with pytest.raises(BackendError, match="unknown link backend 'sciencemode'"):
        open_link("/dev/null", backend="sciencemode")
    monkeypatch.setitem(BACKENDS, "broken", "no_such_module_xyz:Link")
    with pytest.raises(BackendError, match="cannot be loaded"):
        backend_class("broken")
    with pytest.raises(BackendError, match="package.module:Class"):
        register_backend("bad", "nocolon")
    monkeypatch.setitem(BACKENDS, "notalink", "serial:Serial")
    with pytest.raises(BackendError, match="not a Link"):
        backend_class("notalink")



def test_backends_declared_by_installed_packages_are_found_lazily(tmp_path, monkeypatch):
    """An installed package's entry point in group firmware_bridge.backends is a backend, imported when chosen;
    a broken one breaks nothing until it is chosen, and then gives one clear error."""
    from firmware_bridge.link import ENTRY_POINT_GROUP, available_backends

    dist = tmp_path / "fesplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fesplug\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nloopstim = fesplug_ok:LoopStim\nbroken = fesplug_broken:Link\n")
    (tmp_path / "fesplug_ok.py").write_text(
        "from firmware_bridge.link.fes_link import FesLink\n\nclass LoopStim(FesLink):\n    backend_name = 'loopstim'\n")
    (tmp_path / "fesplug_broken.py").write_text("raise RuntimeError('driver DLL not found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import sys

    assert {"fes", "loopstim", "broken"} <= set(available_backends())
    assert "fesplug_ok" not in sys.modules and "fesplug_broken" not in sys.modules  # nothing imported yet
    assert split_target("loopstim::fesemu://") == ("loopstim", "fesemu://")
    with open_link("loopstim::fesemu://") as link:
        assert type(link).__name__ == "LoopStim" and link.device.protocol_version >= 1
    with pytest.raises(BackendError, match="'broken' cannot be loaded.*driver DLL not found"):
        open_link("fesemu://", backend="broken")
    monkeypatch.setitem(BACKENDS, "loopstim", "firmware_bridge.link.fes_link:FesLink")  # registered wins
    assert backend_class("loopstim") is FesLink


def test_fesemu_is_a_pyserial_url():
    import firmware_bridge  # noqa: F401 - registers the URL handler

    port = serial.serial_for_url("fesemu://?watchdog_ms=100", timeout=0.1)
    try:
        assert port.is_open and port.emulator.config.watchdog_ms == 100
    finally:
        port.close()
    with pytest.raises(serial.SerialException, match="watchdog_ms"):
        serial.serial_for_url("fesemu://?watchdog_ms=5")


def test_port_that_cannot_open_is_reported():
    with pytest.raises(PortVanished) as err:
        open_link("/dev/does-not-exist-fes")
    assert err.value.exit_code == 4


def test_silent_device_times_out_after_retries():
    """loop:// echoes our own frames back: nobody answers HELLO."""
    with pytest.raises(LinkTimeout) as err:
        FesLink.open("loop://", request_timeout_s=0.02, retries=2, hello_timeout_s=0.06)
    assert isinstance(err.value, TimeoutError) and "3 attempts" in str(err.value)


def test_close_is_idempotent_and_stops_stimulation_first():
    applied = []
    link = open_link("fesemu://")
    link.port.emulator.device.on_apply = lambda t, m: applied.append(m)
    link.configure(current_ma=10.0, pulse_width_us=200.0, frequency_hz=40.0)
    link.start()
    device = link.port.emulator.device
    assert device.output_on
    link.close()
    link.close()
    assert isinstance(applied[-2], Stop) and isinstance(applied[-1], SetMode) and applied[-1].mode == Mode.COMMAND
    assert not device.output_on
    assert link.closed
    with pytest.raises(LinkClosed):
        link.status()


def test_context_manager_closes():
    with open_link("fesemu://") as link:
        assert link.status().rx_frames >= 1
    assert link.closed


def test_requests_survive_a_lossy_wire_by_retrying():
    with FesLink.open("fesemu://?drop=0.3&seed=11", request_timeout_s=0.03, retries=20) as link:
        for _ in range(30):
            link.status()
        assert link.stats.retries > 0


def test_vanished_port_wakes_waiting_callers():
    link = open_link("fesemu://?disconnect_after_s=0.3")
    with pytest.raises(PortVanished):
        while True:
            link.recv(1.0)
    with pytest.raises(PortVanished):
        link.status()
    link.close()
    assert isinstance(link.failure, BridgeError)
