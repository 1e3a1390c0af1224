"""The viewer window under pytest-qt, offscreen: opens, data flows, knobs retune, pause, files, CLI."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("pyqtgraph", reason="the viewer needs the gui extra")

from fes_sim.cli import main  # noqa: E402
from fes_sim.config import resolve  # noqa: E402
from fes_sim.config.schema import load_toml  # noqa: E402
from fes_sim.control.config import ControllerConfig  # noqa: E402
from fes_sim.viewer.buffer import ViewerBuffer, make_row  # noqa: E402
from fes_sim.viewer.panels import EVENT_ROWS, TRUTH_OFFSET  # noqa: E402
from fes_sim.viewer.replay_source import ReplaySource  # noqa: E402
from fes_sim.viewer.sim_source import SimulationSource  # noqa: E402
from fes_sim.viewer.tuning import Tuning  # noqa: E402
from fes_sim.viewer.window import ViewerWindow  # noqa: E402
from viewer_helpers import write_winter_walk  # noqa: E402

CONTROLLER = resolve("controller", "walkaide_tilt")
STIMULATOR = resolve("stimulator", "default")


@pytest.fixture
def sim_window(qtbot):
    walker = resolve("walker", "drop_foot_severe")
    source = SimulationSource(ViewerBuffer(), walker, CONTROLLER, STIMULATOR, speed=4.0)
    window = ViewerWindow(source, Tuning(CONTROLLER, STIMULATOR, walker), fps=30)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


def test_window_opens_and_simulation_data_flows(sim_window, qtbot) -> None:
    w = sim_window
    qtbot.waitUntil(lambda: "steps/min" in w.status_label.text(), timeout=20000)  # cadence needs two strides
    assert w.frames_drawn > 5
    text = w.status_label.text()
    assert text.startswith("simulation") and "strides" in text
    x_data, _ = w.panels.toe.points()
    assert len(x_data) > 100
    assert len(w.leg.shank.points()[0]) == 2  # the leg is drawn
    assert w.leg.note.toPlainText() == "" and w.leg.thigh.path().length() > 0  # the simulation knows the whole leg


def test_knob_retunes_the_running_controller_within_a_stride(sim_window, qtbot) -> None:
    w = sim_window
    buf = w.source.buffer
    # request in the middle of a burst (the worst case: it waits for the burst to end) ...
    qtbot.waitUntil(lambda: buf.snapshot(0.1).latest("envelope") > 0.5, timeout=20000)
    w.set_paused(True)  # ... at a known sample time: the source thread takes the request before its next sample
    qtbot.wait(100)
    t_request = buf.snapshot().t_now_s
    w.controls.set_value("stimulation.current_ma", 44.0)
    assert w.tuning.controller.stimulation.current_ma == 44.0
    w.set_paused(False)
    stride_s = w.tuning.walker.stride_s

    def stimulated() -> tuple[np.ndarray, np.ndarray]:
        s = buf.snapshot().samples
        on = (s["t_s"] > t_request) & (s["envelope"] > 0.0)
        return s["t_s"][on], s["current_ma"][on]

    qtbot.waitUntil(lambda: (stimulated()[1] == 44.0).any() and stimulated()[0][-1] > t_request + 1.5 * stride_s, timeout=20000)
    t_on, current_ma = stimulated()
    t_first = t_on[np.argmax(current_ma == 44.0)]
    assert t_first - t_request <= stride_s  # in sample time: the first output at the new current within one stride
    assert (current_ma[t_on >= t_first] == 44.0).all()  # and from then on


def _walked_window(qtbot, controller, seconds: float = 12.0) -> ViewerWindow:
    """A window (not shown, so its source thread never starts) over ``seconds`` of the severe walker, stepped here."""
    source = SimulationSource(ViewerBuffer(), resolve("walker", "drop_foot_severe"), controller, STIMULATOR)
    source._open()
    for _ in range(int(seconds * source.sample_rate_hz)):
        source._advance()
    source._flush()
    window = ViewerWindow(source, Tuning(controller, STIMULATOR))
    qtbot.addWidget(window)
    assert window.refresh()
    return window


def test_panels_draw_thresholds_events_mtc_and_toe_drags(qtbot) -> None:
    w = _walked_window(qtbot, resolve("controller", "off"))  # no stimulation: the toes drag
    P, snap = w.panels, w.source.buffer.snapshot(w.panels.window_s)
    s = snap.samples
    t_now = snap.t_now_s
    assert all(g.pos().x() == -t_now for g in P.groups.values())  # newest sample at x = 0 in every panel
    np.testing.assert_array_equal(P.threshold.points()[1], s["threshold_deg"])
    assert np.isfinite(s["threshold_deg"]).all()
    hysteresis = w.tuning.controller.tilt.hysteresis_deg
    np.testing.assert_allclose(P.release.points()[1], s["threshold_deg"] - hysteresis)
    # event markers: detected on their rows, ground truth just below
    assert snap.detected and snap.truth
    assert P.detected.points() == ([t for t, _ in snap.detected], [EVENT_ROWS[ev][0] for _, ev in snap.detected])
    assert P.truth.points() == ([t for t, _ in snap.truth], [EVENT_ROWS[ev][0] + TRUTH_OFFSET for _, ev in snap.truth])
    shown = [item for item in P.detected._items if item.isVisible()]
    assert len(shown) == len(snap.detected) and all(item.scene() is P.scene() for item in shown)
    # MTC diamonds and toe-drag regions, from the plant's strides
    strides = [m for m in snap.strides if np.isfinite(m.mtc_mm)]
    assert len(strides) >= 3
    assert P.mtc.points() == ([m.t_mtc_s for m in strides], [m.mtc_mm for m in strides])
    drags = [(m.t_start_s, m.t_end_s) for m in snap.strides if m.toe_drag]
    assert drags and P.drag_spans == drags
    band = P.drags.path().boundingRect()
    assert band.left() == pytest.approx(drags[0][0]) and band.right() == pytest.approx(drags[-1][1])
    assert band.top() < 0.0 < band.bottom()  # across the floor line


def test_y_ranges_cover_the_data_with_minimum_spans_and_a_key_names_the_markers(qtbot) -> None:
    w = _walked_window(qtbot, resolve("controller", "off"))
    data = {"tilt": ("true_tilt_deg", "tilt_est_deg"), "gyro": ("gyr_z_dps",), "ankle": ("ankle_deg",), "toe": ("toe_height_mm",)}

    def assert_covered() -> None:
        s = w.source.buffer.snapshot(w.panels.window_s).samples
        for panel, channels in data.items():
            lo, hi = w.panels.plots[panel].getViewBox().viewRange()[1]
            values = np.concatenate([s[c] for c in channels])
            assert lo <= np.nanmin(values) and np.nanmax(values) <= hi, panel
            assert hi - lo >= w.panels.ranges[panel].min_span - 1e-9, panel

    assert_covered()
    lo, hi = w.panels.plots["stim"].getViewBox().viewRange()[1]
    assert -0.15 * (hi - lo) < lo <= 0.0  # no current: 0 mA near the bottom, not mid-panel
    t = w.source.buffer.snapshot().t_now_s
    # an ankle far into plantarflexion (a contracture, no stimulation): the old fixed range (-35..25 deg) clipped it
    w.source.buffer.push([make_row({"t_s": t + 0.005, "ankle_deg": -48.0}), make_row({"t_s": t + 0.01, "ankle_deg": 31.0})])
    w.refresh()
    assert_covered()
    key = w.panels.key.text
    assert "detected event (filled)" in key and "ground truth (open)" in key and "heel-off threshold" in key


def test_values_beyond_the_safety_limits_cannot_be_entered(sim_window) -> None:
    w = sim_window
    box = w.controls.boxes["stimulation.current_ma"]
    w.controls.set_value("stimulation.pulse_width_us", 350.0)
    limit_ma = STIMULATOR.max_charge_per_phase_uc / 350e-3  # charge per phase binds first: 100 mA
    assert box.maximum() <= min(STIMULATOR.max_current_ma, limit_ma) + 1e-9
    w.controls.set_value("stimulation.current_ma", 500.0)
    assert w.tuning.controller.stimulation.current_ma == box.maximum()
    assert w.controls.boxes["stimulation.frequency_hz"].maximum() <= STIMULATOR.max_frequency_hz


def test_walker_speed_knob_quickens_the_steps(sim_window, qtbot) -> None:
    w = sim_window  # severe drop foot: 0.7 m/s at 90 steps/min, strides of 1.33 s
    buf = w.source.buffer
    qtbot.waitUntil(lambda: buf.snapshot().stride_count >= 4, timeout=20000)
    before = buf.snapshot()
    w.controls.set_value("speed_mps", 1.2)
    qtbot.waitUntil(lambda: buf.snapshot().stride_count >= before.stride_count + 6, timeout=20000)
    # the plant takes a new walker at its next block (< 1 s) and blends over 0.3 s: judge the strides after that
    ends = [m.t_end_s for m in buf.snapshot().strides if m.t_end_s > before.t_now_s + 2.0]
    old_stride_s = float(np.median(np.diff([m.t_end_s for m in before.strides])))
    new_stride_s = float(np.median(np.diff(ends)))
    assert new_stride_s == pytest.approx(old_stride_s * math.sqrt(0.7 / 1.2), rel=0.1)  # the walk ratio kept
    assert w.source.walker.speed_mps == 1.2 and buf.snapshot().t_now_s > before.t_now_s  # the time axis carries on


def test_pause_resume_and_single_step(sim_window, qtbot) -> None:
    w = sim_window
    buf = w.source.buffer
    qtbot.waitUntil(lambda: buf.samples_written > 20, timeout=10000)
    w.pause_button.click()
    assert w.source.paused and w.step_button.isEnabled()
    qtbot.wait(150)
    n = buf.samples_written
    qtbot.wait(300)
    assert buf.samples_written == n
    w.step_button.click()
    qtbot.waitUntil(lambda: buf.samples_written == n + 1, timeout=5000)
    strides = buf.snapshot().stride_count
    w.stride_button.click()  # to the end of the next stride, then still paused
    qtbot.waitUntil(lambda: buf.snapshot().stride_count == strides + 1, timeout=10000)
    m = buf.samples_written
    assert n + 1 < m <= n + 1 + 5 * 200
    qtbot.wait(300)
    assert buf.samples_written == m and buf.snapshot().stride_count == strides + 1
    w.pause_button.click()
    assert not w.source.paused
    qtbot.waitUntil(lambda: buf.samples_written > n + 20, timeout=5000)


def test_screenshot_and_settings_are_written(sim_window, qtbot, tmp_path) -> None:
    w = sim_window
    qtbot.waitUntil(lambda: w.frames_drawn > 3, timeout=10000)
    png = w.save_screenshot(tmp_path / "view.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    w.controls.set_value("stimulation.extension_ms", 160.0)
    saved = load_toml(ControllerConfig, w.save_settings(tmp_path / "tuned.toml"))
    assert saved == w.tuning.controller and saved.stimulation.extension_ms == 160.0


def test_replay_source_in_the_window(qtbot, tmp_path) -> None:
    path = write_winter_walk(tmp_path, duration_s=6.0)
    source = ReplaySource(ViewerBuffer(), path, CONTROLLER, STIMULATOR, speed=10.0)
    window = ViewerWindow(source, Tuning(CONTROLLER, STIMULATOR))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: source.finished, timeout=15000)
    qtbot.waitUntil(lambda: "ENDED" in window.status_label.text(), timeout=5000)
    assert "speed_mps" not in window.controls.boxes  # no walker to tune in a recording
    assert window.source.buffer.snapshot().stride_count >= 4
    _assert_foot_drawn_flat_on_the_floor(window)
    window.close()


def _assert_foot_drawn_flat_on_the_floor(window) -> None:
    """A source without knee angle and foot pitch: shank stands on a flat foot on the floor, and a note says so."""
    note = window.leg.note.toPlainText()
    assert "thigh" in note and "foot" in note
    _, foot_y = window.leg.foot.points()
    assert np.nanmin(foot_y) == pytest.approx(0.0, abs=1e-9)  # heel and toe on the floor line
    assert window.leg.shank.points()[1].min() == pytest.approx(window.leg.geometry.sole_below_ankle_m)
    assert window.leg.thigh.path().length() == 0  # no hip: no thigh line


def test_cli_rejects_bad_arguments_and_a_missing_gui_extra(capsys, monkeypatch) -> None:
    assert main(["view", "--speed", "0"]) == 2
    assert "--speed" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "pyqtgraph", None)
    monkeypatch.setitem(sys.modules, "pyqtgraph.Qt", None)
    assert main(["view"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install '.[gui]'" in err


def test_cli_writes_a_screenshot_and_quits(tmp_path, capsys) -> None:
    out = tmp_path / "cli.png"
    assert main(["view", "--speed", "4", "--screenshot", str(out), "--quit-after-s", "1.5"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_hil_source_on_the_device_emulator(qtbot) -> None:
    pytest.importorskip("firmware_bridge.link")
    from fes_sim.viewer.hil_source import HilSource

    source = HilSource(ViewerBuffer(), "fesemu://", CONTROLLER, STIMULATOR)
    window = ViewerWindow(source, None)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: source.buffer.samples_written > 200, timeout=15000)
    qtbot.waitUntil(lambda: "link rx" in window.status_label.text(), timeout=5000)
    assert "lost samples 0" in window.status_label.text()
    # strides from detected heel strikes; several in a row, so the device's time stamps
    # never looked like a broken clock to the host's sensor monitor
    qtbot.waitUntil(lambda: source.buffer.snapshot().stride_count >= 3, timeout=10000)
    assert "time" not in source.device.pipeline.out.faults
    assert not window.step_button.isEnabled()
    window.pause_button.click()
    qtbot.wait(200)
    n = source.buffer.samples_written
    qtbot.wait(300)
    assert source.buffer.samples_written == n  # display frozen ...
    assert source.link.stats.rx_frames > n  # ... while the host keeps answering the device
    _assert_foot_drawn_flat_on_the_floor(window)
    window.close()
    assert source.link.closed and source.error is None
