"""What every parameter set of a study is evaluated on: walkers, seeds, scenarios, sensor.

A :class:`Workload` is resolved once from the study (presets and files read, the
population sampled) and shipped to workers as one picklable object.
"""

from __future__ import annotations

from dataclasses import dataclass

from fes_sim.config import resolve
from fes_sim.control.limits import StimulatorConfig
from fes_sim.errors import ConfigError
from fes_sim.gait.scenario import Scenario
from fes_sim.gait.walker import WalkerConfig
from fes_sim.population import sample_walkers, seed_of
from fes_sim.sensors.imu import SensorConfig
from fes_sim.tuning.space import SearchSpace
from fes_sim.tuning.study import Study

#: SensorConfig fields scaled by ``walkers.sensor_noise``
NOISE_FIELDS = (
    "acc_noise_ug_rthz", "gyro_noise_dps_rthz", "acc_bias_sd_mg", "gyro_bias_sd_dps",
    "acc_bias_walk_mg_rts", "gyro_bias_walk_dps_rts",
)


@dataclass(frozen=True)
class Workload:
    """Resolved walkers (with run seeds), scenarios, sensor and search space of a study."""

    space: SearchSpace
    walkers: tuple[WalkerConfig, ...]
    seeds: tuple[int, ...]
    scenarios: tuple[Scenario, ...]
    sensor: SensorConfig
    duration_s: float
    sample_rate_hz: float
    plant_rate_hz: float

    @property
    def stimulator(self) -> StimulatorConfig:
        """The stimulator's safety limits."""
        return self.space.stimulator

    @classmethod
    def from_study(cls, study: Study) -> "Workload":
        """Resolve presets and files, sample the population, scale the sensor noise."""
        w = study.walkers
        try:
            base = resolve("walker", w.walker)
        except ConfigError as exc:
            raise ConfigError(f"walkers.walker: {exc}") from None
        if w.population > 0:
            walkers = tuple(sample_walkers(base, w.population, w.population_seed))
            seeds = tuple(seed_of(study.seed, i) for i in range(w.population))
        else:
            walkers, seeds = (base,), (study.seed,)
        scenarios = []
        for i, name in enumerate(study.scenarios):
            try:
                scenarios.append(resolve("scenario", name))
            except ConfigError as exc:
                raise ConfigError(f"scenarios[{i}]: {exc}") from None
        default = SensorConfig()
        try:
            sensor = default.replace(**{f: getattr(default, f) * w.sensor_noise for f in NOISE_FIELDS})
        except ConfigError as exc:
            raise ConfigError(f"walkers.sensor_noise: {w.sensor_noise!r} scales the IMU beyond its range ({exc})") from None
        return cls(SearchSpace.from_study(study), walkers, seeds, tuple(scenarios), sensor, study.duration_s, study.sample_rate_hz, study.plant_rate_hz)

    @property
    def n_runs(self) -> int:
        """Walker × scenario runs per parameter set."""
        return len(self.walkers) * len(self.scenarios)
