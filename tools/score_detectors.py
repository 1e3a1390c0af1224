"""Gait-event detection figures per walker, input, sample rate and activity (issue #4).

Simulator: closed loop with the controller's own stimulation (so a drop-foot walker lands
heel first, as when stimulated), the walker's own variability and sensor errors, events
scored after 3 s of lock-on (``--from-s``) with a 150 ms matching tolerance. Input is
the fused tilt channel alone (``tilt``, rate from its difference), raw accelerometer +
gyro through :class:`~fes_sim.detection.estimator.TiltEstimator` (``imu``), or both
(``both``: the tilt channel with the gyro rate, as a stroke recording with fused tilt
delivers), at 200 and 100 Hz.

* ``--scenario walk`` (default) scores level walking; ``--scenario slopes`` scores the
  walking segments of level, uphill and downhill walking separately (``--slope-deg``).
* ``--not-walking`` runs the ``false_triggers`` and ``daily_mix`` scenarios and prints the
  stimulation delivered while not walking and the walking strides stimulated.
* NONAN GaitPrint (Wiles et al. 2023) is replayed at 200 Hz and decimated to 100 Hz when
  ``../shared/data/nonan`` exists (``--no-nonan`` skips it).
* ``--estimator`` prints the tilt-estimator error against the simulator's true tilt.

Usage::

    python tools/score_detectors.py [--seconds 60] [--seeds 1 2] [--controller walkaide_tilt]
        [--scenario walk|slopes] [--not-walking] [--set tilt.toe_off_lag_ms=20 ...]
        [--sensor gyro_bias_sd_dps=10 ...]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from fes_sim.config.presets import get_preset
from fes_sim.control.config import ControllerConfig, EstimatorConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.detection.estimator import TiltEstimator
from fes_sim.detection.scoring import score_events
from fes_sim.device import DevicePipeline
from fes_sim.gait.scenario import WALKING
from fes_sim.plant import WalkingPlant
from fes_sim.replay import load_recording, replay, score_replay
from fes_sim.replay.loaders import Recording
from fes_sim.samples import GaitEvent
from fes_sim.sensors.imu import SensorConfig

ROOT = Path(__file__).resolve().parents[1]
WALKERS = ("hemiparetic_slow", "drop_foot_severe", "drop_foot_mild", "healthy")
EVENTS = (GaitEvent.HEEL_STRIKE, GaitEvent.TOE_OFF, GaitEvent.HEEL_OFF)
_IMU = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps")


def with_overrides(cfg: ControllerConfig, overrides: list[str]) -> ControllerConfig:
    """Apply ``table.field=value`` overrides (numbers) to a controller config."""
    for item in overrides:
        key, value = item.split("=", 1)
        table, name = key.split(".", 1)
        cfg = dataclasses.replace(cfg, **{table: dataclasses.replace(getattr(cfg, table), **{name: float(value)})})
    return cfg


@dataclasses.dataclass
class Run:
    """One closed-loop run: reference and detected events, per-sample activity and envelope."""

    reference: list
    detected: list
    t_s: np.ndarray
    activity: np.ndarray
    envelope: np.ndarray


def simulate(cfg: ControllerConfig, walker: str, source: str, rate_hz: float, seconds: float, seed: int,
             sensor: SensorConfig | None = None, scenario: str = "walk") -> Run:
    """Closed-loop run of ``walker`` on ``scenario`` with the detector fed ``source`` input."""
    if cfg.detector == "tilt":
        cfg = dataclasses.replace(cfg, estimator=dataclasses.replace(cfg.estimator, source="imu" if source == "imu" else "tilt"))
    sensor = sensor or SensorConfig(footswitch=True)
    plant = WalkingPlant(get_preset("walker", walker), scenario=get_preset("scenario", scenario), sample_rate_hz=rate_hz,
                         sensor=sensor)
    pipe = DevicePipeline(cfg, StimulatorConfig(), rate_hz)
    s = plant.reset(seed)
    detected, t, act, env = [], [], [], []
    for _ in range(int(seconds * rate_hz)):
        if source == "tilt":
            for name in _IMU:
                setattr(s, name, np.nan)
        elif source == "imu":
            s.tilt_deg = np.nan
        o = pipe.update(s)
        if o.event:
            detected.append((o.t_s, o.event))
        t.append(o.t_s)
        act.append(plant.state.activity)
        env.append(o.envelope)
        s = plant.step(o.current_ma, o.pulse_width_us, o.frequency_hz)
    return Run(plant.events, detected, np.array(t), np.array(act), np.array(env))


def in_activity(run: Run, activity: str, events: list) -> list:
    """The events that fall inside ``activity`` (a sample of that activity at the event time)."""
    t, act = run.t_s, run.activity
    return [(te, e) for te, e in events if act[min(np.searchsorted(t, te), t.size - 1)] == activity]


def not_walking(run: Run, rate_hz: float) -> tuple[float, int, int]:
    """Seconds of the bursts that start while not walking (the tail of the last walking
    stride's burst, its extension and ramp, is not counted), and walking strides
    stimulated out of all walking strides."""
    walking = np.isin(run.activity, sorted(WALKING))
    t = run.t_s
    on = run.envelope > 0
    burst = np.cumsum(np.r_[on[:1], on[1:] & ~on[:-1]])  # burst number of each sample
    onset = np.r_[0, np.flatnonzero(on & np.r_[True, ~on[:-1]])]
    stray = on & ~walking[onset[burst]]
    stim_s = float(stray.sum()) / rate_hz
    hs = [te for te, e in run.reference if e == GaitEvent.HEEL_STRIKE]
    strides = stimulated = 0
    for a, b in zip(hs[:-1], hs[1:]):
        m = (t >= a) & (t < b)
        if a < 3.0 or not walking[m].all():
            continue
        strides += 1
        stimulated += bool(run.envelope[m].max() > 0)
    return stim_s, stimulated, strides


def estimator_error(walker: str, rate_hz: float, seconds: float = 30.0, seed: int = 3) -> str:
    """Default TiltEstimator (IMU input) and the simulator's own tilt channel against the true tilt."""
    est = TiltEstimator(EstimatorConfig(source="imu"), rate_hz)
    plant = WalkingPlant(get_preset("walker", walker), sample_rate_hz=rate_hz)
    s = plant.reset(seed)
    rows = []
    for _ in range(int(seconds * rate_hz)):
        rows.append((s.t_s, est.update(s), s.tilt_deg, plant.state.true_tilt_deg))
        s = plant.step(0.0, 0.0, 0.0)
    t, ours, channel, true = np.array(rows).T
    lo, hi = np.percentile(true, [1, 99])
    walk = t >= 5.0
    push = walk & (true > lo + 0.75 * (hi - lo))
    rms = lambda e: float(np.sqrt(np.mean(np.square(e))))  # noqa: E731
    e, c = ours - true, channel - true
    start = [rms(e[(t >= a) & (t < a + 1.0)]) for a in (0.0, 1.0)]
    return (f"{walker:<18}{rate_hz:4.0f} Hz  estimator rms {rms(e[walk]):4.1f} mean {e[walk].mean():+4.1f} push-off {e[push].mean():+5.1f}"
            f"  start 0-1 s {start[0]:4.1f} 1-2 s {start[1]:4.1f} | sim tilt channel rms {rms(c[walk]):4.1f} mean {c[walk].mean():+4.1f}"
            f" push-off {c[push].mean():+5.1f}")


def decimate(rec: Recording, k: int) -> Recording:
    """Every k-th sample of a recording, events unchanged."""
    return dataclasses.replace(
        rec, t_s=rec.t_s[::k], channels={n: v[::k] for n, v in rec.channels.items()}, sample_rate_hz=rec.sample_rate_hz / k,
        hand_switch=None if rec.hand_switch is None else rec.hand_switch[::k], truth={n: v[::k] for n, v in rec.truth.items()},
    )


def row(label: str, scores) -> str:
    cells = []
    for ev in EVENTS:
        s = scores.get(ev)
        if s is None or s.n_reference == 0:
            cells.append(f"{'-':>31}")
            continue
        m = s.summary()
        cells.append(
            f"{m['sensitivity']:5.2f}/{m['precision']:4.2f} {m['median_error_ms']:+6.0f} {m['median_abs_error_ms']:4.0f} {m['p95_abs_error_ms']:4.0f}"
        )
    return f"{label:<44}" + " | ".join(cells)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each simulated run [s] (default 60)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2], help="seeds of the runs concatenated per case (default 1 2)")
    ap.add_argument("--controller", default="walkaide_tilt", help="controller preset (default walkaide_tilt)")
    ap.add_argument("--walkers", nargs="+", default=list(WALKERS), help="walker presets (default: the four presets)")
    ap.add_argument("--set", nargs="*", default=[], help="controller overrides table.field=value")
    ap.add_argument("--sources", nargs="+", default=["tilt", "imu", "both"], help="detector inputs (default tilt imu both)")
    ap.add_argument("--rates", type=float, nargs="+", default=[200.0, 100.0], help="sample rates [Hz] (default 200 100)")
    ap.add_argument("--sensor", nargs="*", default=[], help="SensorConfig overrides field=value, e.g. gyro_bias_sd_dps=10")
    ap.add_argument("--scenario", default="walk", choices=["walk", "slopes"], help="walk (level) or slopes (default walk)")
    ap.add_argument("--from-s", type=float, default=3.0, help="score simulator events from this time [s] (lock-on; default 3)")
    ap.add_argument("--not-walking", action="store_true", help="stimulation while standing, shifting weight, sitting")
    ap.add_argument("--estimator", action="store_true", help="only the tilt-estimator errors (deg, after 5 s unless stated)")
    ap.add_argument("--no-nonan", action="store_true", help="skip the NONAN replays")
    args = ap.parse_args(argv)
    sensor = SensorConfig(footswitch=True, **{k: float(v) for k, v in (item.split("=", 1) for item in args.sensor)})
    cfg = with_overrides(get_preset("controller", args.controller), args.set)
    if args.estimator:
        for walker in args.walkers:
            for rate in args.rates:
                print(estimator_error(walker, rate))
        return 0
    if args.not_walking:
        for walker in args.walkers:
            for scenario, seconds in (("false_triggers", 55.0), ("daily_mix", 110.0)):
                for rate in args.rates:
                    run = simulate(cfg, walker, "both", rate, seconds, args.seeds[0], sensor, scenario)
                    stim_s, stimulated, strides = not_walking(run, rate)
                    print(f"{walker:<18}{scenario:<16}{rate:4.0f} Hz  stimulation while not walking {stim_s:5.2f} s"
                          f"  walking strides stimulated {stimulated}/{strides}")
        return 0
    head = " | ".join(f"{ev.label + ': sens/prec med |med| p95':>31}" for ev in EVENTS)
    print(f"{'case (errors in ms, + = late)':<44}{head}")
    activities = ("walk",) if args.scenario == "walk" else ("walk", "slope_up", "slope_down")
    for walker in args.walkers:
        for rate in args.rates:
            for source in args.sources:
                runs = [simulate(cfg, walker, source, rate, args.seconds, seed, sensor, args.scenario) for seed in args.seeds]
                for activity in activities:
                    ref, det = [], []
                    offset = 0.0
                    for run in runs:  # concatenate runs on one time line
                        keep = lambda evs: [(t + offset, e) for t, e in in_activity(run, activity, evs) if t >= args.from_s]  # noqa: E731
                        ref += keep(run.reference)
                        det += keep(run.detected)
                        offset += args.seconds + 10.0
                    label = f"{walker} {rate:.0f} Hz {source}" + (f" {activity}" if args.scenario != "walk" else "")
                    print(row(label, score_events(ref, det, 0.15)))
    nonan = ROOT.parent / "shared" / "data" / "nonan"
    if nonan.is_dir() and not args.no_nonan and args.scenario == "walk":
        for name in ("healthy_young", "healthy_middle"):
            for leg in ("left", "right"):
                rec = load_recording(nonan / f"{name}.csv", leg=leg)
                for k in (1, 2):
                    r = rec if k == 1 else decimate(rec, k)
                    print(row(f"nonan {name} {leg} {r.sample_rate_hz:.0f} Hz", score_replay(r, replay(r, cfg, StimulatorConfig()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
