"""``fes replay``: run a detector and the controller over a recorded file and score it."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from fes_sim.cli.options import Number, check_output_file, resolve_device
from fes_sim.cli.table import format_table
from fes_sim.controller_inputs import require_inputs
from fes_sim.errors import OutputError

log = logging.getLogger(__name__)

#: largest distance between a detected and a reference event that still counts as a match
TOLERANCE_MS = Number(float, 1, 2000, "ms")

DESCRIPTION = """\
Replay a recording through the device: tilt estimator, gait-event detector and
stimulation controller, exactly as they run in the simulator and on hardware.

Formats (recognised automatically):
  fes-sim recording  '# fes-sim recording v1' comments + header (docs/architecture.md)
  NONAN GaitPrint    shank_pitch_lt_deg ... (sign flipped: tilt = -shank_pitch)
  generic CSV        header with t_s and any of tilt_deg, acc_[xyz]_mps2,
                     gyr_[xyz]_dps, footswitch
Reference events come from NAME_events.csv (t_s,event) beside the file, from
--events, or for NONAN from the contact flags. NONAN heel-off: in each stance,
foot-flat is the sample of the first 60 % where the foot pitch changes slowest;
heel-off is the first later sample with the pitch more than 3 deg below it.
The first second is not scored (the causal detector locks on in one stride).

Axis mapping (--axes) sets each project axis from a file axis, optionally
negated, for accelerometer and gyro together; 'tilt=-tilt' flips a tilt channel:
  --axes x=-z,y=x,z=-y,tilt=-tilt
Without --axes the sagittal axis and the sign are detected from the signals and
reported. Project frame: x up the shank, y forward, z = x cross y; gyr_z = d(tilt)/dt.

Events are matched one-to-one (mutual nearest neighbour within --tolerance-ms).
Errors are detected minus reference (positive = late).
"""


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes replay``."""
    p = subparsers.add_parser("replay", help="run detector and controller over a recording and score it",
                              description=DESCRIPTION, formatter_class=formatter_class)
    p.add_argument("recording", type=Path, metavar="RECORDING", help="CSV file to replay")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME|FILE|off", help="controller preset, TOML file, or 'off'")
    p.add_argument("--stimulator", default="default", metavar="NAME|FILE", help="stimulator preset (safety limits) or TOML file (default: the preset 'default')")
    p.add_argument("--leg", default="right", choices=["left", "right"], help="leg of a two-leg (NONAN) file")
    p.add_argument("--axes", default=None, metavar="MAP",
                   help="axis and sign mapping, e.g. x=-z,y=x,z=-y,tilt=-tilt (default: detected from the signals)")
    p.add_argument("--events", type=Path, default=None, metavar="FILE",
                   help="reference events file (t_s,event) (default: NAME_events.csv beside NAME.csv, or a NONAN file's contact flags)")
    p.add_argument("--tolerance-ms", type=TOLERANCE_MS, default=150.0, metavar="MS",
                   help=f"largest detected-reference distance of a match, {TOLERANCE_MS.range}")
    p.add_argument("--json", action="store_true", help="print the per-event-type JSON summary only")
    p.add_argument("--plot", type=Path, default=None, metavar="FILE.png", help="write a PNG of tilt, events and envelope (default: no figure)")
    p.set_defaults(func=run)


def _fmt(v: float | int | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def run(args: argparse.Namespace) -> int:
    """Execute ``fes replay``."""
    from fes_sim.replay import json_summary, load_recording, replay, score_replay, stimulation_per_stride

    check_output_file(args.plot, "--plot")
    controller, stimulator = resolve_device(args.controller, args.stimulator)
    rec = load_recording(args.recording, leg=args.leg, events_file=args.events, axis_map=args.axes)
    require_inputs(controller, rec.channels, args.recording)
    for note in rec.notes:
        if args.json:
            log.info("%s", note)
        else:
            print(f"note: {note}")
    result = replay(rec, controller, stimulator)
    scores = score_replay(rec, result, args.tolerance_ms * 1e-3)
    if args.plot is not None:
        _plot(args.plot, rec, result)
    if args.json:
        print(json.dumps(json_summary(scores), indent=2))
        return 0
    print(f"{args.recording}: {rec.source}, {rec.t_s.size} samples at {rec.sample_rate_hz:.0f} Hz, "
          f"{len(result.events)} events detected, {len(rec.events)} reference events")
    rows = []
    for ev, score in scores.items():
        s = score.summary()
        rows.append((ev.label, s["n_reference"], s["n_detected"], s["sensitivity"], s["precision"],
                     s["median_error_ms"], s["iqr_error_ms"], s["p95_error_ms"],
                     s["median_abs_error_ms"], s["iqr_abs_error_ms"], s["p95_abs_error_ms"]))
    headers = ("event", "n ref", "n det", "sens", "prec", "median ms", "IQR ms", "p95 ms", "median |e| ms", "IQR |e| ms", "p95 |e| ms")
    print(format_table(headers, rows, (0, 0, 0, 3, 3, 1, 1, 1, 1, 1, 1)))
    stim = stimulation_per_stride(rec, result)
    print(f"stimulation: {stim['strides_stimulated']}/{stim['strides']} strides stimulated, median "
          f"{_fmt(100 * stim['stimulated_fraction'])} % of the stride, onset {_fmt(stim['onset_lead_ms'], 0)} ms before toe-off, "
          f"{len(result.pulses)} pulses")
    faults = sorted({f for f in result.faults if f})
    if faults:
        print(f"faults seen: {', '.join(faults)}")
    return 0


def _plot(path: Path, rec, result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fes_sim.samples import GaitEvent

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(12, 6))
    ax1.plot(result.t_s, result.tilt_est_deg, lw=0.8, color="k", label="tilt estimate")
    marks = {GaitEvent.HEEL_STRIKE: ("v", "tab:blue"), GaitEvent.HEEL_OFF: ("^", "tab:green"), GaitEvent.TOE_OFF: ("o", "tab:red")}
    for ev, (m, c) in marks.items():
        det = [t for t, e in result.events if e == ev]
        ref = [t for t, e in rec.events if e == ev]
        ax1.vlines(ref, 0, 1, transform=ax1.get_xaxis_transform(), color=c, lw=0.6, alpha=0.5)
        ax1.plot(det, [0.95] * len(det), m, color=c, transform=ax1.get_xaxis_transform(), label=f"{ev.label} detected (lines: reference)")
    ax1.set_ylabel("tilt (deg)")
    ax1.legend(loc="upper right", fontsize=7)
    ax2.plot(result.t_s, result.envelope, color="tab:orange")
    ax2.set_ylabel("envelope")
    ax2.set_xlabel("time (s)")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise OutputError(f"--plot {path}: cannot write ({exc.strerror})") from None
    finally:
        plt.close(fig)
