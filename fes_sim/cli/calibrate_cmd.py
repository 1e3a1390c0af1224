"""``fes calibrate``: fit a controller to one patient's calibration walk and write it as TOML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fes_sim.cli.options import check_output_file
from fes_sim.config import resolve
from fes_sim.controller_inputs import require_inputs
from fes_sim.config.schema import to_toml
from fes_sim.errors import OutputError, RecordingError

DESCRIPTION = """\
Fit the gait-event detector's thresholds to a calibration walk, as a clinician's
programming session would, and write the result as a controller TOML file.

The walk is any file 'fes replay' reads. Labels are optional:
  --labels none         thresholds from the walker's own signal only (default)
  --labels events       also fit the timing rules to the reference events
                        (NAME_events.csv, --events FILE, or NONAN contact flags)
  --labels hand-switch  fit them to a 'hand_switch' column (1 = pressed while
                        the foot should be lifted: press = heel-off, release =
                        heel strike)
The fitted values are printed as written. A fit outside the field's range is
written clamped to it, with a warning on stderr naming the field, the fit and
the range.
Then try it:  fes replay WALK.csv --controller OUT.toml
"""


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes calibrate``."""
    p = subparsers.add_parser("calibrate", help="fit detector thresholds to a calibration walk",
                              description=DESCRIPTION, formatter_class=formatter_class)
    p.add_argument("recording", type=Path, metavar="RECORDING", help="calibration walk (CSV)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.toml", help="controller file to write (required)")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME|FILE", help="starting controller")
    p.add_argument("--leg", default="right", choices=["left", "right"], help="leg of a two-leg (NONAN) file")
    p.add_argument("--axes", default=None, metavar="MAP",
                   help="axis and sign mapping, see fes replay --help (default: detected from the signals)")
    p.add_argument("--events", type=Path, default=None, metavar="FILE",
                   help="reference events file (t_s,event) (default: NAME_events.csv beside NAME.csv, or a NONAN file's contact flags)")
    p.add_argument("--labels", default="none", choices=["none", "events", "hand-switch"], help="which labels to fit timing to")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Execute ``fes calibrate``."""
    from fes_sim.detection.calibration import calibrate, hand_switch_labels
    from fes_sim.replay import load_recording

    if args.out.suffix != ".toml":
        raise OutputError(f"--out {args.out}: the controller file must end in .toml")
    check_output_file(args.out, "--out")
    base = resolve("controller", args.controller)
    rec = load_recording(args.recording, leg=args.leg, events_file=args.events, axis_map=args.axes)
    require_inputs(base, rec.channels, args.recording)
    labels = None
    if args.labels == "events":
        if not rec.events:
            raise RecordingError(f"{args.recording}: --labels events, but the recording has no reference events")
        labels = rec.events
    elif args.labels == "hand-switch":
        if rec.hand_switch is None:
            raise RecordingError(f"{args.recording}: --labels hand-switch, but there is no 'hand_switch' column")
        labels = hand_switch_labels(rec.t_s, rec.hand_switch)
    cal = calibrate(rec, base, labels)
    header = f"controller calibrated by fes calibrate from {args.recording} ({args.labels} labels)\n" + "\n".join(
        [*cal.notes, *(f"warning: {w}" for w in cal.warnings)]
    )
    try:
        args.out.write_text(to_toml(cal.config, header=header), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    for note in rec.notes + cal.notes:
        print(f"note: {note}")
    for key, value in cal.measured.items():
        print(f"  {key:22s} {value:10.3f}")
    for warning in cal.warnings:
        print(f"fes: warning: {warning}", file=sys.stderr)
    print(f"wrote {args.out}")
    return 0
