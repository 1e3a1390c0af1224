"""``fes tune --scheduler``: the same study on a real local Dask cluster gives the same rows."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from fes_sim.errors import OutputError
from fes_sim.tuning import load_study, run_study
from tune_helpers import write_study

distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] not installed (pip install 'fes-sim[tune]')")

ROOT = Path(__file__).resolve().parents[1]


def test_study_on_a_local_dask_cluster_matches_in_process(tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, samples=4))
    local = run_study(study, tmp_path / "local", workers=0, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_study(study, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
        assert on_dask.where == f"dask scheduler {cluster.scheduler_address}"
    assert on_dask.evaluated == 4
    assert {r["key"]: r["objective"] for r in on_dask.rows} == {r["key"]: r["objective"] for r in local.rows}


def test_fes_tune_scheduler_local_starts_a_quiet_cluster_and_matches_in_process(tmp_path: Path) -> None:
    path = write_study(tmp_path, samples=3)
    local = run_study(load_study(path), tmp_path / "local", workers=0, progress=False)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "fes_sim", "tune", str(path), "--out", str(out), "--scheduler", "local", "--workers", "2", "--no-progress"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # Dask's INFO lines (about 33 of them) are kept out
    assert "ran on dask scheduler tcp://" in proc.stdout
    with (out / "results.csv").open(newline="") as fh:
        rows = {r["key"]: float(r["objective"]) for r in csv.DictReader(fh)}
    assert rows == {r["key"]: r["objective"] for r in local.rows}


def test_scheduler_local_checks_the_results_file_before_starting_a_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = load_study(write_study(tmp_path, samples=1))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.csv").write_text("key\n")

    def no_cluster(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cluster was started for a study that cannot run")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    with pytest.raises(OutputError, match="--resume"):
        run_study(study, tmp_path / "out", scheduler="local", progress=False)
