"""Benchmark of ``fes view``: frame rate and CPU use of drawing, on this machine, offscreen.

Runs the live closed-loop simulation (200 Hz samples, real time) in the viewer
window with the offscreen Qt platform. After a warm-up that fills the window
with data, every wall-clock second it records the frames drawn, the CPU time of
the GUI thread (all drawing happens there), the CPU time of the source thread
(the simulation) and the samples received. Each repeat opens a new window;
the figures printed are the medians over repeats of each repeat's median.

    python tools/bench_viewer.py --repeats 3 --seconds 15

Target (issue 6): 200 Hz data at >= 30 frames per second with the GUI thread
using less than half a core (CPU s per wall s < 0.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: per-second columns: frames/s, GUI thread CPU s/s, source thread CPU s/s, samples/s
COLUMNS = ("fps", "gui_cpu", "source_cpu", "samples_per_s")


def thread_cpu_s(native_id: int) -> float:
    """CPU time (user + system) of one thread of this process, from /proc (Linux)."""
    with open(f"/proc/self/task/{native_id}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_once(app: object, args: argparse.Namespace) -> list[tuple[float, float, float, float]]:
    """One window, one warm-up, then one row of :data:`COLUMNS` per wall-clock second."""
    from pyqtgraph.Qt import QtCore

    from fes_sim.config import resolve
    from fes_sim.viewer.buffer import ViewerBuffer
    from fes_sim.viewer.sim_source import SimulationSource
    from fes_sim.viewer.tuning import Tuning
    from fes_sim.viewer.window import ViewerWindow

    walker, controller, stimulator = resolve("walker", args.walker), resolve("controller", "walkaide_tilt"), resolve("stimulator", "default")
    buffer = ViewerBuffer(capacity=int(args.window_s * args.sample_rate_hz) + 1000)
    source = SimulationSource(buffer, walker, controller, stimulator, sample_rate_hz=args.sample_rate_hz)
    window = ViewerWindow(source, Tuning(controller, stimulator, walker), window_s=args.window_s, fps=args.fps)
    window.show()
    rows: list[tuple[float, float, float, float]] = []
    last = {"wall": time.perf_counter(), "gui": time.thread_time(), "src": 0.0, "frames": 0, "samples": 0}

    def tick() -> None:
        now, gui = time.perf_counter(), time.thread_time()
        src = thread_cpu_s(source._thread.native_id) if source.alive else last["src"]  # type: ignore[union-attr]
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
    app.exec()  # type: ignore[attr-defined]
    meter.stop()
    source.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="windows opened one after the other")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured wall-clock time per repeat")
    parser.add_argument("--warmup-s", type=float, default=9.0, help="discarded start (fills the window with data)")
    parser.add_argument("--fps", type=float, default=30.0, help="requested redraw rate")
    parser.add_argument("--window-s", type=float, default=8.0, help="seconds of data on screen")
    parser.add_argument("--sample-rate-hz", type=float, default=200.0)
    parser.add_argument("--walker", default="drop_foot_severe")
    args = parser.parse_args()

    from pyqtgraph.Qt import QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["bench_viewer"])
    per_repeat: list[tuple[float, ...]] = []
    for k in range(args.repeats):
        rows = measure_once(app, args)
        if not rows:
            print("no measurement (too short)")
            return 1
        medians = tuple(statistics.median(c) for c in zip(*rows))
        per_repeat.append(medians)
        print(f"repeat {k + 1}: " + "  ".join(f"{name} {v:.3f}" for name, v in zip(COLUMNS, medians))
              + f"  (min fps {min(r[0] for r in rows):.1f}, max GUI CPU {max(r[1] for r in rows):.3f})")
    fps, gui, src, rate = (statistics.median(c) for c in zip(*per_repeat))
    print(f"median of {args.repeats} repeats of {args.seconds:g} s after {args.warmup_s:g} s warm-up, "
          f"window {args.window_s:g} s, requested {args.fps:g} fps, load average {os.getloadavg()[0]:.1f}")
    print(f"data rate           {rate:7.1f} samples/s")
    print(f"frames drawn        {fps:7.1f} per s")
    print(f"GUI thread CPU      {gui:7.3f} s per s")
    print(f"source thread CPU   {src:7.3f} s per s (simulation, not drawing)")
    ok = fps >= 30.0 and gui < 0.5 and rate >= 0.95 * args.sample_rate_hz
    print("target (>= 30 fps, GUI < 0.5 core, full data rate):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
