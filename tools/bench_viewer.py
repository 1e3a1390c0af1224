"""Benchmark of ``fes view``: frame rate and CPU use of drawing, on this machine, offscreen.

Runs the live closed-loop simulation (200 Hz samples, real time) in the viewer
window with the offscreen Qt platform, and every wall-clock second records the
frames drawn, the CPU time of the GUI thread (all drawing happens there) and the
CPU time of the source thread (the simulation). Prints the medians.

    python tools/bench_viewer.py --seconds 20

Target (issue 6): 200 Hz data at >= 30 frames per second with the GUI thread
using less than half a core (CPU s per wall s < 0.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def thread_cpu_s(native_id: int) -> float:
    """CPU time (user + system) of one thread of this process, from /proc (Linux)."""
    with open(f"/proc/self/task/{native_id}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured wall-clock time")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="discarded start")
    parser.add_argument("--fps", type=float, default=30.0, help="requested redraw rate")
    parser.add_argument("--window-s", type=float, default=8.0, help="seconds of data on screen")
    parser.add_argument("--sample-rate-hz", type=float, default=200.0)
    parser.add_argument("--walker", default="drop_foot_severe")
    args = parser.parse_args()

    from pyqtgraph.Qt import QtCore, QtWidgets

    from fes_sim.config import resolve
    from fes_sim.viewer.buffer import ViewerBuffer
    from fes_sim.viewer.sim_source import SimulationSource
    from fes_sim.viewer.tuning import Tuning
    from fes_sim.viewer.window import ViewerWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench_viewer"])
    walker, controller, stimulator = resolve("walker", args.walker), resolve("controller", "walkaide_tilt"), resolve("stimulator", "default")
    buffer = ViewerBuffer(capacity=int(args.window_s * args.sample_rate_hz) + 1000)
    source = SimulationSource(buffer, walker, controller, stimulator, sample_rate_hz=args.sample_rate_hz)
    window = ViewerWindow(source, Tuning(controller, stimulator, walker), window_s=args.window_s, fps=args.fps)
    window.show()

    rows: list[tuple[float, float, float, float]] = []
    last = {"wall": time.perf_counter(), "gui": time.thread_time(), "src": 0.0, "frames": 0, "samples": 0}

    def tick() -> None:
        now, gui = time.perf_counter(), time.thread_time()
        src = thread_cpu_s(source._thread.native_id) if source.alive else 0.0  # type: ignore[union-attr]
        wall = now - last["wall"]
        rows.append(
            (
                (window.frames_drawn - last["frames"]) / wall,
                (gui - last["gui"]) / wall,
                (src - last["src"]) / wall,
                (buffer.samples_written - last["samples"]) / wall,
            )
        )
        last.update(wall=now, gui=gui, src=src, frames=window.frames_drawn, samples=buffer.samples_written)

    meter = QtCore.QTimer()
    meter.timeout.connect(tick)
    QtCore.QTimer.singleShot(int(args.warmup_s * 1000), lambda: (tick(), rows.clear(), meter.start(1000)))
    QtCore.QTimer.singleShot(int((args.warmup_s + args.seconds) * 1000) + 50, window.close)
    app.exec()
    source.stop()
    if not rows:
        print("no measurement (too short)")
        return 1
    fps, gui, src, rate = (statistics.median(c) for c in zip(*rows))
    print(f"measured {len(rows)} s after {args.warmup_s:g} s warm-up, window {args.window_s:g} s, requested {args.fps:g} fps")
    print(f"data rate           median {rate:7.1f} samples/s")
    print(f"frames drawn        median {fps:7.1f} per s   (min {min(r[0] for r in rows):.1f})")
    print(f"GUI thread CPU      median {gui:7.3f} s per s (max {max(r[1] for r in rows):.3f})")
    print(f"source thread CPU   median {src:7.3f} s per s (simulation, not drawing)")
    ok = fps >= 30.0 and gui < 0.5 and rate >= 0.95 * args.sample_rate_hz
    print("target (>= 30 fps, GUI < 0.5 core, full data rate):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
