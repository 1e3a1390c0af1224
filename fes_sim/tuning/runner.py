"""Run a study: choose parameter sets, evaluate what is not on disk yet, keep every row.

:func:`run_study` is the library behind ``fes tune``::

    from fes_sim.tuning import load_study, run_study
    result = run_study(load_study("configs/studies/charge_vs_clearance.toml"), Path("out"))
    result.best["values"], result.best["metrics"]["mtc_p5_mm"]

Grid, random and Latin-hypercube studies evaluate a fixed list of parameter sets;
``differential_evolution`` asks :func:`scipy.optimize.differential_evolution` for
generations and evaluates each generation in parallel (``updating="deferred"``),
minimising the objective with a penalty for missed constraints
(:func:`fes_sim.tuning.metrics.penalised`). Every evaluation goes through the
results file first, so an interrupted study resumed with the same file recomputes
nothing it already has (the optimiser replays its seeded path through the cache).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from fes_sim.errors import OutputError
from fes_sim.tuning.evaluate import evaluate_chunk, prepare_task
from fes_sim.tuning.executor import Executor
from fes_sim.tuning.lanes_engine import Prepared
from fes_sim.tuning.metrics import penalised, score
from fes_sim.tuning.store import ResultStore, fingerprint, param_key
from fes_sim.tuning.space import Value
from fes_sim.tuning.study import Study
from fes_sim.tuning.workload import Workload

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass
class StudyResult:
    """Rows of a finished study (only this study's parameter sets), and its best row."""

    study: Study
    workload: Workload
    rows: list[dict[str, Any]]
    best: dict[str, Any] | None
    evaluated: int
    reused: int
    where: str
    files: list[Path] = field(default_factory=list)


class _Evaluations:
    """Evaluates parameter sets through the results store, in chunks on an executor."""

    def __init__(self, study: Study, workload: Workload, store: ResultStore, executor: Executor, progress: Any) -> None:
        self.study = study
        self.workload = workload
        self.store = store
        self.executor = executor
        self.progress = progress
        self.fp = fingerprint(workload, study.engine)
        self.prepared: dict[tuple[int, int], Prepared] | None = None
        self.evaluated = 0
        self.reused = 0

    def _prepare(self) -> dict[tuple[int, int], Prepared]:
        if self.prepared is None:
            w = self.workload
            items = [(i, j) for i in range(len(w.walkers)) for j in range(len(w.scenarios))]
            if self.progress is not None:
                self.progress.set_postfix_str(f"preparing {len(items)} walker x scenario runs")
            self.prepared = {items[i]: prep for i, prep in self.executor.map_unordered(prepare_task, items, w)}
            if self.progress is not None:
                self.progress.set_postfix_str("")
        return self.prepared

    def run(self, sets: np.ndarray) -> list[dict[str, Any]]:
        """Rows of ``sets`` (one per row of a sampler's array), computing only the missing ones."""
        values = [self.workload.space.decode(row) for row in sets]
        keys = [param_key(self.fp, v) for v in values]
        missing: dict[str, list[Value]] = {}
        for k, v in zip(keys, values):
            if k not in self.store and k not in missing:
                missing[k] = v
        self.reused += len(set(keys)) - len(missing)
        if self.progress is not None:
            self.progress.update(len(keys) - len(missing))
        if missing:
            prepared = self._prepare() if self.study.engine == "lanes" else None
            todo = list(missing.items())
            n_tasks = task_count(len(todo), len(self.workload.walkers), self.executor.workers, self.study.search.chunk)
            chunks = [todo[len(todo) * i // n_tasks:len(todo) * (i + 1) // n_tasks] for i in range(n_tasks)]
            items = [[v for _, v in c] for c in chunks]
            for index, metrics_list in self.executor.map_unordered(
                evaluate_chunk, items, self.workload, self.study.engine, prepared
            ):
                for (key, set_values), metrics in zip(chunks[index], metrics_list):
                    self.store.add(key, set_values, metrics)
                    self.evaluated += 1
                if self.progress is not None:
                    self.progress.update(len(metrics_list))
        return [self.store.rows[k] for k in keys]


#: walker lanes per task that amortise the per-step overhead without huge blocks
LANES_PER_TASK = 1000


def task_count(n_sets: int, n_walkers: int, workers: int, chunk: int = 0) -> int:
    """Tasks to split ``n_sets`` parameter sets into (the sets are shared out evenly).

    With ``chunk`` (``search.chunk``): at most that many sets per task. Otherwise at
    most about :data:`LANES_PER_TASK` walker lanes per task, and a multiple of the
    worker count so no worker idles at the end (a lanes step costs about the same
    for 10 lanes as for 100, so small batches are split only as far as there are
    workers to run them).
    """
    if chunk:
        return -(-n_sets // chunk)
    w = max(1, workers)
    by_lanes = max(1, -(-n_sets * n_walkers // LANES_PER_TASK))
    return max(1, min(n_sets, -(-by_lanes // w) * w))


def parameter_sets(study: Study, workload: Workload) -> np.ndarray:
    """The fixed list of parameter sets of a grid, random or lhs study."""
    space, search = workload.space, study.search
    if search.method == "grid":
        return space.grid(search.grid_points)
    if search.method == "random":
        return space.random(search.samples, search.seed)
    return space.lhs(search.samples, search.seed)


def best_row(rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The feasible row with the lowest objective, else the row that misses constraints least."""
    rows = list(rows)
    if not rows:
        return None
    return min(rows, key=lambda r: (not r["feasible"], r["violation"] if not r["feasible"] else 0.0, r["objective"]))


def _run_de(study: Study, evals: _Evaluations) -> list[dict[str, Any]]:
    from scipy.optimize import differential_evolution

    search = study.search
    seen: dict[str, dict[str, Any]] = {}

    def mapper(func: Callable, population: Iterable[np.ndarray]) -> list[float]:
        sets = np.array(list(population), dtype=float)
        rows = evals.run(sets)
        for r in rows:
            seen[r["key"]] = r
        return [penalised(r, study.objective, study.constraints) for r in rows]

    def unused(x: np.ndarray) -> float:  # differential_evolution needs a callable; the mapper does the work
        raise AssertionError("evaluated through the mapper")

    differential_evolution(
        unused, evals.workload.space.bounds, workers=mapper, updating="deferred", maxiter=search.maxiter,
        popsize=search.popsize, seed=search.seed, polish=False, tol=0.0, init="latinhypercube",
    )
    return list(seen.values())


def expected_evaluations(study: Study, workload: Workload) -> int:
    """Parameter sets the study will evaluate (an upper bound for differential evolution)."""
    if study.search.method == "differential_evolution":
        d = len(study.parameters)
        return study.search.popsize * d * (study.search.maxiter + 1)
    return len(parameter_sets(study, workload))


def run_study(
    study: Study,
    out_dir: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    resume: bool = False,
    progress: bool = True,
) -> StudyResult:
    """Evaluate ``study`` and write ``results.csv`` in ``out_dir`` (outputs: :mod:`fes_sim.tuning.outputs`).

    Raises
    ------
    OutputError
        ``out_dir`` cannot be written, or holds a results file and ``resume`` is False.
    """
    workload = Workload.from_study(study)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot create ({exc.strerror})") from None
    bar = None
    scorer = partial(score, objective=study.objective, constraints=study.constraints)
    # the results file first: a refused --out must not wait for a cluster to start
    with ResultStore(out_dir / "results.csv", workload.space.names, scorer, resume) as store, Executor(scheduler, workers) as ex:
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=expected_evaluations(study, workload), unit="set", desc=study.name, dynamic_ncols=True)
        evals = _Evaluations(study, workload, store, ex, bar)
        try:
            if study.search.method == "differential_evolution":
                rows = _run_de(study, evals)
            else:
                rows = evals.run(parameter_sets(study, workload))
        finally:
            if bar is not None:
                bar.close()
        where = ex.description
    return StudyResult(study, workload, rows, best_row(rows), evals.evaluated, evals.reused, where)
