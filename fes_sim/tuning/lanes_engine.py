"""Fast evaluation: many parameter sets × walkers as lanes, sharing what stimulation cannot change.

The shank's motion, hence every sensor sample and every detected event, does not
depend on stimulation. So for each walker × scenario the engine

1. builds the walker's motion and sensor output once, without stimulation, and
   keeps its samples and activity (:func:`prepare`, once per study);
2. runs the scalar :class:`~fes_sim.device.DevicePipeline` once per distinct
   detector input setting (estimator, fault rules) on those samples, and the tilt
   trigger of every lane in one vectorised pass
   (:class:`~fes_sim.tuning.tilt_lanes.TiltTriggerLanes`; other detectors run
   scalar once per distinct setting), giving each lane its events, fault flags and
   aborts;
3. runs the stimulation controllers of all lanes together, a block of samples
   per compiled call (:class:`~fes_sim.tuning.lanes.ControllerLanes`), steps the
   muscle and foot of all lanes through the block, each lane seeded like its
   walker, and scores strides as :func:`fes_sim.run_summary.stride_rows` does.

Muscle and foot run in one vectorised :class:`~fes_sim.population.Population` when
it supports the scenario (one walking activity, Riener force model), otherwise as
one :class:`~fes_sim.plant.WalkingPlant` per lane. With per-lane plants, lane
``(p, w)`` gives exactly the numbers of the scalar closed loop of parameter set
``p`` on walker ``w``; the population agrees with the single plant to about
1e-6 mm of toe height, and so does the engine (``tests/test_tune_lanes.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from fes_sim.body.block import SENSOR_CHANNELS, BlockBuilder
from fes_sim.body.strides import STRIDE_FIELDS
from fes_sim.config.schema import to_mapping
from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.gait.motion import ACTIVITY_LABELS
from fes_sim.gait.scenario import WALKING, Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.plant import WalkingPlant
from fes_sim.population import Population
from fes_sim.samples import SAMPLE_FIELDS, ShankSample
from fes_sim.sensors.imu import SensorConfig
from fes_sim.tuning.lanes import ControllerLanes
from fes_sim.tuning.metrics import RunRecord
from fes_sim.tuning.tilt_lanes import TiltTriggerLanes
from fes_sim.tuning.workload import Workload

#: controller tables that do not influence detection
_OUTPUT_TABLES = ("stimulation", "exercise", "mode")
#: stride row columns the records read
_T_HS, _T_TO, _T_END, _MTC, _DRAG, _PITCH, _PUSH_OFF = (
    STRIDE_FIELDS.index(f) for f in ("t_heel_strike_s", "t_toe_off_s", "t_end_s", "mtc_mm", "toe_drag", "foot_pitch_ic_deg", "push_off_pf_deg")
)


@dataclass
class Prepared:
    """One walker on one scenario without stimulation: samples and activity per sample.

    ``detections`` caches events, fault flags and aborts per :func:`detection_key`;
    ``fronts`` caches the tilt estimate, tilt rate and fault flags that feed the
    detector, per :func:`front_key`.
    """

    samples: dict[str, np.ndarray]
    walking: np.ndarray
    detections: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    fronts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)


def detection_key(cfg: ControllerConfig) -> str:
    """Identical keys mean identical events, faults and aborts on the same samples."""
    data = {k: v for k, v in to_mapping(cfg).items() if k not in _OUTPUT_TABLES}
    return json.dumps(data, sort_keys=True)


def front_key(cfg: ControllerConfig) -> str:
    """Identical keys mean identical detector inputs: tilt estimate, rate and sensor faults."""
    data = to_mapping(cfg)
    return json.dumps({k: data[k] for k in ("detector", "estimator", "faults")}, sort_keys=True)


def prepare(workload: Workload, walker_index: int, scenario_index: int, controller: ControllerConfig) -> Prepared:
    """Sensor samples and activity of walker × scenario without stimulation; detect with ``controller``.

    The plant's motion and sensor output do not depend on stimulation: they come
    from its blocks (:class:`~fes_sim.body.block.BlockBuilder`), built here exactly as
    :meth:`WalkingPlant.reset <fes_sim.plant.WalkingPlant.reset>` builds them, without
    integrating muscle and foot.
    """
    rate = workload.sample_rate_hz
    n = int(round(workload.duration_s * rate)) + 1
    plant = WalkingPlant(
        workload.walkers[walker_index], scenario=workload.scenarios[scenario_index], sensor=workload.sensor, sample_rate_hz=rate,
        plant_rate_hz=workload.plant_rate_hz,
    )
    builder = BlockBuilder([plant.walker], plant.scenario, plant.sensor, rate, plant.sub, [workload.seeds[walker_index]])
    per_block = builder.block_samples
    blocks = [builder.build(b) for b in range(-(-n // per_block))]
    cols = {name: np.concatenate([blk.sensor[name][0] for blk in blocks])[:n] for name in SENSOR_CHANNELS}
    cols["t_s"] = np.arange(n) / rate
    walking_codes = np.array([label in WALKING for label in ACTIVITY_LABELS])
    activity = np.concatenate([blk.activity[0, :: plant.sub] for blk in blocks])[:n]
    prep = Prepared({name: np.asarray(cols[name], float) for name in SAMPLE_FIELDS}, walking_codes[activity])
    detect(prep, controller, workload)
    return prep


def detect(
    prep: Prepared, cfg: ControllerConfig, workload: Workload, stimulator: StimulatorConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events, fault flags and aborts of ``cfg``'s detection on ``prep`` (cached by :func:`detection_key`);
    ``stimulator`` (default: the study's) is the one ``cfg`` is checked against."""
    key = detection_key(cfg)
    hit = prep.detections.get(key)
    if hit is not None:
        return hit
    pipe = DevicePipeline(cfg, stimulator or workload.stimulator, workload.sample_rate_hz)
    n = len(prep.walking)
    events = np.zeros(n, dtype=np.int8)
    faults = np.zeros(n, dtype=bool)
    aborts = np.zeros(n, dtype=bool)
    tilt = np.zeros(n)
    rate = np.zeros(n)
    s = ShankSample(0.0)
    cols = [(name, prep.samples[name].tolist()) for name in SAMPLE_FIELDS]
    det, est = pipe.detector, pipe.estimator
    for k in range(n):
        for name, col in cols:
            setattr(s, name, col[k])
        out = pipe.update(s)
        events[k] = out.event
        faults[k] = out.faults not in ("", "max_on_time")  # sensor faults, not the controller's own flag
        aborts[k] = det.aborted
        tilt[k] = out.tilt_est_deg
        rate[k] = est.rate_dps
    prep.detections[key] = (events, faults, aborts)
    prep.fronts.setdefault(front_key(cfg), (tilt, rate, faults))
    return prep.detections[key]


def lane_detections(
    preps: Sequence[Prepared],
    cfgs: Sequence[ControllerConfig],
    workload: Workload,
    stimulators: Sequence[StimulatorConfig] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events, fault flags and aborts, (lanes, samples), of lane ``i`` running ``cfgs[i]`` (with ``stimulators[i]``,
    default the study's) on ``preps[i]``.

    Settings already detected come from the cache; tilt-trigger settings that differ
    only in the trigger's own table (or ``adaptation_strides``) run together in
    :class:`~fes_sim.tuning.tilt_lanes.TiltTriggerLanes` on their shared detector
    inputs; other detectors run the scalar pipeline once per distinct setting.
    """
    n_lanes, n = len(cfgs), len(preps[0].walking)
    events = np.zeros((n_lanes, n), dtype=np.int8)
    faults = np.zeros((n_lanes, n), dtype=bool)
    aborts = np.zeros((n_lanes, n), dtype=bool)
    keys = {id(cfg): (detection_key(cfg), front_key(cfg)) for cfg in cfgs}  # lanes repeat a setting per walker
    vector = []
    for lane, (prep, cfg) in enumerate(zip(preps, cfgs)):
        hit = prep.detections.get(keys[id(cfg)][0])
        if hit is None and cfg.detector == "tilt" and keys[id(cfg)][1] in prep.fronts:
            vector.append(lane)
            continue
        stimulator = stimulators[lane] if stimulators is not None else None
        events[lane], faults[lane], aborts[lane] = hit if hit is not None else detect(prep, cfg, workload, stimulator)
    if vector:
        fronts = [preps[lane].fronts[keys[id(cfgs[lane])][1]] for lane in vector]
        tilt, rate, fault = (np.stack([f[i] for f in fronts]) for i in range(3))
        det = TiltTriggerLanes([cfgs[lane].tilt for lane in vector], [cfgs[lane].adaptation_strides for lane in vector])
        ev = np.zeros((len(vector), n), dtype=np.int8)
        ab = np.zeros((len(vector), n), dtype=bool)
        for k in range(n):
            ev[:, k] = det.update(k / workload.sample_rate_hz, tilt[:, k], rate[:, k], fault[:, k])
            ab[:, k] = det.aborted
        events[vector], faults[vector], aborts[vector] = ev, fault, ab
    return events, faults, aborts


class _BurstLog:
    """Stimulation bursts per lane and their cumulative charge, from blocks of controller output.

    Reproduces :func:`fes_sim.run_summary.stride_rows` (bursts as ``LoopTrace.stim_intervals``
    gives them): a burst belongs to the stride its onset falls in; the stride's charge runs
    from its first onset to its last offset.
    """

    def __init__(self, n_lanes: int) -> None:
        self.on = np.zeros(n_lanes, dtype=bool)
        self.cum = np.zeros(n_lanes)
        self.cum_before = self.cum
        self.edges: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {"on": [], "off": []}

    def add(self, k0: int, envelope: np.ndarray, charge_uc: np.ndarray) -> None:
        """Samples ``k0, k0 + 1, ...``: envelopes and the charge over each period, (samples, lanes)."""
        now = envelope > 0.0
        cum = np.cumsum(np.vstack([self.cum[None], charge_uc]), axis=0)  # row j: charge before sample k0 + j
        was = np.vstack([self.on[None], now[:-1]])
        for name, edge in (("on", now & ~was), ("off", was & ~now)):
            j, lane = np.nonzero(edge)
            self.edges[name].append((lane, k0 + j, cum[j, lane]))
        self.on, self.cum, self.cum_before = now[-1], cum[-1], cum[-2]

    def bursts(self, k_last: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Onset sample, charge at onset and charge at offset of every burst, per lane; bursts
        still on at the last sample ``k_last`` end there."""
        lanes = np.flatnonzero(self.on)
        self.edges["off"].append((lanes, np.full(lanes.size, k_last), self.cum_before[lanes]))
        out = {}
        for name, parts in self.edges.items():
            lane, k, cum = (np.concatenate([p[i] for p in parts]) for i in range(3))
            order = np.lexsort((k, lane))
            cuts = np.searchsorted(lane[order], np.arange(1, self.on.size))
            out[name] = (np.split(k[order], cuts), np.split(cum[order], cuts))
        (k_on, cum_on), (_, cum_off) = out["on"], out["off"]
        return list(zip(k_on, cum_on, cum_off))


def _stride_charge_and_lead(
    strides: np.ndarray, k_on: np.ndarray, cum_on: np.ndarray, cum_off: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Charge (µC) and onset lead (ms) of each stride (rows of :data:`STRIDE_FIELDS`), from one
    lane's bursts (onsets ascending)."""
    if not k_on.size:
        return np.zeros(len(strides)), np.full(len(strides), math.nan)
    t_on = k_on / rate
    lo = np.searchsorted(t_on, strides[:, _T_HS], "left")
    hi = np.searchsorted(t_on, strides[:, _T_END], "left")
    inside = hi > lo
    first, last = np.minimum(lo, t_on.size - 1), np.maximum(hi - 1, 0)
    charge = np.where(inside, cum_off[last] - cum_on[first], 0.0)
    lead = np.where(inside, (strides[:, _T_TO] - t_on[first]) * 1000.0, math.nan)
    return charge, lead


def uses_population(walkers: Sequence[WalkerConfig], scenario: Scenario) -> bool:
    """Whether :class:`~fes_sim.population.Population` can run these lanes (walk-only, Riener model)."""
    segs = scenario.segments
    return len(segs) == 1 and segs[0].activity in WALKING and all(w.force_model == "riener" for w in walkers)


class _PopulationLanes:
    """All lanes in one vectorised :class:`~fes_sim.population.Population`, each seeded like its walker."""

    def __init__(
        self, walkers: Sequence[WalkerConfig], seeds: Sequence[int], scenario: Scenario, sensor: SensorConfig, rate: float, plant_rate: float,
    ) -> None:
        self.pop = Population(  # no sensor output: the detections come from Prepared
            walkers, scenario=scenario, sensor=sensor, sample_rate_hz=rate, plant_rate_hz=plant_rate, sensor_output=False,
        )
        self.pop.reset(0, seeds=seeds)

    def run(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> None:
        """Sensor periods with the currents of ``current_ma`` (periods, lanes)."""
        self.pop.advance_many(current_ma, pulse_width_us, frequency_hz)

    @property
    def fatigue(self) -> np.ndarray:
        return self.pop.fatigue

    def stride_rows(self) -> list[np.ndarray]:
        walker, rows = self.pop.stride_table()
        order = np.argsort(walker, kind="stable")
        return np.split(rows[order], np.searchsorted(walker[order], np.arange(1, self.pop.n)))


class _PlantLanes:
    """One :class:`WalkingPlant` per lane, each seeded like its walker."""

    def __init__(
        self, walkers: Sequence[WalkerConfig], seeds: Sequence[int], scenario: Scenario, sensor: SensorConfig, rate: float, plant_rate: float,
    ) -> None:
        self.plants = [WalkingPlant(w, scenario=scenario, sensor=sensor, sample_rate_hz=rate, plant_rate_hz=plant_rate) for w in walkers]
        for p, seed in zip(self.plants, seeds):
            p.reset(seed)

    def run(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> None:
        """Sensor periods with the currents of ``current_ma`` (periods, lanes)."""
        for row in current_ma:
            for p, c, w, f in zip(self.plants, row.tolist(), pulse_width_us.tolist(), frequency_hz.tolist()):
                p.step(c, w, f)

    @property
    def fatigue(self) -> np.ndarray:
        return np.array([p.state.fatigue for p in self.plants])

    def stride_rows(self) -> list[np.ndarray]:
        return [np.array([[getattr(s, f) for f in STRIDE_FIELDS] for s in p.strides], float).reshape(-1, len(STRIDE_FIELDS)) for p in self.plants]


#: samples the controller advances per call (bounds the (samples, lanes) output blocks)
BLOCK_SAMPLES = 1000


def run_lanes(
    workload: Workload,
    controllers: Sequence[ControllerConfig],
    prepared: dict[tuple[int, int], Prepared],
    stimulators: Sequence[StimulatorConfig] | None = None,
) -> list[list[RunRecord]]:
    """Records of each controller (outer list, with ``stimulators[i]``, default the study's) on each walker × scenario (walker-major).

    The controller reads only the detections, never the plant, so it runs a block of
    samples ahead in one compiled call; the plant then steps through the block.
    """
    rate = workload.sample_rate_hz
    n_steps = int(round(workload.duration_s * rate))
    n_par, n_walk, n_scen = len(controllers), len(workload.walkers), len(workload.scenarios)
    out: list[list[RunRecord | None]] = [[None] * (n_walk * n_scen) for _ in range(n_par)]
    pw = np.tile([c.stimulation.pulse_width_us for c in controllers], n_walk).astype(float)
    freq = np.tile([c.stimulation.frequency_hz for c in controllers], n_walk).astype(float)
    t_s = np.arange(n_steps + 1) / rate
    for j, scenario in enumerate(workload.scenarios):
        # lanes walker-major: lane = w * n_par + p
        lane_cfgs = [c for _ in range(n_walk) for c in controllers]
        preps = [prepared[(w, j)] for w in range(n_walk) for _ in controllers]
        lane_stimulators = None if stimulators is None else [s for _ in range(n_walk) for s in stimulators]
        events, faults, aborts = lane_detections(preps, lane_cfgs, workload, lane_stimulators)
        idle = ~np.stack([prepared[(w, j)].walking for w in range(n_walk)]).T[:, :, None]  # (samples, walkers, 1)
        ctrl = ControllerLanes(lane_cfgs, rate)
        lane_walkers = [w for w in workload.walkers for _ in controllers]
        backend = _PopulationLanes if uses_population(lane_walkers, scenario) else _PlantLanes
        plants = backend(lane_walkers, [s for s in workload.seeds for _ in controllers], scenario, workload.sensor, rate, workload.plant_rate_hz)
        log = _BurstLog(len(lane_cfgs))
        not_walking = np.zeros(len(lane_cfgs), dtype=np.int64)
        for k0 in range(0, n_steps + 1, BLOCK_SAMPLES):
            k1 = min(k0 + BLOCK_SAMPLES, n_steps + 1)
            env, current, charge = ctrl.run(t_s[k0:k1], events[:, k0:k1], faults[:, k0:k1], aborts[:, k0:k1])
            log.add(k0, env, charge)
            steps = min(k1, n_steps) - k0  # the last sample's output is not applied
            on_idle = (env[:steps].reshape(steps, n_walk, n_par) > 0.0) & idle[k0:k0 + steps]
            not_walking += on_idle.sum(axis=0).reshape(-1)
            plants.run(current[:steps], pw, freq)
        fatigue = plants.fatigue
        for lane, (strides, bursts) in enumerate(zip(plants.stride_rows(), log.bursts(n_steps))):
            w, p = divmod(lane, n_par)
            charge_uc, lead_ms = _stride_charge_and_lead(strides, *bursts, rate)
            out[p][w * n_scen + j] = RunRecord(
                mtc_mm=strides[:, _MTC].copy(),
                toe_drag=strides[:, _DRAG].copy(),
                foot_pitch_ic_deg=strides[:, _PITCH].copy(),
                push_off_pf_deg=strides[:, _PUSH_OFF].copy(),
                charge_uc=charge_uc,
                onset_lead_ms=lead_ms,
                stim_not_walking_s=not_walking[lane] / rate,
                fatigue_end=1.0 - fatigue[lane],
            )
    return out  # type: ignore[return-value]
