"""Benchmark of ``fes tune``: parameter sets × walkers × seconds of walking, wall and CPU time.

The issue's target: 1,000 parameter sets × 20 walkers × 60 s (1.2 M walker-seconds) in
under 2 minutes on a 2-core machine::

    python tools/bench_tune.py                         # the full target (default)
    python tools/bench_tune.py --sets 100 --repeat 3   # a tenth of it, median of 3
    python tools/bench_tune.py --plant-rate-hz 200     # the study's plant at 200 Hz (18-19 s against 42-43 s)

The study is a Latin hypercube over stimulation amplitude, ramps and extension of the
``walkaide_tilt`` controller, for 20 walkers sampled around ``drop_foot_severe`` on the
``walk`` scenario (or ``--scenario``), evaluated by the lanes engine on local processes
(or ``--scheduler``).
Prints, per run and as medians, the wall time and the CPU time of this process and its
worker processes, walker-seconds per wall second and per CPU second (the steadier figure
on a shared machine), and the load average before the runs.

The full target on the 2-core machine under load (load average 0.3-0.9): 51-59 s wall,
99-115 CPU-s (before the performance work, daaa331: 438 s wall, 424 CPU-s at load 3.3);
docs/tuning.md, "Performance", has the breakdown.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from fes_sim.tuning import load_study, run_study

STUDY = """\
name = "bench"
controller = "walkaide_tilt"
scenarios = ["{scenario}"]
duration_s = {duration_s}
engine = "{engine}"
plant_rate_hz = {plant_rate_hz}

[walkers]
walker = "drop_foot_severe"
population = {walkers}

[search]
method = "lhs"
samples = {sets}
chunk = {chunk}

[[parameters]]
path = "stimulation.current_ma"
lo = 15.0
hi = 60.0

[[parameters]]
path = "stimulation.ramp_up_ms"
lo = 0.0
hi = 200.0

[[parameters]]
path = "stimulation.extension_ms"
lo = 0.0
hi = 300.0

[objective]
metric = "charge_per_stride_uc"

[[constraints]]
metric = "mtc_p5_mm"
min = 10.0
"""

TARGET_WALKER_S = 1000 * 20 * 60.0


def _cpu_s() -> float:
    """User + system CPU seconds of this process and of its finished child processes."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", type=int, default=1000)
    ap.add_argument("--walkers", type=int, default=20)
    ap.add_argument("--duration-s", type=float, default=60.0)
    ap.add_argument("--scenario", default="walk", help="scenario preset or file (mixed activities run one scalar plant per lane)")
    ap.add_argument("--chunk", type=int, default=0, help="parameter sets per task (0: automatic, see fes_sim.tuning.runner.task_count)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engine", choices=("lanes", "loop"), default="lanes")
    ap.add_argument("--plant-rate-hz", type=float, default=1000.0, help="the study's plant_rate_hz")
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    walker_s = args.sets * args.walkers * args.duration_s
    load = os.getloadavg()
    walls, cpus = [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.toml"
            path.write_text(STUDY.format(
                duration_s=args.duration_s, walkers=args.walkers, sets=args.sets, chunk=args.chunk, engine=args.engine, scenario=args.scenario,
                plant_rate_hz=args.plant_rate_hz,
            ))
            study = load_study(path)
            t0, c0 = time.perf_counter(), _cpu_s()
            result = run_study(study, Path(tmp) / "out", scheduler=args.scheduler, workers=args.workers, progress=False)
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu_s() - c0)
            assert result.evaluated == args.sets
            print(f"  run {i + 1}: wall {walls[-1]:.1f} s, CPU {cpus[-1]:.1f} s")
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(
        f"bench_tune: {args.sets} sets x {args.walkers} walkers x {args.duration_s:g} s = {walker_s:,.0f} walker-s, "
        f"scenario {args.scenario}, engine {args.engine}, plant {args.plant_rate_hz:g} Hz, on {result.where}; load average before: {' '.join(f'{x:.2f}' for x in load)}"
    )
    print(f"  median of {args.repeat}: wall {wall:.1f} s, CPU {cpu:.1f} s (this process and its workers)")
    print(f"  {walker_s / wall:,.0f} walker-s per wall second, {walker_s / cpu:,.0f} walker-s per CPU second")
    print(f"  the full target (1.2 M walker-s) at this rate: {TARGET_WALKER_S * wall / walker_s:.0f} s wall (goal < 120 s)")


if __name__ == "__main__":
    main()
