"""Tasks a scheduler runs: prepare a walker × scenario, evaluate a chunk of parameter sets.

Both are plain functions of picklable arguments, so the same code runs in-process,
in a local process pool or on Dask workers.
"""

from __future__ import annotations

from typing import Sequence

from fes_sim.tuning.lanes_engine import Prepared, prepare, run_lanes
from fes_sim.tuning.loop_engine import run_loop
from fes_sim.tuning.metrics import aggregate
from fes_sim.tuning.space import Value
from fes_sim.tuning.workload import Workload


def prepare_task(item: tuple[int, int], workload: Workload) -> Prepared:
    """Stimulation-free run of walker ``item[0]`` on scenario ``item[1]``, with base detection."""
    return prepare(workload, item[0], item[1], workload.space.base)


def evaluate_chunk(
    values: Sequence[Sequence[Value]], workload: Workload, engine: str, prepared: dict[tuple[int, int], Prepared] | None
) -> list[dict[str, float]]:
    """Metrics of each parameter set in ``values`` (numbers and named settings; see :data:`fes_sim.tuning.metrics.METRICS`),
    each run with its own controller and stimulator."""
    controllers = [workload.space.apply(v) for v in values]
    stimulators = [workload.space.stimulator_for(v) for v in values]
    if engine == "loop":
        return [aggregate(run_loop(workload, c, s)) for c, s in zip(controllers, stimulators)]
    assert prepared is not None
    return [aggregate(records) for records in run_lanes(workload, controllers, prepared, stimulators)]
