"""`fes run` and `fes config` as a user meets them: output, JSON, files, determinism, bad input."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fes_sim.cli.config_cmd import preset_toml
from fes_sim.config.presets import KIND_MODULES, preset_names
from fes_sim.replay.loaders import load_recording

ROOT = Path(__file__).resolve().parents[1]


def fes(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fes_sim", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def run_json(*args: str) -> dict:
    proc = fes("run", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_help_states_units_and_defaults():
    top = fes("--help")
    assert top.returncode == 0
    for sub in ("run", "config", "replay"):
        assert sub in top.stdout
    run_help = fes("run", "--help").stdout
    for fragment in ("--duration-s", "86400 s", "default: 60.0", "drop_foot_mild", "walkaide_tilt", "1000 Hz"):
        assert fragment in run_help


def test_run_prints_table_and_summary():
    proc = fes("run", "--duration-s", "12")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "12 s of walker drop_foot_mild (scenario walk), controller walkaide_tilt, stimulator default, seed 1"
    assert lines[2].split()[:2] == ["stride", "HS"]
    assert "MTC mm" in lines[2] and "charge uC" in lines[2]
    assert any(line.startswith("HS: true heel strike; HO det:") for line in lines)
    assert any(line.startswith("strides: ") for line in lines)
    assert any("real-time factor" in line for line in lines)


def test_redirected_stderr_gets_no_progress_bar():
    """The bar (shown once a run takes a second) is for terminals, not for logs."""
    proc = fes("run", "--duration-s", "150")
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_json_has_documented_keys_and_nothing_else_on_stdout():
    s = run_json("--duration-s", "15")
    assert isinstance(s["strides"], int) and s["strides"] >= 8
    assert isinstance(s["toe_drag_strides"], int)
    assert set(s["mtc_mm"]) >= {"median", "p5"}
    assert set(s["stim"]) >= {"onset_lead_ms_median", "charge_per_stride_uc_median", "max_current_ma"}
    for ev in ("heel_strike", "heel_off"):
        assert set(s["detection"][ev]) >= {"sensitivity", "precision", "median_abs_error_ms"}
    assert s["realtime_factor"] > 0


def test_same_seed_same_output_other_seed_differs():
    a, b, c = (run_json("--duration-s", "10", "--seed", seed) for seed in ("7", "7", "8"))
    for s in (a, b, c):
        s.pop("realtime_factor"), s.pop("startup_s")
    assert a == b
    assert a != c


def test_drop_foot_severe_drags_without_and_clears_with_stimulation():
    off = run_json("--walker", "drop_foot_severe", "--controller", "off", "--duration-s", "40")
    on = run_json("--walker", "drop_foot_severe", "--duration-s", "40")
    assert off["toe_drag_strides"] > 0.5 * off["strides"]
    assert off["stim"]["max_current_ma"] == 0.0
    assert on["toe_drag_strides"] == 0
    assert on["stim"]["max_current_ma"] > 0.0


@pytest.mark.parametrize("controller", sorted((ROOT / "configs" / "controllers").glob("*.toml")), ids=lambda p: p.stem)
def test_every_preset_controller_works_through_fes_run(controller):
    """Each detector gets its input (the heel switch too, which the default sensor lacks)."""
    s = run_json("--walker", "drop_foot_severe", "--controller", str(controller.relative_to(ROOT)), "--duration-s", "20")
    assert s["strides"] >= 10
    assert s["detection"]["heel_strike"]["sensitivity"] >= 0.9
    if controller.stem == "off":
        assert s["stim"]["stimulated_strides"] == 0 and s["toe_drag_strides"] > 0.5 * s["strides"]
    else:
        assert s["stim"]["stimulated_strides"] >= s["strides"] - 1
        assert s["toe_drag_strides"] == 0


def test_explicit_sensor_without_the_controllers_channel_is_refused():
    from fes_sim.config import get_preset
    from fes_sim.errors import ConfigError
    from fes_sim.sensors.imu import SensorConfig
    from fes_sim.session import SimulationSession

    walker, heel_switch = get_preset("walker", "healthy"), get_preset("controller", "heel_switch")
    assert SimulationSession(walker, heel_switch).sensor.footswitch
    with pytest.raises(ConfigError, match="footswitch detector needs footswitch"):
        SimulationSession(walker, heel_switch, sensor=SensorConfig())
    with pytest.raises(ConfigError, match="gyro detector needs gyr_z_dps"):
        SimulationSession(walker, get_preset("controller", "shank_gyro"), sensor=SensorConfig(imu=False))
    assert SimulationSession(walker, get_preset("controller", "walkaide_tilt"), sensor=SensorConfig(imu=False)).sensor.tilt_output


def test_out_writes_recording_table_and_figure(tmp_path):
    proc = fes("run", "--duration-s", "10", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "o"
    for name in ("recording.csv", "recording_events.csv", "strides.csv", "report.png"):
        assert (out / name).stat().st_size > 0, name
    rec = load_recording(out / "recording.csv")
    assert rec.source == "fes-sim" and rec.sample_rate_hz == 200.0
    assert len(rec.t_s) == 2001
    assert {"heel_strike", "toe_off"} <= {ev.label for _, ev in rec.events}
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_recording_format_doc_lists_exactly_the_written_columns(tmp_path):
    """docs/architecture.md documents every column the writer puts in a recording, and no other."""
    from fes_sim.recording import RecordingWriter

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    start = doc.index("## The recording format")
    end = doc.find("\n## ", start + 1)
    section = doc[start : end if end > 0 else None]
    documented = [
        name
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`(\w+)`", line.split("|")[1])
    ]
    with RecordingWriter(tmp_path / "r.csv", {}) as writer:
        written = writer.columns
    assert sorted(documented) == sorted(written)
    for phrase in ("+9.81 m/s²", "positive `gyr_z_dps`", "`t_s,event`", "dorsiflexion positive", "toe up positive"):
        assert phrase in section, phrase


@pytest.mark.skipif(sys.platform == "win32", reason="Ctrl-C is sent as SIGINT, which Windows processes do not take")
def test_interrupted_run_leaves_a_valid_recording(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fes_sim", "run", "--duration-s", "3600", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        # a shell's background job starts with SIGINT ignored, and Python then keeps ignoring it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    rec_file = out / "recording.csv"
    while time.monotonic() < deadline and (not rec_file.exists() or rec_file.stat().st_size < 200_000):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    rec = load_recording(rec_file)
    assert len(rec.t_s) > 1000
    assert rec.t_s[0] == 0.0


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--walker", "nobody"], ["unknown walker preset 'nobody'", "drop_foot_mild"]),
        (["--controller", "missing.toml"], ["missing.toml", "no such file"]),
        (["--duration-s", "-5"], ["--duration-s", "-5"]),
    ],
)
def test_bad_input_one_line_exit_2(args, fragments):
    proc = fes("run", *args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    for fragment in fragments:
        assert fragment in proc.stderr


def test_bad_config_files(tmp_path):
    malformed = tmp_path / "w.toml"
    malformed.write_text("speed_mps = [\n")
    typo = tmp_path / "typo.toml"
    typo.write_text("spede_mps = 1.0\n")
    for path, fragment in ((malformed, "not valid TOML"), (typo, "spede_mps: unknown key")):
        proc = fes("run", "--walker", str(path))
        assert proc.returncode == 2 and fragment in proc.stderr and str(path) in proc.stderr
        assert "Traceback" not in proc.stderr


def test_out_of_range_value_names_file_field_value_and_range(tmp_path):
    cfg = tmp_path / "controllers" / "hot.toml"
    cfg.parent.mkdir()
    text = (ROOT / "configs" / "controllers" / "walkaide_tilt.toml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("current_ma")]
    stim_at = lines.index("[stimulation]") if "[stimulation]" in lines else None
    assert stim_at is not None, "walkaide_tilt.toml has a [stimulation] table"
    lines.insert(stim_at + 1, "current_ma = 500.0")
    cfg.write_text("\n".join(lines) + "\n")
    proc = fes("config", "validate", str(cfg))
    assert proc.returncode == 2
    assert str(cfg) in proc.stderr and "current_ma" in proc.stderr and "500" in proc.stderr
    assert "<=" in proc.stderr


def test_settings_beyond_the_stimulators_limits_name_file_fields_and_stimulator(tmp_path):
    cur = tmp_path / "cur.toml"
    cur.write_text("[stimulation]\ncurrent_ma = 150\n")
    expected = (
        f"fes: error: {cur}: stimulation.current_ma = 150 exceeds the stimulator's max_current_ma 100; "
        "charge per phase 37.5 uC (stimulation.current_ma * stimulation.pulse_width_us) exceeds the stimulator's "
        "max_charge_per_phase_uc 35 (default stimulator)"
    )
    proc = fes("run", "--controller", str(cur), "--duration-s", "5")
    assert (proc.returncode, proc.stderr.strip(), proc.stdout) == (2, expected, "")
    proc = fes("config", "validate", "--kind", "controller", str(cur))
    assert (proc.returncode, proc.stderr.strip(), proc.stdout) == (2, expected, "")
    big = tmp_path / "big.toml"
    big.write_text("max_current_ma = 200\nmax_charge_per_phase_uc = 40\n")
    proc = fes("config", "validate", "--kind", "controller", "--stimulator", str(big), str(cur))
    assert (proc.returncode, proc.stdout.strip()) == (0, f"{cur}: ok (controller)")
    small = tmp_path / "small.toml"
    small.write_text("max_current_ma = 20\n")
    proc = fes("replay", "x.csv", "--stimulator", str(small))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"fes: error: controller 'walkaide_tilt': stimulation.current_ma = 35 exceeds the stimulator's max_current_ma 20 (stimulator {small})"
    )


def test_unwritable_out_fails_before_simulating(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    started = time.monotonic()
    proc = fes("run", "--duration-s", "3600", "--out", str(blocker / "sub"))
    assert proc.returncode == 2
    assert "--out" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30


def test_config_validate_checks_every_repo_config_studies_included():
    files = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("configs/*/*.toml"))
    assert any("studies" in f for f in files)
    proc = fes("config", "validate", *files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{f}: ok ({kind})" for f, kind in ((f, _kind(f)) for f in files)]


def _kind(path: str) -> str:
    folder = Path(path).parent.name
    return "study" if folder == "studies" else folder[:-1]


def test_config_validate_reports_every_file_and_fails_if_any_failed(tmp_path):
    typo = tmp_path / "walkers" / "typo.toml"
    typo.parent.mkdir()
    typo.write_text("spede_mps = 1.0\n")
    study = tmp_path / "studies" / "bad.toml"
    study.parent.mkdir()
    study.write_text("name = 'x'\n")
    good = "configs/walkers/healthy.toml"
    proc = fes("config", "validate", str(typo), good, str(tmp_path / "gone.toml"), str(study), good)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [f"{good}: ok (walker)"] * 2
    errors = proc.stderr.splitlines()
    assert len(errors) == 3 and "Traceback" not in proc.stderr
    assert errors[0].startswith(f"fes: error: {typo}: ") and "spede_mps: unknown key" in errors[0]
    assert errors[1] == f"fes: error: {tmp_path / 'gone.toml'}: no such file"
    assert errors[2].startswith(f"fes: error: {study}: ")


def test_config_validate_takes_the_kind_from_the_header_of_a_shown_config(tmp_path):
    shown = tmp_path / "mine.toml"
    shown.write_text(fes("config", "show", "controller", "walkaide_tilt").stdout)
    bare = tmp_path / "bare.toml"
    bare.write_text('detector = "tilt"\n')
    proc = fes("config", "validate", str(shown), str(bare))
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [f"{shown}: ok (controller)"]
    assert "cannot tell the config kind" in proc.stderr and "--kind" in proc.stderr


def test_config_show_and_list():
    proc = fes("config", "show", "walker", "healthy")
    assert proc.returncode == 0 and "height" in proc.stdout
    listed = fes("config", "list").stdout
    for kind in ("walker", "controller", "stimulator"):
        assert f"{kind}:" in listed


@pytest.mark.parametrize("args", [("config", "show", "controller", "walkaide_tilt"), ("replay", "{walk}", "--json")])
def test_output_into_a_closed_pipe_ends_quietly(tmp_path, args):
    walk = tmp_path / "walk.csv"
    walk.write_text("t_s,tilt_deg\n" + "".join(f"{k / 100:.2f},{10 * ((k % 100) / 50 - 1):.3f}\n" for k in range(2000)))
    cmd = [sys.executable, "-m", "fes_sim", *(a.format(walk=walk) for a in args)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()  # like `| head -0`: the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_console_script_matches_python_dash_m():
    script = Path(sys.executable).with_name("fes")
    if not script.exists():
        pytest.skip(f"no fes console script beside {sys.executable}")
    direct = subprocess.run([str(script), "config", "list"], capture_output=True, text=True, cwd=ROOT)
    assert direct.returncode == 0
    assert direct.stdout == fes("config", "list").stdout


@pytest.mark.parametrize("kind", sorted(KIND_MODULES))
def test_configs_folder_matches_built_in_presets(kind):
    folder = ROOT / "configs" / f"{kind}s"
    names = preset_names(kind)
    assert sorted(p.stem for p in folder.glob("*.toml")) == names, "run: python tools/export_presets.py"
    for name in names:
        assert (folder / f"{name}.toml").read_text(encoding="utf-8") == preset_toml(kind, name), (
            f"configs/{kind}s/{name}.toml differs from the built-in preset; run: python tools/export_presets.py"
        )


def test_required_presets_exist():
    assert {"healthy", "drop_foot_mild", "drop_foot_severe", "hemiparetic_slow"} <= set(preset_names("walker"))
    assert {"walkaide_tilt", "shank_gyro", "heel_switch"} <= set(preset_names("controller"))
    assert "default" in preset_names("stimulator")
