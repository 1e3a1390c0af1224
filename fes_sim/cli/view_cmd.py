"""``fes view``: the live viewer of a simulation, a replayed recording or a hardware-in-the-loop session."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from fes_sim.cli.options import SAMPLE_RATE_HELP, SAMPLE_RATE_HZ, SEED, SEED_HELP, Number, check_output_file, resolve_device
from fes_sim.config import resolve
from fes_sim.errors import FesError

SPEED = Number(float, 0.01, 100)
WINDOW_S = Number(float, 1, 120, "s")
FPS = Number(float, 1, 120)
QUIT_AFTER_S = Number(float, 0, 24 * 3600, "s", lo_open=True)

DESCRIPTION = """\
Watch the gait, the detected events and the stimulation as they happen, and
retune the controller and the walker while the simulation walks.

Sources: the closed-loop simulation (default), a recording (--replay FILE,
played at --speed times real time) or a device (--port URL, any port or URL the
bridge accepts, fesemu:// included). Needs the gui extra: pip install '.[gui]'.
"""


def add_parser(subparsers: Any, formatter_class: type) -> None:
    """Register ``fes view``."""
    p = subparsers.add_parser("view", help="live viewer: plots, leg animation, retuning", description=DESCRIPTION, formatter_class=formatter_class)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--port", metavar="URL", default=None,
                     help="watch a hardware-in-the-loop session on this port or URL (default: simulate)")
    src.add_argument("--replay", type=Path, metavar="FILE", default=None, help="replay this recording (default: simulate)")
    p.add_argument("--speed", type=SPEED, default=1.0, metavar="X", help=f"playback speed of a simulation or replay, x real time, {SPEED.range}")
    p.add_argument("--walker", default="drop_foot_mild", metavar="NAME|FILE", help="walker preset or TOML file")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME|FILE", help="controller preset or TOML file")
    p.add_argument("--stimulator", default="default", metavar="NAME|FILE", help="stimulator preset (safety limits) or TOML file (default: the preset 'default')")
    p.add_argument("--scenario", default="walk", metavar="NAME|FILE", help="activity scenario preset or TOML file")
    p.add_argument("--seed", type=SEED, default=1, metavar="N", help=SEED_HELP)
    p.add_argument("--sample-rate-hz", type=SAMPLE_RATE_HZ, default=200.0, metavar="HZ", help=SAMPLE_RATE_HELP)
    p.add_argument("--window-s", type=WINDOW_S, default=8.0, metavar="S", help=f"seconds of data on screen, {WINDOW_S.range}")
    p.add_argument("--fps", type=FPS, default=30.0, help=f"redraw rate in frames per second, {FPS.range}")
    p.add_argument("--screenshot", type=Path, metavar="PNG", default=None,
                   help="write a screenshot after --quit-after-s (5 s if not given) and quit (default: no screenshot)")
    p.add_argument("--quit-after-s", type=QUIT_AFTER_S, default=None, metavar="S",
                   help=f"close the window after this many wall-clock seconds, {QUIT_AFTER_S.range} (default: stay open)")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    check_output_file(args.screenshot, "--screenshot")
    if args.screenshot is not None and args.quit_after_s is None:
        args.quit_after_s = 5.0


def _check_display() -> None:
    """On X11/Wayland systems, a one-line error instead of Qt aborting the process without a display."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise FesError("fes view needs a display (DISPLAY and WAYLAND_DISPLAY are unset); "
                       "for a screenshot without one, set QT_QPA_PLATFORM=offscreen")


def _import_qt() -> Any:
    """pyqtgraph's Qt module, or a one-line FesError naming the missing extra."""
    try:
        from pyqtgraph.Qt import QtWidgets
    except ImportError as exc:
        raise FesError(f"fes view needs the gui extra: pip install '.[gui]' ({exc})") from None
    return QtWidgets


def build_source(args: argparse.Namespace, buffer: Any) -> tuple[Any, Any]:
    """The data source named by the arguments and, for a simulation, its :class:`Tuning`."""
    from fes_sim.viewer.tuning import Tuning

    controller, stimulator = resolve_device(args.controller, args.stimulator)
    if args.replay is not None:
        from fes_sim.viewer.replay_source import ReplaySource

        source = ReplaySource(buffer, args.replay, controller, stimulator, speed=args.speed)
        return source, Tuning(controller, stimulator)
    if args.port is not None:
        from fes_sim.viewer.hil_source import HilSource

        hil = HilSource(buffer, args.port, controller, stimulator)
        hil.connect()  # a bad port fails here, in one line, before any window opens
        return hil, None
    from fes_sim.viewer.sim_source import SimulationSource

    walker = resolve("walker", args.walker)
    source = SimulationSource(
        buffer, walker, controller, stimulator, resolve("scenario", args.scenario),
        sample_rate_hz=args.sample_rate_hz, seed=args.seed, speed=args.speed,
    )
    return source, Tuning(controller, stimulator, walker)


def run(args: argparse.Namespace) -> int:
    """Execute ``fes view``; returns when the window closes."""
    _check_args(args)
    QtWidgets = _import_qt()
    _check_display()
    from fes_sim.viewer.buffer import ViewerBuffer
    from fes_sim.viewer.window import ViewerWindow

    buffer = ViewerBuffer(capacity=int(args.window_s * 1000.0) + 1000)  # room for devices up to 1 kHz
    source, tuning = build_source(args, buffer)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["fes view"])
    window = ViewerWindow(source, tuning, window_s=args.window_s, fps=args.fps, title=f"fes view: {source.label}")
    if args.quit_after_s is not None:
        from pyqtgraph.Qt import QtCore

        def finish() -> None:
            if args.screenshot is not None:
                window.refresh()
                print(f"wrote {window.save_screenshot(args.screenshot)}")
            window.close()

        QtCore.QTimer.singleShot(int(args.quit_after_s * 1000), finish)
    window.show()
    try:
        app.exec()
    finally:
        source.stop()
    if source.error is not None:
        raise source.error
    return 0
