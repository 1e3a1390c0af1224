"""``fes tune STUDY``: sweep or optimise controller and stimulator settings over walkers, locally or on Dask."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from fes_sim.cli.options import Number

DESCRIPTION = """\
Evaluate many controller and stimulator settings on simulated walkers and pick the best.

STUDY is a TOML file (examples in configs/studies/, guide in docs/tuning.md): the
parameters to search by dotted path (ranges such as stimulation.ramp_up_ms or
tilt.heel_off_fraction, named settings such as stimulation.timing = fixed or
percent, stimulator limits such as stimulator.electrode_area_cm2), grid, random, Latin-hypercube sampling or differential evolution, the
walker or a population around it, scenarios (standing and sitting count false
triggers, and cost far more than walking alone), the objective and constraints
(e.g. minimise charge_per_stride_uc with toe_drag_rate <= 0 and mtc_p5_mm >= 10).
The file is checked before any work: unknown parameters, empty ranges and settings
beyond the stimulator's safety limits are refused.

Writes to --out: results.csv (one row per parameter set, appended as each
finishes), best_controller.toml (and best_stimulator.toml when stimulator
fields are searched), pareto.png (charge against clearance),
sensitivity_<parameter>.png and summary.txt. An interrupted study continues with
--resume; finished rows are not recomputed, and all rows are scored again with the
study's present objective and constraints.

Runs on local processes by default, or on a Dask cluster with --scheduler
ADDRESS (tcp://host:8786; 'local' starts a Dask LocalCluster here).
"""


WORKERS = Number(int, 0)


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes tune``."""
    p = subparsers.add_parser("tune", help="sweep or optimise controller settings over walkers", description=DESCRIPTION, formatter_class=formatter_class)
    p.add_argument("study", type=Path, metavar="STUDY", help="study TOML file")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output directory (default: tune_<study name>)")
    p.add_argument("--resume", action="store_true", help="continue the results.csv in --out, skipping finished parameter sets")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler address, or 'local' for a Dask LocalCluster (default: no Dask, local processes)")
    p.add_argument("--workers", type=WORKERS, default=None, metavar="N",
                   help=f"local worker processes, {WORKERS.range}; 0 = in this process (default: CPU count)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown only when stderr is a terminal)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``fes tune``."""
    from fes_sim.tuning import load_study, run_study, write_outputs
    from fes_sim.tuning.outputs import summary_text

    if args.scheduler is not None and not args.verbose:
        _quiet_dask()

    study = load_study(args.study)
    out = args.out if args.out is not None else Path(f"tune_{study.name}")
    result = run_study(study, out, scheduler=args.scheduler, workers=args.workers, resume=args.resume, progress=not args.no_progress and sys.stderr.isatty())
    files = write_outputs(result, out)
    print(summary_text(result, files))
    return 0


def _quiet_dask() -> None:
    """Dask logs every scheduler and worker start and stop at INFO; keep its warnings only.

    Its logging configuration is applied when it is imported, so it is imported first.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        return  # the executor reports the missing package
    logging.getLogger("distributed").setLevel(logging.WARNING)
