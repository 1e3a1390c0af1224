"""Benchmark of the walking simulator (prints medians; not a test).

* one walker, 1 kHz plant, 200 Hz sensor: the plant alone with a stimulation pattern,
  and the closed loop with the default device pipeline (issue target ≥ 200× real time);
* the population mode with N distinct walkers (target ≥ 20,000 walker-seconds per second,
  N = 1000): stepped one sensor period at a time with every output (truth included); one
  period at a time reading only the sensor, as a controller does; and advanced one second of
  periods per call, as ``fes tune`` drives it (its controllers read detections made
  beforehand), with and without the sensor.

Usage: python tools/bench_sim.py [--repeats 5] [--seconds 60] [--n 1000] [--pop-seconds 5]

Medians per CPU second on the 2-core machine, measured under load. First round: at the
start of the performance work (daaa331) and after it, load average 0.4-1.2. Second round
(vectorised sines, fewer full-rate temporaries): 4ccda9c and its result measured
alternately in one session, two rounds of ``--repeats 3``, load average 0.9-1.4.
docs/architecture.md, "Performance", has the analysis:

=============================================  =======  ===========  ===========  ============
                                               daaa331  first round  4ccda9c      second round
=============================================  =======  ===========  ===========  ============
plant only (x real time)                       157      270-330      182-257      192-220
closed loop, walkaide_tilt (x real time)       107      196-224      133-169      142-182
population N=1000, 1 kHz plant (walker-s/s)    941      1,650-2,170  1,970-1,990  2,540-3,290
population N=1000, 200 Hz plant (walker-s/s)   2,740    4,700-7,400  6,270-6,870  7,970-10,140
=============================================  =======  ===========  ===========  ============

Third round (the single plant in the compiled step, the compiled step and the block made
faster), on a quiet machine (load average 0.1-0.7), ``--repeats 5``, per CPU second:

=============================================  =======  ========
                                               53d2856  now
=============================================  =======  ========
plant only (x real time)                       246      407-419
closed loop, walkaide_tilt (x real time)       141      252-310
population N=1000, 1 kHz plant (walker-s/s)    2,751    5,088
population N=1000, 200 Hz plant (walker-s/s)   9,071    10,803
=============================================  =======  ========

Sixth round (IMU noise in the compiled pass, one record per step, the stride schedule in
numpy, a second-order swing foot that keeps 1 kHz clearances at 200 Hz), measured
alternately with a87a2e7, three rounds of ``--repeats 3``, medians of the rounds per CPU second:

=============================================  =======  ======
                                               a87a2e7  now
=============================================  =======  ======
plant only (x real time)                       489      455
closed loop, walkaide_tilt (x real time)       276      276
population N=1000, 1 kHz plant (walker-s/s)    4,566    5,167
population N=1000, 200 Hz plant (walker-s/s)   9,914    12,421
=============================================  =======  ======

Seventh round (normals with the generator in registers, feed-forward torque on contiguous rows,
truth outputs in one pass, periods held back by ``advance``; ``sensor_output=False``), N = 1000,
200 Hz plant unless noted, medians of three runs per CPU second, three rounds alternating with
754f2f8, this script's ``bench_population`` for both (the stimulation computed before the
clock starts), the range over the rounds:

==============================================  =============  =============
                                                754f2f8        now
==============================================  =============  =============
one period a call, every output (walker-s/s)    13,800-15,100  14,300-15,400
one period a call, reading only the sensor      (none)         18,200-20,700
one second ahead a call, with the sensor        19,600-22,100  18,900-22,200
one second ahead a call, no sensor output       (none)         29,300-30,400
one period a call, every output, 1 kHz plant    5,400-5,700    5,100-5,500
==============================================  =============  =============

Eighth round (the tilt filter vectorised, the transient's exponential written out, the
kernel's record read in place), the same measurement alternating with 6b69b6a:

==============================================  =============  =============
                                                6b69b6a        now
==============================================  =============  =============
one period a call, every output (walker-s/s)    13,200-14,300  13,500-14,700
one period a call, reading only the sensor      17,600-19,400  19,600-21,700
one second ahead a call, with the sensor        17,900-20,100  19,900-23,600
one second ahead a call, no sensor output       27,500-33,700  29,200-32,300
one period a call, every output, 1 kHz plant    5,400-5,700    5,400-6,400
==============================================  =============  =============

Ninth round (the population's truth in a vectorised pass, the swing pitch's sine kept between
calls, no prefetch of the lanes' state, less Python a period, walking angles on level ground
without the surface's weights), alternating with 91c4f49 over eight rounds, one run of each
line per round and version, per CPU second: the median over the rounds, the range, and the
median of the per-round ratios:

==============================================  ======================  ======================  =====
                                                91c4f49                 now                     ratio
==============================================  ======================  ======================  =====
one period a call, every output (walker-s/s)    20,139 (18,091-20,772)  21,249 (18,849-22,139)  1.06
one period a call, reading only the sensor      26,294 (24,150-26,880)  27,281 (21,806-27,912)  1.05
one second ahead a call, with the sensor        27,598 (26,146-27,983)  27,971 (21,637-28,811)  1.03
one second ahead a call, no sensor output       39,112 (23,749-40,574)  40,438 (36,986-41,820)  1.05
==============================================  ======================  ======================  =====

The same code measures 20-40 % slower in other hours on this shared machine (the eighth
round's figures above were taken in such an hour); compare versions only within one session.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from fes_sim.config import get_preset
from fes_sim.plant import WalkingPlant
from fes_sim.population import Population


#: the sensor rate of the population runs
SENSOR_RATE_HZ = 200.0


def _timed(fn: Callable[[], None]) -> tuple[float, float]:
    """Wall and CPU seconds of ``fn()`` (CPU time is steadier on a shared machine)."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _stim(k: int) -> tuple[float, float, float]:
    return (45.0, 300.0, 40.0) if k % 260 < 90 else (0.0, 0.0, 0.0)


def bench_plant(seconds: float) -> tuple[float, float]:
    plant = WalkingPlant(get_preset("walker", "drop_foot_severe"))
    plant.reset(1)
    n = int(seconds * plant.sample_rate_hz)

    def go() -> None:
        for k in range(n):
            plant.step(*_stim(k))

    wall, cpu = _timed(go)
    return seconds / wall, seconds / cpu


def bench_loop(seconds: float) -> tuple[float, float] | None:
    try:
        from fes_sim.device import DevicePipeline
        from fes_sim.loop import ClosedLoop
    except ImportError:
        return None
    plant = WalkingPlant(get_preset("walker", "drop_foot_severe"))
    pipeline = DevicePipeline(get_preset("controller", "walkaide_tilt"), get_preset("stimulator", "default"), sample_rate_hz=200.0)
    loop = ClosedLoop(plant, pipeline)
    wall, cpu = _timed(lambda: loop.run(seconds, 1))
    return seconds / wall, seconds / cpu


def _bursts(n: int, k0: int, periods: int) -> np.ndarray:
    """Currents (periods, n) from period ``k0``: 450 ms bursts every 1.3 s, each walker at its own phase."""
    k = np.arange(k0, k0 + periods)[:, None]
    return np.where((k + np.arange(n)) % 260 < 90, 45.0, 0.0)


def bench_population(
    n: int, seconds: float, plant_rate_hz: float, ahead: bool = False, sensor_output: bool = True, sensor_only: bool = False,
) -> tuple[float, float]:
    """Walker-seconds per second of a population stepped one sensor period at a time with all outputs
    (a controller that reads the plant), with ``sensor_only`` one period at a time reading only the
    sensor (:meth:`Population.advance` and :meth:`Population.sensors`, as a controller does), or with
    ``ahead`` advanced one second of periods per call (:meth:`Population.advance_many`, as
    ``fes tune`` drives it, there without sensor output). The stimulation is computed before the
    clock starts, and a population of two walkers runs the same calls first, so that the
    figure is the population's alone, without the compiler."""

    def drive(size: int, steps: int) -> Callable[[], None]:
        pop = Population.sample(
            get_preset("walker", "drop_foot_severe"), size, seed=3, sample_rate_hz=SENSOR_RATE_HZ, plant_rate_hz=plant_rate_hz,
            sensor_output=sensor_output,
        )
        pop.reset(1)
        rate = int(SENSOR_RATE_HZ)
        current = _bursts(size, 0, steps)
        pw, fr = np.full(size, 300.0), np.full(size, 40.0)

        def one_at_a_time() -> None:
            for k in range(steps):
                pop.step(current[k], pw, fr)

        def reading_the_sensor() -> None:
            for k in range(steps):
                pop.advance(current[k], pw, fr)
                pop.sensors()

        def one_second_ahead() -> None:
            for k0 in range(0, steps, rate):
                pop.advance_many(current[k0 : k0 + rate], pw, fr)

        return one_second_ahead if ahead else reading_the_sensor if sensor_only else one_at_a_time

    drive(2, 400)()
    wall, cpu = _timed(drive(n, int(seconds * SENSOR_RATE_HZ)))
    return n * seconds / wall, n * seconds / cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds per single-walker run")
    ap.add_argument("--n", type=int, default=1000, help="walkers in the population run")
    ap.add_argument("--pop-seconds", type=float, default=5.0, help="simulated seconds per population run")
    args = ap.parse_args()
    def report(label: str, runs: list, unit: str) -> None:
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"{label}: median {wall:,.0f}{unit} wall clock, {cpu:,.0f}{unit} per CPU second ({len(runs)} runs)")

    report("plant only, 1 kHz plant, 200 Hz sensor", [bench_plant(args.seconds) for _ in range(args.repeats)], "x real time")
    loop = [bench_loop(args.seconds) for _ in range(args.repeats)]
    if loop[0] is not None:
        report("closed loop with the walkaide_tilt pipeline", loop, "x real time")  # type: ignore[arg-type]
    for rate in (200.0, 1000.0):
        runs = [bench_population(args.n, args.pop_seconds, rate) for _ in range(args.repeats)]
        report(f"population N={args.n}, {rate:.0f} Hz plant, 200 Hz sensor, one period a call", runs, " walker-s/s")
    runs = [bench_population(args.n, args.pop_seconds, 200.0, sensor_only=True) for _ in range(args.repeats)]
    report(f"population N={args.n}, 200 Hz plant, 200 Hz sensor, one period a call reading the sensor", runs, " walker-s/s")
    for sensor_output, label in ((True, "200 Hz sensor"), (False, "no sensor output (fes tune)")):
        runs = [bench_population(args.n, args.pop_seconds, 200.0, ahead=True, sensor_output=sensor_output) for _ in range(args.repeats)]
        report(f"population N={args.n}, 200 Hz plant, {label}, 1 s ahead a call", runs, " walker-s/s")


if __name__ == "__main__":
    main()
