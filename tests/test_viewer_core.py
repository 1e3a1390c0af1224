"""The viewer's Qt-free parts: ring buffer, safe tuning ranges, leg geometry, cadence, sources."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from fes_sim.config import resolve
from fes_sim.config.schema import load_toml
from fes_sim.control.config import ControllerConfig
from fes_sim.errors import ConfigError, SafetyLimitError
from fes_sim.samples import GaitEvent, ShankSample
from fes_sim.viewer.buffer import CHANNELS, COLUMN, StrideMark, ViewerBuffer, make_row
from fes_sim.viewer.leg import LegGeometry, leg_points
from fes_sim.viewer.plot_data import SteadyRange, corner_indices, finite_bounds
from fes_sim.viewer.replay_source import ReplaySource
from fes_sim.viewer.retune import RetunablePipeline
from fes_sim.viewer.status import cadence_steps_per_min
from fes_sim.viewer.strides import HeelStrikeStrides, swing_clearance
from fes_sim.viewer.tuning import Knob, Tuning, replace_path
from viewer_helpers import STRIDE_S, write_winter_walk


def _rows(t: np.ndarray) -> np.ndarray:
    rows = np.full((t.size, len(CHANNELS)), np.nan)
    rows[:, COLUMN["t_s"]] = t
    rows[:, COLUMN["envelope"]] = t * 10
    return rows


def test_ring_buffer_keeps_the_newest_samples_in_order_across_wraps() -> None:
    buf = ViewerBuffer(capacity=100)
    t = np.arange(250) * 0.01
    for chunk in np.array_split(t, 17):
        buf.push(_rows(chunk))
    snap = buf.snapshot()
    assert buf.samples_written == 250
    np.testing.assert_allclose(snap.samples["t_s"], t[-100:])
    np.testing.assert_allclose(snap.samples["envelope"], t[-100:] * 10)
    window = buf.snapshot(window_s=0.195)
    np.testing.assert_allclose(window.samples["t_s"], t[-20:])


def test_ring_buffer_logs_events_strides_and_versions() -> None:
    buf = ViewerBuffer(capacity=10)
    v0 = buf.version
    buf.push([make_row({"t_s": 1.0})], detected=[(1.0, GaitEvent.HEEL_OFF)], strides=[StrideMark(0.4, 1.0, 0.7, 12.0, False)])
    snap = buf.snapshot()
    assert snap.version > v0
    assert snap.detected == [(1.0, GaitEvent.HEEL_OFF)]
    assert snap.stride_count == 1
    assert math.isnan(snap.latest("ankle_deg"))
    buf.clear()
    assert buf.snapshot().stride_count == 0 and buf.samples_written == 0


def test_window_snapshot_copies_only_the_window_and_its_marks() -> None:
    buf = ViewerBuffer(capacity=500)
    t = np.arange(450) * 0.01  # wraps the ring once 500 rows are written
    buf.push(_rows(t[:300]), detected=[(0.5, GaitEvent.HEEL_OFF)], strides=[StrideMark(0.2, 0.9, 0.5, 10.0, False)])
    marks = buf.marks_version
    buf.push(_rows(t[300:]))
    assert buf.marks_version == marks  # samples alone do not redraw the markers
    buf.push(_rows(t[-1:] + 0.01), detected=[(4.4, GaitEvent.TOE_OFF)], strides=[StrideMark(3.9, 4.45, 4.2, 8.0, True)])
    assert buf.marks_version > marks
    snap = buf.snapshot(window_s=1.0)
    np.testing.assert_allclose(snap.samples["t_s"], np.arange(350, 451) * 0.01)
    assert snap.detected == [(4.4, GaitEvent.TOE_OFF)] and [m.t_end_s for m in snap.strides] == [4.45]
    assert snap.stride_count == 2 and len(buf.snapshot().detected) == 2  # no window: the whole log


def test_steady_range_covers_the_data_with_a_minimum_span_and_seldom_moves() -> None:
    r = SteadyRange(min_span=40.0)
    lo, hi = r.fit(-20.0, 50.0)
    assert lo < -20.0 and hi > 50.0
    assert r.fit(-10.0, 45.0) is None  # still covered: the axis stays still
    lo, hi = r.fit(-30.0, 45.0)  # the data left the range: it grows
    assert lo < -30.0
    assert r.fit(0.0, 1.0) is None  # a little too tall is fine
    r.fit(-200.0, 200.0)
    assert r.fit(0.0, 1.0) is not None  # far too tall for this data: it shrinks ...
    assert r.hi - r.lo == pytest.approx(40.0)  # ... to the minimum span
    assert r.lo < 0.0 and r.hi > 1.0
    assert r.fit(math.nan, math.nan) is None


def test_finite_bounds_skip_nan_and_empty_arrays() -> None:
    assert finite_bounds(np.array([np.nan, 2.0, -1.0]), np.array([]), np.array([5.0])) == (-1.0, 5.0)
    assert all(math.isnan(v) for v in finite_bounds(np.array([np.nan])))


def test_corner_indices_keep_a_stimulation_envelope_exactly() -> None:
    t = np.arange(400) * 0.005
    envelope = np.interp(t, [0.0, 0.3, 0.38, 0.9, 0.98, 1.99], [0.0, 0.0, 30.0, 30.0, 0.0, 0.0])
    keep = corner_indices(envelope, 1e-6)
    assert keep.size <= 8  # two ramps: a handful of points instead of 400
    np.testing.assert_allclose(np.interp(t, t[keep], envelope[keep]), envelope, atol=1e-6)


def _tuning(**limits: float) -> Tuning:
    return Tuning(resolve("controller", "walkaide_tilt"), resolve("stimulator", "default").replace(**limits))


def test_current_bound_follows_the_charge_limit_and_pulse_width() -> None:
    tuning = _tuning(max_charge_per_phase_uc=10.0)
    current = Knob("controller", "stimulation.current_ma", "current")
    width = Knob("controller", "stimulation.pulse_width_us", "pulse width", 0)
    tuning.set(current, 20.0)
    assert tuning.bounds(current)[1] == pytest.approx(40.0, abs=0.1)  # 10 uC / 250 us
    tuning.set(width, 200.0)
    assert tuning.bounds(current)[1] == pytest.approx(50.0, abs=0.1)
    with pytest.raises(ConfigError, match="exceeds the stimulator's max_charge_per_phase_uc 10"):
        tuning.set(current, 50.5)
    assert tuning.value(current) == 20.0


def test_ramps_cannot_exceed_the_maximum_on_time() -> None:
    tuning = _tuning()
    ramp_up = Knob("controller", "stimulation.ramp_up_ms", "ramp up", 0)
    hi = tuning.bounds(ramp_up)[1]
    stim = tuning.controller.stimulation
    assert (hi + stim.ramp_down_ms) * 1e-3 < stim.max_on_time_s
    tuning.set(ramp_up, hi)
    with pytest.raises(ConfigError):
        tuning.set(ramp_up, hi + 1.0)


def test_knobs_follow_the_detector_and_walker_knobs_exist() -> None:
    gyro = Tuning(resolve("controller", "shank_gyro"), resolve("stimulator", "default"), resolve("walker", "healthy"))
    paths = [k.path for k in gyro.knobs()]
    assert "gyro.heel_off_rotation_fraction" in paths and "tilt.heel_off_fraction" not in paths
    assert {"speed_mps", "drop_foot_severity", "stimulation.extension_ms"} <= set(paths)
    assert all(gyro.unit(k) for k in gyro.knobs() if k.path.endswith(("_ms", "_ma", "_us", "_hz", "_mps")))


#: a value for each detector knob that must change the detected events of an ordinary stride
KNOB_PROBES = {
    "tilt.heel_off_fraction": 0.7,
    "tilt.toe_off_lag_ms": 80.0,
    "tilt.heel_strike_lag_ms": 60.0,
    "gyro.heel_off_rotation_fraction": 0.75,
    "gyro.toe_off_lag_ms": 60.0,
    "gyro.heel_strike_rate_dps": 100.0,
    "gyro.heel_strike_lag_ms": 60.0,
    "footswitch.debounce_ms": 0.0,
}


@pytest.fixture(scope="module")
def mild_walk() -> tuple[list[ShankSample], float]:
    """12 s of the mild drop-foot walker's shank sensor (IMU, tilt and heel switch, as the viewer simulates it)."""
    import copy

    from fes_sim.plant import WalkingPlant
    from fes_sim.viewer.sim_source import SENSOR

    walker = resolve("walker", "drop_foot_mild")
    plant = WalkingPlant(walker, sensor=SENSOR)
    samples = [copy.copy(plant.reset(1))] + [copy.copy(plant.step(0.0, 0.0, 0.0)) for _ in range(12 * 200)]
    return samples, walker.stride_s


@pytest.mark.parametrize("preset", ["walkaide_tilt", "shank_gyro", "heel_switch"])
def test_each_detector_knob_changes_detection_within_a_stride(preset, mild_walk) -> None:
    samples, stride_s = mild_walk
    controller, stimulator = resolve("controller", preset), resolve("stimulator", "default")
    knobs = [k for k in Tuning(controller, stimulator).knobs() if k.path.startswith(controller.detector + ".")]
    assert knobs and {k.path for k in knobs} <= set(KNOB_PROBES)  # a new knob needs its probe here
    for knob in knobs:
        tuned = Tuning(controller, stimulator).set(knob, KNOB_PROBES[knob.path])
        base, retuned = RetunablePipeline(controller, stimulator, 200.0), RetunablePipeline(controller, stimulator, 200.0)
        events: tuple[list, list] = ([], [])
        t_request = math.nan
        for s in samples:
            for log, device in zip(events, (base, retuned)):
                out = device.pipeline.update(s)
                if out.event:
                    log.append((s.t_s, GaitEvent(out.event)))
            if math.isnan(t_request) and s.t_s > 6.0 and events[0] and events[0][-1] == (s.t_s, GaitEvent.HEEL_STRIKE):
                t_request = s.t_s  # a stride starts: retune as the knob would
                retuned.request(tuned)
        stride = [[e for e in log if t_request < e[0] <= t_request + stride_s] for log in events]
        assert len(stride[0]) >= 2, knob.path
        assert stride[1] != stride[0], f"{knob.path} = {KNOB_PROBES[knob.path]} changed nothing within a stride"


def test_speed_knob_moves_the_cadence_with_it_at_the_walkers_walk_ratio() -> None:
    severe = resolve("walker", "drop_foot_severe")  # 0.7 m/s at a set 90 steps/min
    tuning = Tuning(resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"), severe)
    speed = next(k for k in tuning.knobs() if k.path == "speed_mps")
    faster = tuning.set(speed, 1.2)
    assert faster.cadence_spm == pytest.approx(90.0 * math.sqrt(1.2 / 0.7))
    step_length = lambda w: w.speed_mps * 60.0 / w.cadence_spm  # noqa: E731
    assert step_length(faster) / faster.cadence_spm == pytest.approx(step_length(severe) / severe.cadence_spm)
    assert tuning.set(speed, 2.2).cadence_spm <= 160.0  # kept in the field's range
    healthy = Tuning(tuning.controller, tuning.stimulator, resolve("walker", "healthy"))
    assert healthy.set(speed, 1.0).cadence_spm == 0.0  # cadence already follows speed


def test_replace_path_rebuilds_nested_configs_with_checks() -> None:
    c = resolve("controller", "walkaide_tilt")
    assert replace_path(c, "tilt.hysteresis_deg", 7.0).tilt.hysteresis_deg == 7.0
    with pytest.raises(ConfigError, match="hysteresis_deg"):
        replace_path(c, "tilt.hysteresis_deg", 99.0)


def test_leg_points_keep_segment_lengths_and_put_the_toe_at_its_height() -> None:
    g = LegGeometry.for_height(1.75)
    pts = leg_points(g, shank_tilt_deg=30.0, knee_deg=50.0, foot_pitch_deg=-20.0, toe_height_mm=15.0)
    hip, knee, ankle, heel, toe = pts[:5]
    assert np.linalg.norm(knee - hip) == pytest.approx(g.thigh_m)
    assert np.linalg.norm(ankle - knee) == pytest.approx(g.shank_m)
    assert toe[1] == pytest.approx(0.015)
    assert knee[0] > ankle[0]  # positive tilt: knee ahead of the ankle
    # thigh from the downward vertical = knee flexion - tilt = 20 deg, knee ahead of the hip
    assert math.degrees(math.atan2(knee[0] - hip[0], hip[1] - knee[1])) == pytest.approx(20.0)
    no_knee = leg_points(g, 25.0)
    assert np.isnan(no_knee[0]).all()  # no knee angle: no thigh
    # no foot pose: the foot flat on the floor, the shank standing on it
    assert no_knee[3, 1] == pytest.approx(0.0) and no_knee[4, 1] == pytest.approx(0.0)
    assert no_knee[2, 1] == pytest.approx(g.sole_below_ankle_m)


def test_swing_clearance_is_the_lowest_toe_point_in_mid_swing() -> None:
    t = np.arange(0.0, 2.0, 0.005)
    toe = np.full(t.size, 50.0)
    toe[(t > 1.0) & (t < 1.04)] = -4.0  # scuff at lift-off (early swing): not MTC
    toe[np.argmin(np.abs(t - 1.2))] = -2.5  # mid-swing minimum
    toe[(t > 1.45) & (t < 1.5)] = -9.0  # landing on the toe (terminal swing): not MTC
    assert swing_clearance(t, toe, 1.0, 1.5) == pytest.approx((1.2, -2.5))
    toe[np.argmin(np.abs(t - 1.2))] = 3.0
    t_mtc, mtc = swing_clearance(t, toe, 1.0, 1.5)
    assert mtc == 3.0 and 1.075 <= t_mtc < 1.35
    assert all(math.isnan(v) for v in swing_clearance(t, np.full(t.size, np.nan), 1.0, 1.5))


def test_replay_draws_the_mtc_and_toe_drags_of_a_simulator_recording(tmp_path) -> None:
    from fes_sim.control.config import ControllerConfig
    from fes_sim.device import DevicePipeline
    from fes_sim.loop import ClosedLoop
    from fes_sim.plant import WalkingPlant
    from fes_sim.recording import RecordingWriter

    # the mild walker without stimulation: some strides drag, some clear (a severe walker's toe
    # lands early, before the mid-swing window the plant places by gait phase ends)
    path = tmp_path / "mild_off.csv"
    plant = WalkingPlant(resolve("walker", "drop_foot_mild"))
    stimulator = resolve("stimulator", "default")
    with RecordingWriter(path, {"sample_rate_hz": 200}) as writer:
        ClosedLoop(plant, DevicePipeline(ControllerConfig.off(), stimulator), recorder=writer).run(8.0, 3)
    truth = {round(s.t_end_s, 3): s for s in plant.strides}
    drags = sum(s.toe_drag for s in truth.values())
    assert 1 <= drags < len(truth)  # no stimulation: some strides drag
    buf = ViewerBuffer()
    src = ReplaySource(buf, path, resolve("controller", "walkaide_tilt"), stimulator, speed=50.0)
    src.start()
    try:
        _wait(lambda: src.finished)
    finally:
        src.stop()
    marks = [m for m in buf.snapshot().strides if round(m.t_end_s, 3) in truth]
    assert len(marks) == len(truth)
    for m in marks:
        s = truth[round(m.t_end_s, 3)]
        assert m.t_start_s == pytest.approx(s.t_toe_off_s, abs=0.006)  # the swing, from the reference toe-off
        assert m.toe_drag == s.toe_drag
        assert m.mtc_mm == pytest.approx(s.mtc_mm, abs=1.5) and m.t_mtc_s == pytest.approx(s.t_mtc_s, abs=0.02)


def test_strides_from_heel_strikes() -> None:
    hs = HeelStrikeStrides()
    assert hs.event(1.0, GaitEvent.HEEL_STRIKE) == []
    assert hs.event(1.5, GaitEvent.HEEL_OFF) == []
    (stride,) = hs.event(2.1, GaitEvent.HEEL_STRIKE)
    assert (stride.t_start_s, stride.t_end_s, stride.toe_drag) == (1.0, 2.1, False)  # no toe-off: the whole stride
    hs.event(2.8, GaitEvent.TOE_OFF)
    (stride,) = hs.event(3.2, GaitEvent.HEEL_STRIKE)
    assert (stride.t_start_s, stride.t_end_s) == (2.8, 3.2) and math.isnan(stride.mtc_mm)  # the swing, no toe height


def test_cadence_from_stride_times() -> None:
    strides = [StrideMark(t - 0.4, t, np.nan, np.nan, False) for t in np.arange(1.0, 8.0, 1.1)]
    assert cadence_steps_per_min(strides) == pytest.approx(120.0 / 1.1)
    assert math.isnan(cadence_steps_per_min(strides[:1]))


def test_retunable_pipeline_holds_a_config_through_a_burst() -> None:
    c, s = resolve("controller", "walkaide_tilt"), resolve("stimulator", "default")
    rp = RetunablePipeline(c, s, 200.0)
    assert rp.request(replace_path(c, "stimulation.current_ma", 30.0))  # idle: in effect at once
    assert rp.pipeline.config.stimulation.current_ma == 30.0 and rp.pending is None
    rp.pipeline.controller.test_burst()
    rp.pipeline.update(ShankSample(0.0, tilt_deg=0.0))
    assert not rp.idle
    assert not rp.request(replace_path(c, "stimulation.current_ma", 40.0))
    assert rp.pending is not None and rp.pipeline.config.stimulation.current_ma == 30.0
    t = 0.0
    while rp.pending is not None:  # the burst ends with its ramp, then update() applies the config
        t += 0.005
        assert t < 10.0
        rp.pipeline.update(ShankSample(t, tilt_deg=0.0))
    assert rp.pipeline.config.stimulation.current_ma == 40.0


def test_unsafe_config_is_refused_when_submitted_and_the_source_runs_on(tmp_path) -> None:
    c, s = resolve("controller", "walkaide_tilt"), resolve("stimulator", "default")
    unsafe = replace_path(c, "stimulation.current_ma", float(s.max_current_ma) * 2)
    rp = RetunablePipeline(c, s, 200.0)
    with pytest.raises(SafetyLimitError):
        rp.check(unsafe)
    with pytest.raises(SafetyLimitError):
        rp.request(unsafe)
    assert rp.pending is None and rp.pipeline.config == c
    buf = ViewerBuffer()
    src = ReplaySource(buf, write_winter_walk(tmp_path, duration_s=20.0), c, s, speed=2.0)
    src.start()
    try:
        src.retune("controller", unsafe)
        _wait(lambda: "refused" in src.status.notice)
        n = buf.snapshot(30.0).samples["t_s"].size
        _wait(lambda: buf.snapshot(30.0).samples["t_s"].size > n)  # still producing samples
        assert src.error is None and src.device.pipeline.config == c
    finally:
        src.stop()


def _wait(predicate, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def test_replay_source_plays_the_whole_recording_with_events_and_strides(tmp_path) -> None:
    path = write_winter_walk(tmp_path, duration_s=10.0)
    buf = ViewerBuffer(capacity=5000)
    src = ReplaySource(buf, path, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"), speed=40.0)
    started = time.monotonic()
    src.start()
    _wait(lambda: src.finished)
    src.stop()
    assert src.error is None
    assert time.monotonic() - started > 10.0 / 40.0 * 0.8  # paced, not as fast as possible
    snap = buf.snapshot()
    assert snap.samples["t_s"].size == 2000
    heel_strikes = [t for t, ev in snap.truth if ev == GaitEvent.HEEL_STRIKE]
    assert len(heel_strikes) == len(np.arange(0.0, 10.0, STRIDE_S))
    assert snap.stride_count == len(heel_strikes) - 1
    assert any(ev == GaitEvent.HEEL_OFF for _, ev in snap.detected)
    assert np.nanmax(snap.samples["envelope"]) == pytest.approx(1.0)
    assert snap.status.finished


def test_paused_source_moves_only_by_single_steps(tmp_path) -> None:
    path = write_winter_walk(tmp_path, duration_s=5.0)
    buf = ViewerBuffer()
    src = ReplaySource(buf, path, resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"))
    src.pause()
    src.start()
    time.sleep(0.2)
    assert buf.samples_written == 0
    src.step_once()
    src.step_once()
    _wait(lambda: buf.samples_written == 2)
    time.sleep(0.1)
    assert buf.samples_written == 2
    src.resume()
    _wait(lambda: buf.samples_written > 20)
    src.stop()
    assert not src.alive


def test_retune_reaches_the_replay_pipeline(tmp_path) -> None:
    path = write_winter_walk(tmp_path, duration_s=10.0)
    c = resolve("controller", "walkaide_tilt")
    src = ReplaySource(ViewerBuffer(), path, c, resolve("stimulator", "default"), speed=5.0)
    src.start()
    src.retune("controller", replace_path(c, "stimulation.current_ma", 22.0))
    _wait(lambda: src.device.pipeline.config.stimulation.current_ma == 22.0)
    src.stop()


def test_saved_settings_round_trip_through_the_controller_loader(tmp_path) -> None:
    from fes_sim.config.schema import to_toml

    c = replace_path(resolve("controller", "walkaide_tilt"), "stimulation.extension_ms", 150.0)
    (tmp_path / "c.toml").write_text(to_toml(c))
    assert load_toml(ControllerConfig, tmp_path / "c.toml") == c


def test_replay_fills_the_truth_panels_from_the_recording_truth(tmp_path) -> None:
    from types import SimpleNamespace

    from fes_sim.recording import RecordingWriter

    path = tmp_path / "sim.csv"
    writer = RecordingWriter(path, {"sample_rate_hz": 200})
    for k in range(400):
        t = k / 200.0
        truth = SimpleNamespace(true_tilt_deg=2.0 + t, ankle_deg=-5.0 + t, foot_pitch_deg=10.0 - t,
                                toe_height_mm=20.0 + t, torque_nm=0.0, fatigue=0.0, activity="walk")
        writer.write(ShankSample(t, tilt_deg=-30.0), None, truth)
    writer.close()
    c, s = resolve("controller", "walkaide_tilt"), resolve("stimulator", "default")
    buf = ViewerBuffer()
    src = ReplaySource(buf, path, c, s, speed=20.0)
    src.start()
    try:
        _wait(lambda: src.finished)
    finally:
        src.stop()
    got = buf.snapshot().samples
    t = got["t_s"]
    assert t.size == 400
    np.testing.assert_allclose(got["true_tilt_deg"], 2.0 + t)  # the truth, not the sensor's -30
    np.testing.assert_allclose(got["ankle_deg"], -5.0 + t)
    np.testing.assert_allclose(got["foot_pitch_deg"], 10.0 - t)
    np.testing.assert_allclose(got["toe_height_mm"], 20.0 + t)


def test_replay_without_truth_draws_the_tilt_channel_and_no_ankle(tmp_path) -> None:
    c, s = resolve("controller", "walkaide_tilt"), resolve("stimulator", "default")
    buf = ViewerBuffer()
    src = ReplaySource(buf, write_winter_walk(tmp_path, duration_s=2.0), c, s, speed=20.0)
    src.start()
    try:
        _wait(lambda: src.finished)
    finally:
        src.stop()
    got = buf.snapshot().samples
    assert src.recording.truth == {}
    assert np.isfinite(got["true_tilt_deg"]).all() and np.isnan(got["ankle_deg"]).all()


def test_hil_source_counts_gaps_as_lost_and_drops_duplicated_or_reordered_samples() -> None:
    pytest.importorskip("firmware_bridge.link")
    from firmware_bridge.protocol import SensorSample
    from firmware_bridge.samples import Unwrapper, fill_shank_sample
    from fes_sim.viewer.hil_source import HilSource

    class _Link:
        def set_envelope(self, envelope: float, sample_index: int) -> None:
            pass

    source = HilSource(ViewerBuffer(), "fesemu://", resolve("controller", "walkaide_tilt"), resolve("stimulator", "default"))
    source.link, source.device, source._unwrap = _Link(), RetunablePipeline(source.controller, source.stimulator, 200.0), Unwrapper()
    for index in (0, 1, 1, 4, 2, 5):  # a duplicate, a gap of two, a reordered one
        source._on_sample(SensorSample(index, 5000 * index, 9.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1), fill_shank_sample)
    assert (source.lost_samples, source.stale_samples) == (2, 2)
