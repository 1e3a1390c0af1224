"""Scenarios: timed sequences of activities (walk, stand, sit, transitions, slopes).

A walking segment ends at the first mid-stance of the simulated leg after its
nominal duration, so every activity after it starts with the foot on the ground;
later segments shift by that difference. After the last segment the last activity
goes on for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fes_sim.config.schema import Config, param
from fes_sim.errors import ConfigError

Activity = Literal["walk", "stand", "sit", "sit_to_stand", "stand_to_sit", "weight_shift", "slope_up", "slope_down"]
ACTIVITIES: tuple[str, ...] = ("walk", "stand", "sit", "sit_to_stand", "stand_to_sit", "weight_shift", "slope_up", "slope_down")
WALKING: frozenset[str] = frozenset({"walk", "slope_up", "slope_down"})
SITTING_TRANSITIONS: frozenset[str] = frozenset({"sit_to_stand", "stand_to_sit"})

#: posture the activity starts from (where the previous one must end)
_STARTS = {"sit_to_stand": "sit", "stand_to_sit": "stand", "sit": "sit"}
_ENDS = {"sit_to_stand": "stand", "stand_to_sit": "sit", "sit": "sit"}


@dataclass(frozen=True)
class Segment(Config):
    """One activity for a duration."""

    activity: Activity = param("walk", doc="what the walker does")
    duration_s: float = param(10.0, unit="s", lo=0.5, hi=1e6, doc="duration (walking ends at the next mid-stance)")
    slope_deg: float = param(6.0, unit="deg", lo=0, hi=15, doc="incline of slope_up / slope_down")


@dataclass(frozen=True)
class Scenario(Config):
    """A named, timed sequence of activities."""

    name: str = param("walk", doc="label")
    segments: tuple[Segment, ...] = param(factory=lambda: (Segment("walk", 1e6),), doc="activities in order")

    def check(self) -> None:
        if not self.segments:
            raise ConfigError("segments: a scenario needs at least one segment")
        posture = "stand"
        for i, seg in enumerate(self.segments):
            start = _STARTS.get(seg.activity, "stand")
            if start != posture:
                raise ConfigError(
                    f"segments[{i}].activity: {seg.activity!r} starts from {start} but the walker is in {posture} (insert a transition)"
                )
            posture = _ENDS.get(seg.activity, "stand")


def _seq(name: str, *items: tuple[str, float]) -> Scenario:
    return Scenario(name, tuple(Segment(a, d) for a, d in items))


SCENARIOS: dict[str, Scenario] = {
    "walk": Scenario(),
    "stand": _seq("stand", ("stand", 1e6)),
    "daily_mix": _seq(
        "daily_mix",
        ("stand", 5.0), ("walk", 30.0), ("weight_shift", 10.0), ("stand_to_sit", 2.5), ("sit", 10.0),
        ("sit_to_stand", 2.5), ("stand", 3.0), ("slope_up", 15.0), ("stand", 2.0), ("slope_down", 15.0), ("stand", 5.0),
    ),
    "false_triggers": _seq(
        "false_triggers",
        ("stand", 10.0), ("weight_shift", 20.0), ("stand_to_sit", 2.5), ("sit", 10.0), ("sit_to_stand", 2.5), ("stand", 10.0),
    ),
    "slopes": _seq("slopes", ("walk", 10.0), ("slope_up", 20.0), ("slope_down", 20.0), ("walk", 1e6)),
}

CONFIG_CLASS = Scenario
PRESETS = SCENARIOS


def get_scenario(name: str) -> Scenario:
    """A built-in scenario by name; ConfigError lists the known names."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"unknown scenario {name!r} (known: {', '.join(sorted(SCENARIOS))})") from None
