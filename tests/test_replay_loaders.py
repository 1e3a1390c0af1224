"""Replay loaders: our format, NONAN, generic CSV, events files, axis mapping and detection."""

from __future__ import annotations

import numpy as np
import pytest

from detect_helpers import walk
from fes_sim.errors import RecordingError
from fes_sim.replay.loaders import detect_orientation, load_recording, parse_axis_map, read_events
from fes_sim.samples import GaitEvent


def _write_generic(path, t, cols, events=None):
    names = list(cols)
    lines = [",".join(["t_s", *names])]
    for i in range(len(t)):
        lines.append(",".join([f"{t[i]:.4f}", *(f"{cols[n][i]:.5f}" for n in names)]))
    path.write_text("\n".join(lines) + "\n")
    if events is not None:
        ev = path.with_name(path.stem + "_events.csv")
        ev.write_text("t_s,event\n" + "".join(f"{x:.4f},{e.label}\n" for x, e in events))


def test_generic_csv_with_sibling_events(tmp_path):
    t, tilt, gyr, ax, ay, truth = walk(n_strides=5)
    f = tmp_path / "walk.csv"
    _write_generic(f, t, {"tilt_deg": tilt}, truth)
    rec = load_recording(f)
    assert rec.source == "generic" and rec.sample_rate_hz == pytest.approx(200.0)
    assert len(rec.events) == len(truth) and rec.events[0][1] in (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF)
    np.testing.assert_allclose(rec.channels["tilt_deg"], tilt, atol=1e-4)
    assert any("tilt sign detected: kept" in n for n in rec.notes)


def test_generic_csv_negated_tilt_is_detected_and_mapping_overrides(tmp_path):
    t, tilt, *_ = walk(n_strides=5)
    f = tmp_path / "neg.csv"
    _write_generic(f, t, {"tilt_deg": -tilt})
    rec = load_recording(f)
    np.testing.assert_allclose(rec.channels["tilt_deg"], tilt, atol=1e-4)
    assert any("negated" in n for n in rec.notes)
    rec = load_recording(f, axis_map="tilt=tilt")
    np.testing.assert_allclose(rec.channels["tilt_deg"], -tilt, atol=1e-4)


def test_imu_axes_detected_from_a_rotated_sensor(tmp_path):
    t, tilt, gyr, ax, ay, _ = walk(n_strides=5)
    # a sensor mounted with file x = project -y, file y = project z, file z = project -x
    cols = {"acc_x_mps2": -ay, "acc_y_mps2": np.zeros_like(t), "acc_z_mps2": -ax,
            "gyr_x_dps": np.zeros_like(t), "gyr_y_dps": gyr, "gyr_z_dps": np.zeros_like(t)}
    f = tmp_path / "imu.csv"
    _write_generic(f, t, cols)
    rec = load_recording(f)
    np.testing.assert_allclose(rec.channels["acc_x_mps2"], ax, atol=1e-4)
    np.testing.assert_allclose(rec.channels["acc_y_mps2"], ay, atol=1e-4)
    np.testing.assert_allclose(rec.channels["gyr_z_dps"], gyr, atol=1e-4)
    assert any("x=-z" in n and "z=y" in n and "y=-x" in n for n in rec.notes), rec.notes
    mapping, _ = detect_orientation(rec.channels)
    assert mapping["x"] == ("x", 1.0) and mapping["z"] == ("z", 1.0) and mapping["y"] == ("y", 1.0)


def test_partial_imu_axes_are_detected(tmp_path):
    """A sagittal-plane sensor: two accelerometer axes and one gyro axis, mounted rotated
    (file x = project -y, file y = project z, file z = project -x: right-handed)."""
    t, tilt, gyr, ax, ay, _ = walk(n_strides=5)
    f = tmp_path / "planar.csv"
    _write_generic(f, t, {"acc_x_mps2": -ay, "acc_z_mps2": -ax, "gyr_y_dps": gyr})
    rec = load_recording(f)
    np.testing.assert_allclose(rec.channels["acc_x_mps2"], ax, atol=1e-4)
    np.testing.assert_allclose(rec.channels["acc_y_mps2"], ay, atol=1e-4)
    np.testing.assert_allclose(rec.channels["gyr_z_dps"], gyr, atol=1e-4)
    assert any("1 gyro and 2 accelerometer axes" in n for n in rec.notes), rec.notes
    gyro_only = tmp_path / "gyro.csv"
    _write_generic(gyro_only, t, {"gyr_y_dps": -gyr})
    rec = load_recording(gyro_only, leg="left")
    np.testing.assert_allclose(rec.channels["gyr_z_dps"], gyr, atol=1e-4)
    assert "gyr_y_dps" not in rec.channels
    assert any("no accelerometer" in n for n in rec.notes) and any("leg 'left' ignored" in n for n in rec.notes)


def test_our_recording_format(tmp_path):
    f = tmp_path / "rec.csv"
    f.write_text("# fes-sim recording v1\n# sample_rate_hz = 100\n# walker = healthy\n"
                 "t_s,tilt_deg,footswitch,event,stim_state\n0.00,1.0,1,,idle\n0.01,2.0,1,,idle\n0.02,,0,heel_off,idle\n")
    rec = load_recording(f)
    assert rec.source == "fes-sim" and rec.sample_rate_hz == 100.0
    assert np.isnan(rec.channels["tilt_deg"][2]) and list(rec.channels["footswitch"]) == [1, 1, 0]


def test_nonan_loader_sign_and_heel_off(nonan_dir):
    rec = load_recording(nonan_dir / "healthy_young.csv", leg="left")
    assert rec.source == "nonan"
    hs = [t for t, e in rec.events if e == GaitEvent.HEEL_STRIKE]
    ho = [t for t, e in rec.events if e == GaitEvent.HEEL_OFF]
    to = [t for t, e in rec.events if e == GaitEvent.TOE_OFF]
    assert 40 <= len(hs) <= 46 and abs(len(ho) - len(hs)) <= 1
    i = np.searchsorted(rec.t_s, hs)
    assert np.median(rec.channels["tilt_deg"][i]) < -15  # project sign: about -28 deg at heel strike
    # every heel-off lies inside its stance, before toe-off
    for h in ho:
        assert any(a < h < b for a in hs for b in to if 0 < b - a < 1.0)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no header"),
        ("t_s,foo\n0,1\n", "no sensor column"),
        ("time,tilt_deg\n0,1\n", "no 't_s' column"),
        ("t_s,tilt_deg\n0,1\n0.005,abc\n", "'abc' is not a number"),
        ("t_s,tilt_deg\n0,1\n", "at least two samples"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, text, message):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(RecordingError, match=message):
        load_recording(f)


def test_missing_file_and_bad_events(tmp_path):
    with pytest.raises(RecordingError, match="no such file"):
        load_recording(tmp_path / "nope.csv")
    ev = tmp_path / "ev.csv"
    ev.write_text("t_s,event\n0.5,heel_bump\n")
    with pytest.raises(RecordingError, match="line 2"):
        read_events(ev)


@pytest.mark.parametrize("text", ["x=q", "x=-y,x=z", "tilt=x", "x"])
def test_bad_axis_maps(text):
    with pytest.raises(RecordingError):
        parse_axis_map(text)


def test_our_recording_keeps_truth_columns(tmp_path):
    from types import SimpleNamespace

    from fes_sim.recording import TRUTH_COLUMNS, RecordingWriter
    from fes_sim.samples import ShankSample

    f = tmp_path / "sim.csv"
    w = RecordingWriter(f, {"sample_rate_hz": 200})
    for i in range(5):
        truth = SimpleNamespace(true_tilt_deg=1.5 * i, ankle_deg=-2.0, foot_pitch_deg=3.0 + i, toe_height_mm=10.0 * i,
                                torque_nm=0.5, fatigue=1.0, activity="walk" if i < 3 else "stand")
        w.write(ShankSample(i / 200, tilt_deg=1.0 * i), truth=truth)
    w.close()
    rec = load_recording(f)
    assert set(rec.truth) == set(TRUTH_COLUMNS)
    assert rec.truth["true_tilt_deg"].tolist() == [0.0, 1.5, 3.0, 4.5, 6.0]
    assert rec.truth["toe_height_mm"][-1] == 40.0 and rec.truth["foot_pitch_deg"][0] == 3.0
    assert rec.truth["activity"].tolist() == ["walk"] * 3 + ["stand"] * 2
    assert "true_tilt_deg" not in rec.channels


def test_real_sensor_recordings_have_no_truth(tmp_path):
    t, tilt, *_ = walk(n_strides=2)
    f = tmp_path / "g.csv"
    np.savetxt(f, np.c_[t, tilt], delimiter=",", header="t_s,tilt_deg", comments="")
    assert load_recording(f).truth == {}
