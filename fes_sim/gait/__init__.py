"""Gait: normative kinematics, walker profiles, stride variability, activities and scenarios."""

from fes_sim.gait.scenario import SCENARIOS, Scenario, Segment, get_scenario
from fes_sim.gait.walker import PRESETS, WalkerConfig

__all__ = ["WalkerConfig", "PRESETS", "Scenario", "Segment", "SCENARIOS", "get_scenario"]
