"""``fes compare``: no treatment, ankle-foot orthoses and stimulation on the same walk."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fes_sim.cli.table import format_cell, format_table
from fes_sim.config import resolve
from fes_sim.config.presets import preset_names
from fes_sim.cli.options import SAMPLE_RATE_HELP, SAMPLE_RATE_HZ, SEED, SEED_HELP, Number, check_output_file, resolve_device

DESCRIPTION = """\
Would a brace do as well? Run one walker through several treatments on the same
seeded walk and print the outcomes side by side.

Conditions (comma-separated): none, fes, afo_<preset> ({afos}), an AFO .toml
file, or fes joined to one AFO with '+', e.g. fes+afo_hinged.

Rows: toe-drag strides, minimum toe clearance (MTC, median and 5th percentile),
foot pitch at initial contact (toe up positive), peak plantarflexion in push-off,
the ankle's range of motion from heel-off to toe-off, and the push-off
restriction (that range without an orthosis minus the range with it: the known
cost of a rigid AFO), and the stimulated strides.

Also writes one figure, mean toe height and ankle angle over the stride per
condition, to compare_<walker>.png in the current folder (--plot FILE.png to
choose the file, --no-plot for none) and prints its path.
"""

#: simulated time per condition (fes_sim.compare checks the same range)
DURATION_S = Number(float, 5, 3600, "s")

#: (label, metric path, decimals)
ROWS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("strides", ("strides",), 0),
    ("toe-drag strides", ("toe_drag_strides",), 0),
    ("toe drag %", ("toe_drag_pct",), 0),
    ("MTC median mm", ("mtc_mm", "median"), 1),
    ("MTC p5 mm", ("mtc_mm", "p5"), 1),
    ("foot pitch at IC deg", ("foot_pitch_ic_deg_median",), 1),
    ("push-off peak PF deg", ("push_off_pf_deg_median",), 1),
    ("late-stance range deg", ("late_stance_range_deg_median",), 1),
    ("push-off restriction deg", ("push_off_restriction_deg",), 1),
    ("stimulated strides", ("stim", "stimulated_strides"), 0),
)


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes compare``."""
    p = subparsers.add_parser(
        "compare", help="compare no treatment, orthoses and stimulation on the same walk",
        description=DESCRIPTION.format(afos=", ".join(preset_names("afo"))), formatter_class=formatter_class,
    )
    p.add_argument("--walker", default="drop_foot_severe", metavar="NAME|FILE", help="walker preset or TOML file")
    p.add_argument("--conditions", default="none,afo_rigid,afo_hinged,fes", metavar="LIST", help="comma-separated conditions")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME|FILE", help="controller of the 'fes' conditions")
    p.add_argument("--stimulator", default="default", metavar="NAME|FILE", help="stimulator preset (safety limits) or TOML file (default: the preset 'default')")
    p.add_argument("--scenario", default="walk", metavar="NAME|FILE", help="activity scenario preset or TOML file")
    p.add_argument("--duration-s", type=DURATION_S, default=60.0, metavar="S", help=f"simulated time per condition, {DURATION_S.range}")
    p.add_argument("--seed", type=SEED, default=1, metavar="N", help=SEED_HELP)
    p.add_argument("--sample-rate-hz", type=SAMPLE_RATE_HZ, default=200.0, metavar="HZ", help=SAMPLE_RATE_HELP)
    plot = p.add_mutually_exclusive_group()
    plot.add_argument("--plot", type=Path, default=None, metavar="FILE.png",
                      help="PNG of mean-cycle toe height and ankle angle per condition (default: compare_<walker>.png in the current folder)")
    plot.add_argument("--no-plot", action="store_true", help="write no figure")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.set_defaults(func=run)


def _value(metrics: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = metrics
    for key in path:
        value = value[key]
    return value


def comparison_table(comparison: Any) -> str:
    """Metrics as rows, conditions as columns."""
    headers = ["", *(r.condition.name for r in comparison.conditions)]
    rows = [
        [label, *(format_cell(_value(r.metrics, path), decimals) for r in comparison.conditions)]
        for label, path, decimals in ROWS
    ]
    return format_table(headers, rows, [0] * len(headers))


def plot_path(args: argparse.Namespace) -> Path | None:
    """Where the figure goes: ``--plot``, else ``compare_<walker>.png`` here (a walker file by its stem); None with ``--no-plot``."""
    if args.no_plot:
        return None
    return args.plot if args.plot is not None else Path(f"compare_{Path(args.walker).stem}.png")


def run(args: argparse.Namespace) -> int:
    """Execute ``fes compare``."""
    from fes_sim.compare import compare, parse_conditions, plot_mean_cycles

    conditions = parse_conditions(args.conditions)
    plot_file = plot_path(args)
    check_output_file(plot_file, "--plot")
    walker = resolve("walker", args.walker)
    controller, stimulator = resolve_device(args.controller, args.stimulator)
    comparison = compare(
        walker, conditions,
        controller=controller,
        stimulator=stimulator,
        scenario=resolve("scenario", args.scenario),
        duration_s=args.duration_s, seed=args.seed, sample_rate_hz=args.sample_rate_hz,
    )
    plot = None
    if plot_file is not None:
        title = f"walker {args.walker}, seed {args.seed}, {args.duration_s:g} s per condition"
        plot = plot_mean_cycles(comparison, plot_file, title=title)
    if args.json:
        out = {"walker": args.walker, "controller": args.controller, "plot": None if plot is None else str(plot), **comparison.as_dict()}
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    print(f"walker {args.walker}, seed {args.seed}, {args.duration_s:g} s per condition, fes = {args.controller}")
    print(comparison_table(comparison))
    if plot is not None:
        print(f"\nwrote {plot}")
    return 0
