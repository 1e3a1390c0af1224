"""``fes view``: the live viewer of a simulation, a replayed recording or a hardware-in-the-loop session."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fes_sim.config import resolve
from fes_sim.errors import ConfigError, FesError

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
    src.add_argument("--port", metavar="URL", default=None, help="watch a hardware-in-the-loop session on this port or URL")
    src.add_argument("--replay", type=Path, metavar="FILE", default=None, help="replay this recording")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed of a simulation or replay (x real time)")
    p.add_argument("--walker", default="drop_foot_mild", metavar="NAME|FILE", help="walker preset or TOML file")
    p.add_argument("--controller", default="walkaide_tilt", metavar="NAME|FILE", help="controller preset or TOML file")
    p.add_argument("--stimulator", default="default", metavar="NAME|FILE", help="stimulator preset (safety limits) or TOML file")
    p.add_argument("--scenario", default="walk", metavar="NAME|FILE", help="activity scenario preset or TOML file")
    p.add_argument("--seed", type=int, default=1, help="random seed of the simulation")
    p.add_argument("--sample-rate-hz", type=float, default=200.0, help="shank sensor rate of the simulation (Hz)")
    p.add_argument("--window-s", type=float, default=8.0, help="seconds of data on screen")
    p.add_argument("--fps", type=float, default=30.0, help="redraw rate (frames per second)")
    p.add_argument("--screenshot", type=Path, metavar="PNG", default=None, help="write a screenshot after --quit-after-s and quit")
    p.add_argument("--quit-after-s", type=float, default=None, metavar="S", help="close the window after this many wall-clock seconds")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    if not 0.01 <= args.speed <= 100.0:
        raise ConfigError(f"--speed: {args.speed!r} is out of range (0.01 <= value <= 100)")
    if not 1.0 <= args.window_s <= 120.0:
        raise ConfigError(f"--window-s: {args.window_s!r} is out of range (1 <= value <= 120 s)")
    if not 1.0 <= args.fps <= 120.0:
        raise ConfigError(f"--fps: {args.fps!r} is out of range (1 <= value <= 120)")
    if args.screenshot is not None and args.quit_after_s is None:
        args.quit_after_s = 5.0


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

    controller = resolve("controller", args.controller)
    stimulator = resolve("stimulator", args.stimulator)
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
