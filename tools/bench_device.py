"""Benchmark the device pipeline: one update (estimator + detector + controller) and replay throughput.

Targets (issue #4): one update median <= 10 us and p99 <= 50 us in CPython;
replay >= 200,000 samples/s. Usage::

    python tools/bench_device.py [--seconds 600] [--nonan ../shared/data/nonan/healthy_young.csv]

Input is a synthetic Winter-shaped walk (tilt channel and IMU variants) with
stimulation running, and, when the NONAN file is present, a replay of it.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
from pathlib import Path

import numpy as np

from fes_sim.control.config import ControllerConfig, EstimatorConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.replay import load_recording, replay
from fes_sim.replay.loaders import Recording
from fes_sim.samples import GRAVITY_MPS2, ShankSample

FS = 200.0
A = (-26.36, -8.08, 0.41, -0.69, 0.02, 0.19)
B = (-12.46, 9.98, 1.91, 0.79, 0.58, 0.18)


def synthetic_walk(seconds: float) -> Recording:
    """Winter's shank tilt (REFERENCE §2) repeated at 1 s strides, with gyro and accelerometer."""
    t = np.arange(0.0, seconds, 1.0 / FS)
    ph = t % 1.0
    tilt = 15.26 + sum(a * np.cos(2 * np.pi * k * ph) + b * np.sin(2 * np.pi * k * ph) for k, (a, b) in enumerate(zip(A, B), 1))
    gyr = np.gradient(tilt, t)
    rad = np.radians(tilt)
    ch = {"tilt_deg": tilt, "gyr_z_dps": gyr, "acc_x_mps2": GRAVITY_MPS2 * np.cos(rad),
          "acc_y_mps2": -GRAVITY_MPS2 * np.sin(rad), "acc_z_mps2": np.zeros_like(t)}
    return Recording(t_s=t, channels=ch, sample_rate_hz=FS, source="synthetic")


def time_updates(cfg: ControllerConfig, rec: Recording, channels: tuple[str, ...]) -> tuple[float, float, int]:
    """Median and p99 (us) of single DevicePipeline.update calls."""
    pipe = DevicePipeline(cfg, StimulatorConfig(), FS)
    s = ShankSample(0.0)
    cols = [(c, rec.channels[c].tolist()) for c in channels]
    times = rec.t_s.tolist()
    clock = time.perf_counter_ns
    update = pipe.update
    durations = [0] * len(times)
    gc.disable()
    try:
        for i, ti in enumerate(times):
            s.t_s = ti
            for name, col in cols:
                setattr(s, name, col[i])
            t0 = clock()
            update(s)
            durations[i] = clock() - t0
    finally:
        gc.enable()
    durations.sort()
    n = len(durations)
    return statistics.median(durations) / 1000.0, durations[min(n - 1, math.ceil(0.99 * n) - 1)] / 1000.0, n


def time_replay(rec: Recording, cfg: ControllerConfig, repeats: int = 3) -> float:
    """Best samples/s of :func:`fes_sim.replay.replay` over ``repeats`` runs."""
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        replay(rec, cfg, StimulatorConfig())
        best = max(best, rec.t_s.size / (time.perf_counter() - t0))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the synthetic walk (s)")
    parser.add_argument("--nonan", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared/data/nonan/healthy_young.csv")
    args = parser.parse_args()
    rec = synthetic_walk(args.seconds)
    cases = [
        ("walkaide_tilt, tilt channel", ControllerConfig(estimator=EstimatorConfig(source="tilt")), ("tilt_deg",)),
        ("walkaide_tilt, IMU + complementary filter", ControllerConfig(estimator=EstimatorConfig(source="imu")),
         ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_z_dps")),
        ("shank_gyro, IMU", ControllerConfig(detector="gyro", estimator=EstimatorConfig(source="imu")),
         ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_z_dps")),
    ]
    print(f"one update (estimator + detector + controller), {rec.t_s.size} samples, stimulation on each stride")
    for name, cfg, chans in cases:
        med, p99, n = time_updates(cfg, rec, chans)
        print(f"  {name:45s} median {med:5.2f} us   p99 {p99:5.2f} us   (targets 10 / 50)")
    tilt_only = Recording(t_s=rec.t_s, channels={"tilt_deg": rec.channels["tilt_deg"]}, sample_rate_hz=FS)
    print(f"replay, synthetic tilt walk: {time_replay(tilt_only, ControllerConfig()):,.0f} samples/s (target 200,000)")
    print(f"replay, synthetic IMU walk:  {time_replay(rec, cases[1][1]):,.0f} samples/s")
    if args.nonan.is_file():
        nonan = load_recording(args.nonan)
        print(f"replay, NONAN {args.nonan.name}: {time_replay(nonan, ControllerConfig()):,.0f} samples/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
