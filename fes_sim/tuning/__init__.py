"""``fes tune``: sweeps and optimisation of controller settings over walker populations.

The few names a user needs::

    from fes_sim.tuning import load_study, run_study, write_outputs
    study = load_study("configs/studies/charge_vs_clearance.toml")   # validated before any work
    result = run_study(study, out_dir, scheduler=None, resume=True)   # results.csv, resumable
    write_outputs(result, out_dir)                                    # best TOML, plots, summary
"""

from pathlib import Path

from fes_sim.tuning.runner import StudyResult, run_study
from fes_sim.tuning.study import Study, load_study

__all__ = ["Study", "StudyResult", "load_study", "run_study", "write_outputs"]


def write_outputs(result: StudyResult, out_dir: Path) -> list[Path]:
    """Best controller TOML, Pareto and sensitivity PNGs and summary (:mod:`fes_sim.tuning.outputs`,
    imported here on first use so matplotlib loads only when plots are written)."""
    from fes_sim.tuning.outputs import write_outputs as _write

    return _write(result, out_dir)
