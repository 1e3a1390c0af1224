"""``fes run``: the closed loop of walker, shank sensor, detector, controller, muscle and foot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fes_sim.cli.table import format_table
from fes_sim.config import resolve
from fes_sim.cli.options import SAMPLE_RATE_HELP, SAMPLE_RATE_HZ, SEED, SEED_HELP, Number, resolve_device
from fes_sim.errors import OutputError

DESCRIPTION = """\
Simulate a walker wearing a peroneal stimulator and report every stride.

The loop: walking simulator -> shank IMU model -> gait-event detector ->
stimulation controller -> tibialis anterior and foot model. The table has one
row per stride: heel-strike time (s), detected heel-off (s), stimulation on/off
(s), onset lead before toe-off (ms), charge (uC), minimum toe clearance (mm),
toe drag, and foot pitch at initial contact (deg, toe up positive).

The same seed gives identical tables, recordings and JSON (apart from
realtime_factor and startup_s, measured on the wall clock: the real-time factor
leaves out the start, where the first run compiles the simulator).
"""

#: simulated time of one run: one stride at least, a day at most
DURATION_S = Number(float, 1, 24 * 3600, "s")

STRIDE_HEADERS = ("stride", "HS s", "HO det s", "stim on s", "stim off s", "lead ms", "charge uC", "MTC mm", "drag", "pitch IC deg")
STRIDE_DECIMALS = (0, 2, 2, 2, 2, 0, 1, 1, 0, 1)
STRIDE_LEGEND = (
    "HS: true heel strike; HO det: heel-off as the detector saw it; lead: stimulation onset before toe-off;\n"
    "MTC: minimum toe clearance; pitch IC: foot pitch at initial contact (toe up +)"
)


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes run``."""
    p = subparsers.add_parser("run", help="run the closed loop and report each stride", description=DESCRIPTION, formatter_class=formatter_class)
    p.add_argument("--walker", default="drop_foot_mild", metavar="NAME|FILE", help="walker preset or TOML file")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME|FILE|off", help="controller preset, TOML file, or 'off' (detectors run, stimulation stays off)")
    p.add_argument("--stimulator", default="default", metavar="NAME|FILE", help="stimulator preset (safety limits) or TOML file (default: the preset 'default')")
    p.add_argument("--scenario", default="walk", metavar="NAME|FILE", help="activity scenario preset or TOML file")
    p.add_argument("--duration-s", type=DURATION_S, default=60.0, metavar="S", help=f"simulated time, {DURATION_S.range}")
    p.add_argument("--seed", type=SEED, default=1, metavar="N", help=SEED_HELP)
    p.add_argument("--sample-rate-hz", type=SAMPLE_RATE_HZ, default=200.0, metavar="HZ", help=SAMPLE_RATE_HELP)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write recording.csv, recording_events.csv, strides.csv and report.png here (default: no files)")
    p.add_argument("--json", action="store_true", help="print one JSON summary on stdout and nothing else")
    p.set_defaults(func=run)


def prepare_out_dir(out: Path | None) -> Path | None:
    """Create ``out`` and prove it is writable before any simulation starts."""
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".fes-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"--out {out}: not a writable directory ({exc.strerror})") from None
    return out


def run(args: argparse.Namespace) -> int:
    """Execute ``fes run``."""
    from fes_sim.session import SimulationSession

    controller, stimulator = resolve_device(args.controller, args.stimulator)
    session = SimulationSession(
        walker=resolve("walker", args.walker),
        controller=controller,
        stimulator=stimulator,
        scenario=resolve("scenario", args.scenario),
        sample_rate_hz=args.sample_rate_hz,
        labels={"walker": args.walker, "controller": args.controller, "stimulator": args.stimulator, "seed": args.seed},
    )
    out = prepare_out_dir(args.out)
    result = session.run(args.duration_s, args.seed, out_dir=out, progress=not args.json and sys.stderr.isatty())
    if args.json:
        json.dump(result.summary, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(
        f"{args.duration_s:g} s of walker {args.walker} (scenario {args.scenario}), controller {args.controller}, "
        f"stimulator {args.stimulator}, seed {args.seed}\n"
    )
    print(format_table(STRIDE_HEADERS, [r.__dict__.values() for r in result.rows], STRIDE_DECIMALS))
    print(STRIDE_LEGEND)
    print()
    print(result.summary_text())
    if out is not None:
        print(f"\nwrote {', '.join(str(p) for p in result.files)}")
    return 0
