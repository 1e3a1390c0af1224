"""Reference evaluation: the scalar closed loop, one walker × scenario at a time.

Each run is exactly what ``fes run`` simulates (:class:`~fes_sim.loop.ClosedLoop` of a
:class:`~fes_sim.plant.WalkingPlant` and a :class:`~fes_sim.device.DevicePipeline`),
so this engine is the yardstick the vectorised lanes engine is tested against.
"""

from __future__ import annotations

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.gait.scenario import WALKING
from fes_sim.loop import ClosedLoop
from fes_sim.plant import WalkingPlant
from fes_sim.run_summary import stride_rows
from fes_sim.tuning.metrics import RunRecord
from fes_sim.tuning.workload import Workload

import numpy as np


def run_loop(workload: Workload, controller: ControllerConfig, stimulator: StimulatorConfig | None = None) -> list[RunRecord]:
    """One :class:`RunRecord` per walker × scenario, walker-major; ``stimulator`` defaults to the study's."""
    records = []
    rate = workload.sample_rate_hz
    n_steps = int(round(workload.duration_s * rate))
    for walker, seed in zip(workload.walkers, workload.seeds):
        for scenario in workload.scenarios:
            plant = WalkingPlant(walker, scenario=scenario, sensor=workload.sensor, sample_rate_hz=rate, plant_rate_hz=workload.plant_rate_hz)
            loop = ClosedLoop(plant, DevicePipeline(controller, stimulator or workload.stimulator, rate))
            loop.reset(seed)
            not_walking = 0
            out = loop.output
            for _ in range(n_steps):
                if out is not None and out.envelope > 0.0 and plant.state.activity not in WALKING:
                    not_walking += 1
                out = loop.step()
            rows = stride_rows(plant.strides, loop.trace)
            records.append(
                RunRecord(
                    mtc_mm=np.array([r.mtc_mm for r in rows], float),
                    toe_drag=np.array([r.toe_drag for r in rows], float),
                    foot_pitch_ic_deg=np.array([r.foot_pitch_ic_deg for r in rows], float),
                    push_off_pf_deg=np.array([r.push_off_pf_deg for r in rows], float),
                    charge_uc=np.array([r.charge_uc for r in rows], float),
                    onset_lead_ms=np.array([r.onset_lead_ms for r in rows], float),
                    stim_not_walking_s=not_walking / rate,
                    fatigue_end=1.0 - plant.state.fatigue,
                )
            )
    return records
