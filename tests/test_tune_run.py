"""Running studies: outputs, resume after an interrupt, differential evolution, the CLI."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fes_sim.tuning.runner as runner
from fes_sim.cli import main
from fes_sim.config import load_toml
from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.errors import OutputError, SafetyLimitError
from fes_sim.tuning import load_study, run_study, write_outputs
from fes_sim.tuning.executor import Executor
from fes_sim.tuning.outputs import pareto_front, summary_text
from tune_helpers import write_study

ROOT = Path(__file__).resolve().parents[1]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_study_writes_every_output(tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, duration_s=5.0))
    out = tmp_path / "out"
    result = run_study(study, out, workers=0, progress=False)
    files = write_outputs(result, out)
    names = {f.name for f in files}
    assert names == {"results.csv", "best_controller.toml", "pareto.png", "summary.txt",
                     "sensitivity_stimulation_current_ma.png", "sensitivity_stimulation_ramp_up_ms.png"}
    rows = _rows(out / "results.csv")
    assert len(rows) == 4 and len({r["key"] for r in rows}) == 4
    best = load_toml(ControllerConfig, out / "best_controller.toml")
    assert best.stimulation.current_ma == pytest.approx(result.best["stimulation.current_ma"])
    # seeded: three sets keep mtc_p5_mm >= 0; the set with the least charge (16 mA) drags its toe
    feasible = [r for r in result.rows if r["feasible"]]
    assert len(feasible) == 3
    assert result.best["feasible"] and result.best["objective"] == min(r["objective"] for r in feasible)
    assert min(r["objective"] for r in result.rows) < result.best["objective"]  # the constraint decided
    text = (out / "summary.txt").read_text()
    assert "charge_per_stride_uc" in text and "stimulation.current_ma" in text
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"


def test_interrupted_study_resumes_without_recomputing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = load_study(write_study(tmp_path, samples=6))
    full = run_study(study, tmp_path / "full", workers=0, progress=False)

    calls = []
    real = runner.evaluate_chunk

    def interrupted(values, *args):  # noqa: ANN001, ANN202
        calls.append(len(values))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(values, *args)

    monkeypatch.setattr(runner, "evaluate_chunk", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_study(study, out, workers=0, progress=False)
    assert len(_rows(out / "results.csv")) == 2  # the first chunk is on disk
    # a row cut short by the interrupt is ignored and recomputed
    with (out / "results.csv").open("a") as fh:
        fh.write("deadbeef,12.5,3")
    with pytest.raises(OutputError, match="--resume"):
        run_study(study, out, workers=0, progress=False)

    monkeypatch.setattr(runner, "evaluate_chunk", real)
    resumed = run_study(study, out, workers=0, resume=True, progress=False)
    assert (resumed.evaluated, resumed.reused) == (4, 2)
    again = run_study(study, out, workers=0, resume=True, progress=False)
    assert (again.evaluated, again.reused) == (0, 6)
    by_key = {r["key"]: r for r in full.rows}
    for r in again.rows:
        assert r["objective"] == by_key[r["key"]]["objective"]
        assert r["mtc_p5_mm"] == by_key[r["key"]]["mtc_p5_mm"]
    complete = [r for r in _rows(out / "results.csv") if r["feasible"] in ("True", "False")]
    assert len(complete) == 6


@pytest.mark.skipif(sys.platform == "win32", reason="Ctrl-C is sent as SIGINT, which Windows processes do not take")
def test_ctrl_c_stops_fes_tune_on_a_process_pool_and_resume_recomputes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = write_study(tmp_path, samples=10, duration_s=3.0)
    study.write_text(study.read_text().replace("chunk = 2", "chunk = 1"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "fes_sim", "tune", str(study), "--out", str(out), "--workers", "2", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True,
        # a shell's background job starts with SIGINT ignored, and Python then keeps ignoring it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    results = out / "results.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not results.is_file() or len(_rows(results)) < 2):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip() == "fes: interrupted", err
    done = {r["key"] for r in _rows(results)}
    assert 2 <= len(done) < 10

    assert main(["tune", str(study), "--out", str(out), "--workers", "2", "--no-progress", "--resume"]) == 0
    assert f"{10 - len(done)} evaluated now, {len(done)} from results.csv" in capsys.readouterr().out
    rows = _rows(results)
    assert len(rows) == 10 and {r["key"] for r in rows} >= done  # nothing evaluated twice


def test_an_interrupt_stops_pool_workers_without_waiting_for_their_tasks() -> None:
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt), Executor(workers=2) as ex:
        for _ in ex.map_unordered(time.sleep, [0.0, 60.0, 60.0]):
            raise KeyboardInterrupt  # as Ctrl-C while two 60 s tasks run
    assert time.monotonic() - t0 < 15


def test_changed_study_does_not_reuse_rows(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_study(load_study(write_study(tmp_path, samples=2)), out, workers=0, progress=False)
    longer = load_study(write_study(tmp_path, samples=2, duration_s=5.0))
    result = run_study(longer, out, workers=0, resume=True, progress=False)
    assert (result.evaluated, result.reused) == (2, 0)


def test_resume_with_other_objective_and_constraints_rescores_without_simulating(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = write_study(tmp_path, samples=3)
    text = path.read_text()
    path.write_text(text.replace("min = 0.0", "min = -100.0"))  # every set meets it
    first = run_study(load_study(path), out, workers=0, progress=False)
    assert all(r["feasible"] for r in first.rows)
    p5 = {r["key"]: r["mtc_p5_mm"] for r in first.rows}
    strict = max(p5.values()) + 1.0  # no set can meet it
    path.write_text(text.replace("min = 0.0", f"min = {strict!r}").replace(
        'metric = "charge_per_stride_uc"', 'metric = "mtc_median_mm"\ngoal = "maximize"'))
    again = run_study(load_study(path), out, workers=0, resume=True, progress=False)
    assert (again.evaluated, again.reused) == (0, 3)
    for r in again.rows:
        assert not r["feasible"] and r["violation"] == pytest.approx(strict - p5[r["key"]])
        assert r["objective"] == -r["mtc_median_mm"]
    assert not again.best["feasible"] and again.best["mtc_p5_mm"] == max(p5.values())
    on_disk = _rows(out / "results.csv")  # the table is re-scored too
    assert len(on_disk) == 3 and {r["feasible"] for r in on_disk} == {"False"}
    assert "no feasible set" in summary_text(again)


def test_categorical_settings_are_swept_scored_and_resumed(tmp_path: Path) -> None:
    extra = '\n[[parameters]]\npath = "stimulation.timing"\nvalues = ["fixed", "percent"]\n'
    study = load_study(write_study(tmp_path, extra, method="grid"))
    out = tmp_path / "out"
    result = run_study(study, out, workers=0, progress=False)
    assert sorted(r["stimulation.timing"] for r in result.rows) == ["fixed"] * 4 + ["percent"] * 4
    by_setting = {(r["stimulation.current_ma"], r["stimulation.ramp_up_ms"], r["stimulation.timing"]): r for r in result.rows}
    for (cur, ramp, timing), r in by_setting.items():
        if timing == "fixed":  # percent timing ends each burst at a share of the stance, not a fixed time
            assert r["charge_per_stride_uc"] != by_setting[(cur, ramp, "percent")]["charge_per_stride_uc"]
    assert {r["stimulation.timing"] for r in _rows(out / "results.csv")} == {"fixed", "percent"}
    files = write_outputs(result, out)
    best = load_toml(ControllerConfig, out / "best_controller.toml")
    assert best.stimulation.timing == result.best["stimulation.timing"]
    assert "mean charge_per_stride_uc by stimulation.timing: fixed " in (out / "summary.txt").read_text()
    assert out / "sensitivity_stimulation_timing.png" in files
    again = run_study(study, out, workers=0, resume=True, progress=False)
    assert (again.evaluated, again.reused) == (0, 8)
    assert [r["stimulation.timing"] for r in again.rows] == [r["stimulation.timing"] for r in result.rows]


def test_differential_evolution_resumes_through_the_cache(tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, method="differential_evolution"))
    out = tmp_path / "out"
    first = run_study(study, out, workers=0, progress=False)
    assert first.evaluated >= 4 and first.best is not None
    second = run_study(study, out, workers=0, resume=True, progress=False)
    assert second.evaluated == 0 and second.best["key"] == first.best["key"]


def test_loop_engine_gives_the_lanes_results(tmp_path: Path) -> None:
    lanes = run_study(load_study(write_study(tmp_path, samples=2)), tmp_path / "a", workers=0, progress=False)
    loop = run_study(load_study(write_study(tmp_path, samples=2, engine="loop")), tmp_path / "b", workers=0, progress=False)
    for a, b in zip(lanes.rows, loop.rows):
        assert a.keys() == b.keys()
        for k in a:
            if k != "key":  # the vectorised population agrees with the single plant to ~1e-9 relative
                assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-9, nan_ok=True), k


def test_pareto_front_keeps_only_non_dominated_sets() -> None:
    rows = [
        {"charge_per_stride_uc": 100.0, "mtc_p5_mm": 5.0},
        {"charge_per_stride_uc": 150.0, "mtc_p5_mm": 4.0},  # dominated
        {"charge_per_stride_uc": 200.0, "mtc_p5_mm": 12.0},
        {"charge_per_stride_uc": 80.0, "mtc_p5_mm": float("nan")},
    ]
    assert [r["charge_per_stride_uc"] for r in pareto_front(rows)] == [100.0, 200.0]


def test_cli_runs_a_study_on_local_processes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = write_study(tmp_path, samples=2)
    out = tmp_path / "out"
    assert main(["tune", str(study), "--out", str(out), "--workers", "2", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "2 local processes" in text and "best" in text
    assert (out / "best_controller.toml").is_file()
    assert main(["tune", str(study), "--out", str(out), "--workers", "0", "--no-progress", "--resume"]) == 0
    assert "0 evaluated now, 2 from results.csv" in capsys.readouterr().out


@pytest.mark.parametrize("n_sets, n_walkers, workers, expected", [
    (120, 20, 2, 4),   # 50 sets per task would leave one worker idle on a third task
    (1000, 20, 2, 20),
    (101, 20, 2, 4),
    (5, 20, 2, 2),     # small batches: one task per worker
    (3, 1, 4, 3),      # never more tasks than sets
    (7, 1, 0, 1),      # in-process
])
def test_task_count_is_a_multiple_of_the_workers(n_sets: int, n_walkers: int, workers: int, expected: int) -> None:
    n = runner.task_count(n_sets, n_walkers, workers)
    assert n == expected
    assert -(-n_sets // n) * n_walkers <= max(runner.LANES_PER_TASK, n_walkers)
    assert runner.task_count(n_sets, n_walkers, workers, chunk=30) == -(-n_sets // 30)


@pytest.mark.parametrize("engine", ["lanes", "loop"])
def test_stimulator_limits_are_swept_and_each_set_runs_with_its_own(tmp_path: Path, engine: str) -> None:
    # 105 and 110 mA are beyond the default stimulator's 100 mA: the sets run only because
    # each builds its device with its own swept max_current_ma
    extra = '\n[[parameters]]\npath = "stimulator.max_current_ma"\nvalues = [120.0, 150.0]\n'
    path = write_study(tmp_path, extra, method="grid", engine=engine, population=0)
    path.write_text(path.read_text().replace("lo = 15.0\nhi = 40.0", "values = [105.0, 110.0]"))
    out = tmp_path / "out"
    result = run_study(load_study(path), out, workers=0, progress=False)
    assert sorted(r["stimulator.max_current_ma"] for r in result.rows) == [120.0] * 4 + [150.0] * 4
    assert "stimulator.max_current_ma" in _rows(out / "results.csv")[0]
    by_set = {(r["stimulation.current_ma"], r["stimulation.ramp_up_ms"], r["stimulator.max_current_ma"]): r for r in result.rows}
    for (cur, ramp, limit), r in by_set.items():  # a limit decides what is allowed, not what a safe setting does
        assert r["charge_per_stride_uc"] == by_set[(cur, ramp, 120.0)]["charge_per_stride_uc"]
    write_outputs(result, out)
    best = load_toml(StimulatorConfig, out / "best_stimulator.toml")
    assert best.max_current_ma == result.best["stimulator.max_current_ma"]
    path.write_text(path.read_text().replace(extra, ""))  # the same settings with the default stimulator
    with pytest.raises(SafetyLimitError, match="stimulation.current_ma = 105.0.*max_current_ma 100"):
        load_study(path)
