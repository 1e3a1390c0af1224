"""``fes tune --scheduler``: the same study on a real local Dask cluster gives the same rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from fes_sim.tuning import load_study, run_study
from tune_helpers import write_study

distributed = pytest.importorskip("dask.distributed", reason="dask[distributed] not installed (pip install 'fes-sim[tune]')")


def test_study_on_a_local_dask_cluster_matches_in_process(tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, samples=4))
    local = run_study(study, tmp_path / "local", workers=0, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_study(study, tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
        assert on_dask.where == f"dask scheduler {cluster.scheduler_address}"
    assert on_dask.evaluated == 4
    assert {r["key"]: r["objective"] for r in on_dask.rows} == {r["key"]: r["objective"] for r in local.rows}
