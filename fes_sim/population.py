"""Many walkers at once: sampled walker parameters and a step-wise API over arrays.

``Population`` is the interface a vectorised controller drives::

    pop = Population.sample(get_preset("walker", "drop_foot_severe"), n=100, seed=7)
    samples = pop.reset(seed=1)                       # dict of arrays, one value per walker
    samples = pop.step(current_ma, pulse_width_us, frequency_hz)   # arrays of length n
    pop.strides[i]                                    # StrideOutcome list of walker i

Walker ``i`` with run seed ``s`` is exactly :class:`~fes_sim.plant.WalkingPlant` with seed
``seed_of(s, i)``; the test suite checks this.

Status: the prescribed motion and sensor signals are computed per walker in blocks with
numpy and the per-step muscle and foot integration runs walker by walker. A single
numpy pass over all walkers (the issue's speed target of 20,000 walker-seconds per
second) is not implemented yet; ``tools/bench_sim.py`` reports the current rate.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from fes_sim.errors import ConfigError
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.plant import StrideOutcome, WalkingPlant
from fes_sim.samples import SAMPLE_FIELDS
from fes_sim.sensors.imu import SensorConfig

#: walker fields sampled by :meth:`Population.sample`, with their relative SD
SAMPLED_FIELDS: dict[str, float] = {
    "height_m": 0.05,
    "mass_kg": 0.15,
    "speed_mps": 0.15,
    "max_evoked_torque_nm": 0.25,
    "passive_stiffness_scale": 0.2,
    "charge_half_uc": 0.2,
    "mtc_target_mm": 0.25,
}

#: ground-truth fields returned beside the samples
TRUTH_FIELDS: tuple[str, ...] = ("true_tilt_deg", "ankle_deg", "toe_height_mm", "torque_nm", "fatigue", "in_swing")


def seed_of(seed: int, index: int) -> int:
    """Run seed of walker ``index`` in a population run with ``seed``."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def sample_walkers(base: WalkerConfig, n: int, seed: int) -> list[WalkerConfig]:
    """``n`` walkers around ``base``: each field of :data:`SAMPLED_FIELDS` log-normally
    scattered, clipped to its allowed range."""
    rng = np.random.default_rng(seed)
    limits = {f.name: (f.metadata.get("lo"), f.metadata.get("hi")) for f in dataclasses.fields(base)}
    out = []
    for _ in range(n):
        changes = {}
        for name, sd in SAMPLED_FIELDS.items():
            lo, hi = limits[name]
            value = getattr(base, name) * float(np.exp(rng.normal(0.0, sd)))
            changes[name] = float(np.clip(value, lo, hi))
        if base.cadence_spm > 0:
            changes["cadence_spm"] = float(np.clip(base.cadence_spm * (changes["speed_mps"] / base.speed_mps) ** 0.5, 40, 160))
        out.append(base.replace(**changes))
    return out


class Population:
    """N walkers stepped together; inputs and outputs are arrays of length N."""

    def __init__(
        self, walkers: Sequence[WalkerConfig], *, scenario: Scenario | None = None, sensor: SensorConfig | None = None,
        sample_rate_hz: float = 200.0, plant_rate_hz: float = 1000.0,
    ) -> None:
        if not walkers:
            raise ConfigError("walkers: a population needs at least one walker")
        self.walkers = list(walkers)
        self.plants = [
            WalkingPlant(w, scenario=scenario, sensor=sensor, sample_rate_hz=sample_rate_hz, plant_rate_hz=plant_rate_hz)
            for w in self.walkers
        ]
        self.n = len(self.plants)
        self.sample_rate_hz = sample_rate_hz

    @classmethod
    def sample(cls, base: WalkerConfig, n: int, seed: int, **kwargs) -> "Population":
        """A population of ``n`` walkers sampled around ``base``."""
        return cls(sample_walkers(base, n, seed), **kwargs)

    def _collect(self) -> dict[str, np.ndarray]:
        out = {name: np.array([getattr(p.sample, name) for p in self.plants]) for name in SAMPLE_FIELDS}
        for name in TRUTH_FIELDS:
            out[name] = np.array([getattr(p.state, name) for p in self.plants])
        return out

    def reset(self, seed: int) -> dict[str, np.ndarray]:
        """Start every walker (walker i with :func:`seed_of` (seed, i)); samples at t = 0."""
        for i, p in enumerate(self.plants):
            p.reset(seed_of(seed, i))
        return self._collect()

    def step(self, current_ma: np.ndarray, pulse_width_us: np.ndarray, frequency_hz: np.ndarray) -> dict[str, np.ndarray]:
        """One sensor period for every walker with its own stimulation output."""
        cur = np.broadcast_to(np.asarray(current_ma, float), (self.n,))
        pw = np.broadcast_to(np.asarray(pulse_width_us, float), (self.n,))
        fr = np.broadcast_to(np.asarray(frequency_hz, float), (self.n,))
        for p, c, w, f in zip(self.plants, cur.tolist(), pw.tolist(), fr.tolist()):
            p.step(c, w, f)
        return self._collect()

    @property
    def strides(self) -> list[list[StrideOutcome]]:
        """Completed strides of each walker."""
        return [p.strides for p in self.plants]
