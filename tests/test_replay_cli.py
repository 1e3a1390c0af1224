"""``fes replay`` and ``fes calibrate`` as a user meets them."""

from __future__ import annotations

import json

import pytest

from detect_helpers import walk
from fes_sim.cli import main
from fes_sim.config.schema import load_toml
from fes_sim.control.config import ControllerConfig

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


def test_calibrate_hand_switch_and_errors(tmp_path, capsys):
    t, tilt, *_, truth = walk(n_strides=12)
    # clinician presses from 0.25 s before toe-off until heel strike
    from fes_sim.samples import GaitEvent
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
