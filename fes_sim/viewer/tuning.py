"""The viewer's adjustable settings, their units and their safe ranges (no Qt here).

A :class:`Knob` names one numeric field of the controller or walker config by
its dotted path (``stimulation.current_ma``). :class:`Tuning` holds the
current configs, gives each knob its allowed range — the field's declared range
narrowed by the stimulator's safety limits given the other settings — and builds
the new config when a knob moves. The GUI limits its spin boxes to these ranges,
so a value outside the safety limits cannot be entered.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable

from fes_sim.config.schema import Config
from fes_sim.control.limits import StimulatorConfig
from fes_sim.device import DevicePipeline
from fes_sim.errors import ConfigError
from fes_sim.gait import kinematics
from fes_sim.gait.walker import WalkerConfig


def keep_walk_ratio(old: WalkerConfig, new: WalkerConfig) -> WalkerConfig:
    """``new`` with its cadence moved with its speed so that the walker's walk ratio stays.

    The walk ratio (step length / cadence) stays near constant across speeds
    (REFERENCE §2, Murakami & Otaka 2017), so cadence goes with the square root
    of speed: :func:`~fes_sim.gait.kinematics.cadence_from_speed` gives the
    factor. A walker whose cadence comes from its speed (``cadence_spm`` 0)
    needs nothing; a set cadence is scaled and kept in its field's range.
    """
    if old.cadence_spm <= 0 or new.speed_mps == old.speed_mps:
        return new
    factor = float(kinematics.cadence_from_speed(new.speed_mps) / kinematics.cadence_from_speed(old.speed_mps))
    meta = field_of(new, "cadence_spm").metadata
    return new.replace(cadence_spm=min(max(old.cadence_spm * factor, meta["lo"]), meta["hi"]))


@dataclass(frozen=True)
class Knob:
    """One adjustable setting: which config (``controller`` or ``walker``) and which field.

    ``follow(old, new)``, if given, adjusts the other fields of the new config
    that go with this one (cadence with speed).
    """

    kind: str
    path: str
    label: str
    decimals: int = 1
    follow: Callable[[Any, Any], Any] | None = None


#: detector settings shown for each detector type: only fields that change the
#: detection of the stride under way (initial values, such as the tilt trigger's
#: heel_off_tilt_deg, take effect only at a reset; abort rules such as hysteresis
#: and analogue switch thresholds do nothing on an ordinary stride)
DETECTOR_KNOBS: dict[str, tuple[Knob, ...]] = {
    "tilt": (
        Knob("controller", "tilt.heel_off_fraction", "heel-off fraction", 2),
        Knob("controller", "tilt.toe_off_lag_ms", "toe-off lag", 0),
        Knob("controller", "tilt.heel_strike_lag_ms", "heel-strike lag", 0),
    ),
    "gyro": (
        Knob("controller", "gyro.heel_off_rotation_fraction", "heel-off rotation", 2),
        Knob("controller", "gyro.toe_off_lag_ms", "toe-off lag", 0),
        Knob("controller", "gyro.heel_strike_rate_dps", "heel-strike rate", 0),
        Knob("controller", "gyro.heel_strike_lag_ms", "heel-strike lag", 0),
    ),
    "footswitch": (Knob("controller", "footswitch.debounce_ms", "debounce", 0),),
}

#: stimulation timing and output
STIM_KNOBS: tuple[Knob, ...] = (
    Knob("controller", "stimulation.ramp_up_ms", "ramp up", 0),
    Knob("controller", "stimulation.ramp_down_ms", "ramp down", 0),
    Knob("controller", "stimulation.current_ma", "current"),
    Knob("controller", "stimulation.pulse_width_us", "pulse width", 0),
    Knob("controller", "stimulation.frequency_hz", "frequency", 0),
)

#: the extension setting for each timing mode
EXTENSION_KNOB: dict[str, Knob] = {
    "fixed": Knob("controller", "stimulation.extension_ms", "extension", 0),
    "percent": Knob("controller", "stimulation.extension_pct", "extension", 0),
}

#: walker settings a student can change while the simulation runs
WALKER_KNOBS: tuple[Knob, ...] = (
    Knob("walker", "speed_mps", "walker speed", 2, follow=keep_walk_ratio),
    Knob("walker", "drop_foot_severity", "drop-foot severity", 2),
)


def get_path(cfg: Config, path: str) -> Any:
    """Value of a dotted field path."""
    obj: Any = cfg
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def field_of(cfg: Config, path: str) -> dataclasses.Field:
    """The dataclass field a dotted path names."""
    *parents, name = path.split(".")
    owner: Any = cfg
    for p in parents:
        owner = getattr(owner, p)
    for f in dataclasses.fields(owner):
        if f.name == name:
            return f
    raise ConfigError(f"{path}: no such field in {type(owner).__name__}")


def replace_path(cfg: Config, path: str, value: Any) -> Config:
    """A copy of ``cfg`` with the dotted field set (range-checked by the config classes)."""
    head, _, rest = path.partition(".")
    if not rest:
        return cfg.replace(**{head: value})
    return cfg.replace(**{head: replace_path(getattr(cfg, head), rest, value)})


def check_controller_safe(controller: Config, stimulator: StimulatorConfig) -> None:
    """Raise :class:`~fes_sim.errors.SafetyLimitError` when the controller's output exceeds the limits.

    Builds a :class:`~fes_sim.device.DevicePipeline` (a few microseconds), so the
    viewer applies exactly the check the device applies.
    """
    DevicePipeline(controller, stimulator)  # type: ignore[arg-type]


def _largest_ok(lo: float, hi: float, ok: Callable[[float], bool], decimals: int) -> float:
    """Largest value in [lo, hi], on the ``decimals`` grid, for which the monotone ``ok`` holds."""
    if ok(hi):
        return hi
    good, bad = lo, hi
    for _ in range(60):
        mid = 0.5 * (good + bad)
        good, bad = (mid, bad) if ok(mid) else (good, mid)
    return math.floor(good * 10**decimals) / 10**decimals


class Tuning:
    """Current controller, stimulator and walker configs, and the knobs that change them.

    Parameters
    ----------
    controller
        A :class:`~fes_sim.control.config.ControllerConfig`.
    stimulator
        The safety limits the controller must respect.
    walker
        The walker config, or ``None`` when the source is not a simulation.
    walker_knobs
        Knobs on the walker config.
    """

    def __init__(
        self,
        controller: Config,
        stimulator: StimulatorConfig,
        walker: Config | None = None,
        walker_knobs: tuple[Knob, ...] = WALKER_KNOBS,
    ) -> None:
        check_controller_safe(controller, stimulator)
        self.controller = controller
        self.stimulator = stimulator
        self.walker = walker
        self._walker_knobs = walker_knobs if walker is not None else ()

    def knobs(self) -> list[Knob]:
        """The knobs that apply to the current detector and timing mode."""
        c: Any = self.controller
        return [
            *DETECTOR_KNOBS.get(c.detector, ()),
            *STIM_KNOBS[:2],
            EXTENSION_KNOB[c.stimulation.timing],
            *STIM_KNOBS[2:],
            *self._walker_knobs,
        ]

    def config(self, kind: str) -> Config:
        """The current config of ``kind`` (``controller`` or ``walker``)."""
        cfg = self.controller if kind == "controller" else self.walker
        if cfg is None:
            raise ConfigError(f"no {kind} config to tune")
        return cfg

    def value(self, knob: Knob) -> float:
        """Current value of a knob."""
        return float(get_path(self.config(knob.kind), knob.path))

    def unit(self, knob: Knob) -> str:
        """Unit of a knob as declared on its field."""
        return field_of(self.config(knob.kind), knob.path).metadata.get("unit", "")

    def doc(self, knob: Knob) -> str:
        """Help text of a knob's field."""
        return field_of(self.config(knob.kind), knob.path).metadata.get("doc", "")

    def bounds(self, knob: Knob) -> tuple[float, float]:
        """Allowed (min, max) of a knob given all other current settings."""
        cfg = self.config(knob.kind)
        meta = field_of(cfg, knob.path).metadata
        step = 10.0**-knob.decimals
        lo = float(meta["lo"]) + (step if meta.get("lo_open") else 0.0) if meta.get("lo") is not None else -1e9
        hi = float(meta["hi"]) if meta.get("hi") is not None else 1e9
        # Every knob here only fails checks by being too large (output limits, ramps
        # that must fit in max_on_time_s), so the largest acceptable value is the bound.
        return lo, _largest_ok(lo, hi, lambda v: self._acceptable(knob, v), knob.decimals)

    def _acceptable(self, knob: Knob, value: float) -> bool:
        try:
            self._candidate(knob, value)
        except ConfigError:
            return False
        return True

    def _candidate(self, knob: Knob, value: float) -> Config:
        old = self.config(knob.kind)
        cfg = replace_path(old, knob.path, float(value))
        if knob.follow is not None:
            cfg = knob.follow(old, cfg)
        if knob.kind == "controller":
            check_controller_safe(cfg, self.stimulator)
        return cfg

    def set(self, knob: Knob, value: float) -> Config:
        """Apply a knob's new value and return the new config; ConfigError leaves everything as it was."""
        cfg = self._candidate(knob, value)
        if knob.kind == "controller":
            self.controller = cfg
        else:
            self.walker = cfg
        return cfg
