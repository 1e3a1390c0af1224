"""``fes replay`` and ``fes calibrate`` as a user meets them."""

from __future__ import annotations

import json

import pytest

from detect_helpers import walk
from fes_sim.cli import main
from fes_sim.config.schema import load_toml
from fes_sim.control.config import ControllerConfig
from fes_sim.samples import GaitEvent

KEYS = {"sensitivity", "precision", "median_abs_error_ms", "median_error_ms", "p95_abs_error_ms", "n_reference", "n_detected"}


@pytest.fixture
def generic(tmp_path):
    t, tilt, *_, truth = walk(n_strides=20, cv=0.02, seed=3)
    f = tmp_path / "walk.csv"
    f.write_text("t_s,tilt_deg\n" + "".join(f"{a:.4f},{b:.4f}\n" for a, b in zip(t, tilt)))
    (tmp_path / "walk_events.csv").write_text("t_s,event\n" + "".join(f"{x:.4f},{e.label}\n" for x, e in truth))
    return f


def test_json_summary_shape(generic, capsys):
    assert main(["replay", str(generic), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"heel_strike", "heel_off", "toe_off"}
    for key in out:
        assert set(out[key]) == KEYS
    assert out["heel_strike"]["sensitivity"] == 1.0 and out["heel_strike"]["n_reference"] >= 15
    assert out["heel_off"]["n_reference"] == 0 and out["heel_off"]["sensitivity"] is None
    assert out["heel_off"]["precision"] is None  # detections cannot be judged without references


def test_text_report_and_plot(generic, tmp_path, capsys):
    png = tmp_path / "r.png"
    assert main(["replay", str(generic), "--plot", str(png), "--controller", "off"]) == 0
    text = capsys.readouterr().out
    assert "heel_strike" in text and "strides stimulated" in text and "tilt sign detected" in text
    assert png.stat().st_size > 1000


def test_user_errors_exit_2(generic, tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.csv")]) == 2
    assert main(["replay", str(generic), "--controller", "nonsense"]) == 2
    assert main(["replay", str(generic), "--axes", "x=w"]) == 2
    assert main(["replay", str(generic), "--tolerance-ms", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("fes: error:") == 4 and "Traceback" not in err


def test_controller_whose_channel_the_file_lacks_is_refused(generic, tmp_path, capsys):
    assert main(["replay", str(generic), "--controller", "heel_switch"]) == 2
    err = capsys.readouterr().err
    assert "footswitch detector needs footswitch" in err and "tilt_deg" in err and len(err.splitlines()) == 1
    assert main(["calibrate", str(generic), "--controller", "heel_switch", "--out", str(tmp_path / "c.toml")]) == 2
    assert "footswitch detector needs footswitch" in capsys.readouterr().err


def test_calibrate_writes_a_loadable_controller(generic, tmp_path, capsys):
    out = tmp_path / "patient.toml"
    assert main(["calibrate", str(generic), "--out", str(out), "--labels", "events"]) == 0
    cfg = load_toml(ControllerConfig, out)
    assert cfg.tilt.heel_off_tilt_deg != ControllerConfig().tilt.heel_off_tilt_deg
    assert main(["replay", str(generic), "--controller", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out.split("wrote")[-1].split("\n", 1)[1])
    assert res["toe_off"]["sensitivity"] == 1.0


def _write_walk(path, t, **columns):
    names = list(columns)
    path.write_text("t_s," + ",".join(names) + "\n" + "".join(
        f"{t[i]:.4f}," + ",".join(f"{columns[n][i]:.4f}" for n in names) + "\n" for i in range(len(t))))
    return path


def test_calibrating_a_small_stiff_walk_makes_it_detectable(tmp_path, capsys):
    """A stiff, slow walk over 11 deg of tilt: the default trigger finds no stride in 19 s,
    calibration takes the strides from the tilt minima, and the calibrated controller finds
    them all."""
    from fes_sim.detection.calibration import calibrate
    from fes_sim.replay import load_recording, replay, score_replay

    t, tilt, gyr, *_, truth = walk(n_strides=12, stride_s=1.6, stance=0.68, scale=0.15, cv=0.02, seed=5, fs=100.0)
    f = _write_walk(tmp_path / "stiff.csv", t, tilt_deg=tilt, gyr_z_dps=gyr)
    (tmp_path / "stiff_events.csv").write_text("t_s,event\n" + "".join(f"{x:.4f},{e.label}\n" for x, e in truth))
    rec = load_recording(f)
    cal = calibrate(rec, ControllerConfig())
    assert any("tilt minima" in n for n in cal.notes)
    assert 10.0 < cal.config.tilt.initial_peak_rate_dps < 30.0  # the walk's own peak forward rate, not 150
    before = score_replay(rec, replay(rec, ControllerConfig(), cal_stim()), 0.15)
    after = score_replay(rec, replay(rec, cal.config, cal_stim()), 0.15)
    assert before[GaitEvent.TOE_OFF].sensitivity < 0.9
    assert after[GaitEvent.TOE_OFF].sensitivity >= 0.95 and after[GaitEvent.HEEL_STRIKE].sensitivity >= 0.95


def cal_stim():
    from fes_sim.control.limits import StimulatorConfig

    return StimulatorConfig()


def test_calibration_fits_the_lags_of_the_detector_in_use(tmp_path):
    from fes_sim.control.config import EstimatorConfig
    from fes_sim.detection.calibration import calibrate
    from fes_sim.replay import load_recording

    t, tilt, gyr, ax, ay, truth = walk(n_strides=25, cv=0.02, seed=6)
    f = _write_walk(tmp_path / "imu.csv", t, acc_x_mps2=ax, acc_y_mps2=ay, acc_z_mps2=0 * t, gyr_x_dps=0 * t, gyr_y_dps=0 * t,
                    gyr_z_dps=gyr)
    (tmp_path / "imu_events.csv").write_text("t_s,event\n" + "".join(f"{x:.4f},{e.label}\n" for x, e in truth))
    base = ControllerConfig(detector="gyro", estimator=EstimatorConfig(source="imu"))
    cal = calibrate(load_recording(f, axis_map="x=x,y=y,z=z"), base, labels=truth)
    assert cal.config.tilt == base.tilt.replace(**{k: getattr(cal.config.tilt, k) for k in (
        "heel_off_tilt_deg", "heel_off_fraction", "initial_peak_rate_dps", "min_tilt_range_deg", "max_swing_ms", "max_push_off_ms")})
    assert cal.config.gyro.toe_off_lag_ms != base.gyro.toe_off_lag_ms  # toe-off comes early on Winter strides: the lag grows
    assert cal.config.gyro.toe_off_lag_ms > base.gyro.toe_off_lag_ms


def test_calibrating_a_heel_switch_sets_its_standing_limit(tmp_path):
    from fes_sim.detection.calibration import calibrate
    from fes_sim.replay import load_recording

    t, tilt, *_ = walk(n_strides=15, stride_s=1.2)
    f = _write_walk(tmp_path / "fsw.csv", t, tilt_deg=tilt, footswitch=((t % 1.2) < 0.5).astype(float))
    cal = calibrate(load_recording(f), ControllerConfig(detector="footswitch"))
    assert cal.measured["heel_loaded_s"] == pytest.approx(0.5, abs=0.011)  # both edges lag by the same debounce
    assert cal.config.footswitch.max_loaded_ms == pytest.approx(2000 * cal.measured["heel_loaded_s"])


def test_calibrate_prints_and_warns_about_a_fit_clamped_to_its_range(tmp_path, capsys):
    t, tilt, *_, truth = walk(n_strides=12)
    # released 110 ms before each heel strike: the fitted heel-strike lag is 35 - 110 = -75 ms, below its 0 ms floor
    to = [x for x, e in truth if e == GaitEvent.TOE_OFF]
    hs = [x for x, e in truth if e == GaitEvent.HEEL_STRIKE]
    pressed = [any(a - 0.25 <= x < min([h for h in hs if h > a] or [1e9]) - 0.11 for a in to) for x in t]
    f = tmp_path / "hs.csv"
    f.write_text("t_s,tilt_deg,hand_switch\n" + "".join(f"{a:.4f},{b:.4f},{int(p)}\n" for a, b, p in zip(t, tilt, pressed)))
    out = tmp_path / "c.toml"
    assert main(["calibrate", str(f), "--out", str(out), "--labels", "hand-switch"]) == 0
    printed = capsys.readouterr()
    assert load_toml(ControllerConfig, out).tilt.heel_strike_lag_ms == 0.0
    assert [line.split() for line in printed.out.splitlines() if "heel_strike_lag_ms" in line] == [["heel_strike_lag_ms", "0.000"]]
    warning = [line for line in printed.err.splitlines() if "heel_strike_lag_ms" in line]
    assert len(warning) == 1 and warning[0].startswith("fes: warning: tilt.heel_strike_lag_ms: fitted -7")
    assert "outside 0 to 200; written as 0" in warning[0]
    assert "warning: tilt.heel_strike_lag_ms" in out.read_text()


def test_calibrate_hand_switch_and_errors(tmp_path, capsys):
    t, tilt, *_, truth = walk(n_strides=12)
    # clinician presses from 0.25 s before toe-off until heel strike
    to = [x for x, e in truth if e == GaitEvent.TOE_OFF]
    hs = [x for x, e in truth if e == GaitEvent.HEEL_STRIKE]
    pressed = [any(a - 0.25 <= x < min([h for h in hs if h > a] or [1e9]) for a in to) for x in t]
    f = tmp_path / "hs.csv"
    f.write_text("t_s,tilt_deg,hand_switch\n" + "".join(f"{a:.4f},{b:.4f},{int(p)}\n" for a, b, p in zip(t, tilt, pressed)))
    out = tmp_path / "c.toml"
    assert main(["calibrate", str(f), "--out", str(out), "--labels", "hand-switch"]) == 0
    assert "heel_off_fraction" in capsys.readouterr().out
    assert main(["calibrate", str(f), "--out", str(out), "--labels", "events"]) == 2
    assert main(["calibrate", str(f), "--out", str(tmp_path / "c.txt")]) == 2
