"""``fes hil``, ``fes emulate`` and ``fes ports`` end to end."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

from fes_sim.cli import main
from firmware_bridge.emulator.process import EmulatorProcess
from tests.bridge_helpers import read_frame_log


def test_hil_host_passes_with_junit_and_frame_log(tmp_path, capsys):
    junit, log = tmp_path / "hil.xml", tmp_path / "frames.csv"
    code = main(["hil", "host", "--port", "fesemu://", "--duration-s", "5", "--junit", str(junit), "--log", str(log)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "stride" in out and "sample-to-command" in out and "PASS" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) >= 3
    rows = read_frame_log(log)
    assert {r[3] for r in rows} >= {"HELLO_REQUEST", "HELLO", "SENSOR_SAMPLE", "SET_ENVELOPE", "STOP"}


def test_hil_fails_with_exit_1_when_a_limit_is_not_met(tmp_path, capsys):
    junit = tmp_path / "hil.xml"
    code = main(["hil", "host", "--port", "fesemu://", "--duration-s", "0.5", "--p99-ms", "0.000001",
                 "--junit", str(junit)])
    assert code == 1
    assert "FAIL latency_p99" in capsys.readouterr().out
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert failures and "p99" in failures[0].get("message")


def test_hil_device_in_the_loop_per_burst_table(capsys):
    code = main(["hil", "device", "--port", "fesemu://", "--source", "synthetic", "--duration-s", "3"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "d_on_ms" in out and "PASS" in out


def test_hil_latency(capsys):
    code = main(["hil", "latency", "--port", "fesemu://", "--duration-s", "1", "--pings", "20",
                 "--p50-ms", "1000", "--p99-ms", "1000"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "round trip (ping)" in out


def test_hil_reports_a_vanished_port_with_exit_4(tmp_path, capsys):
    junit = tmp_path / "hil.xml"
    code = main(["hil", "host", "--port", "fesemu://?disconnect_after_s=0.8", "--duration-s", "5",
                 "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 4 and "vanished" in out
    assert ET.parse(junit).getroot().find(".//failure") is not None


def test_hil_bad_arguments_are_one_line_errors(capsys):
    assert main(["hil", "host", "--port", "fesemu://", "--rate", "5000"]) == 2
    assert "--rate" in capsys.readouterr().err
    assert main(["hil", "host", "--port", "/dev/no-such-port-fes"]) == 4
    assert "cannot open" in capsys.readouterr().err


def test_emulate_prints_the_device_path_and_serves():
    with EmulatorProcess("watchdog_ms=200") as emu:
        from firmware_bridge.link import open_link

        with open_link(emu.path) as link:
            assert link.device.watchdog_ms == 200
        assert emu.proc.poll() is None


def test_emulate_rejects_bad_options():
    proc = subprocess.run([sys.executable, "-m", "fes_sim", "emulate", "--pty", "--set", "watchdog_ms=5"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "watchdog_ms" in proc.stderr and proc.stdout == ""


def test_ports_lists_without_error(capsys):
    assert main(["ports", "--all"]) == 0
    assert capsys.readouterr().out.strip()


def test_hil_sample_timeout_is_an_option(capsys):
    """Samples 100 ms apart (10 Hz) end a run whose --sample-timeout-ms is 60 (the default, 250 ms, would wait)."""
    code = main(["hil", "host", "--port", "fesemu://", "--rate", "10", "--duration-s", "2", "--sample-timeout-ms", "60"])
    out = capsys.readouterr().out
    assert code == 3 and "no sample from the device for 60 ms" in out
    assert main(["hil", "host", "--port", "fesemu://", "--sample-timeout-ms", "0"]) == 2
    assert "--sample-timeout-ms" in capsys.readouterr().err
