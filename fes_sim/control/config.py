"""Controller configuration (the ``controller`` config kind): detector, timing, output.

A controller config holds everything "programmed into the device" for one patient:
which gait-event detector runs and its thresholds, how the tilt is estimated,
the stimulation timing (fixed milliseconds or L300-style percentages of the
running average stance and swing), the output (current, pulse width, frequency, waveform)
and the sensor-fault rules. ``fes calibrate`` writes one of these as TOML.

"No stimulation" (``--controller off``) is :meth:`ControllerConfig.off`, also the
preset ``"off"``: the detectors still run and report events, the output stays zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fes_sim.config.schema import Config, param
from fes_sim.errors import ConfigError


@dataclass(frozen=True)
class EstimatorConfig(Config):
    """Tilt estimation: a ready tilt channel or a gated complementary filter (REFERENCE §6)."""

    source: Literal["auto", "tilt", "imu"] = param(
        "auto", doc="auto: the tilt channel when the first valid sample has one, else accelerometer+gyro"
    )
    tau_s: float = param(1.0, unit="s", lo=0, hi=30, lo_open=True, doc="complementary filter time constant")
    acc_gate_g: float = param(1.0, unit="g", lo=0, hi=2, lo_open=True, doc="freeze the accelerometer correction when |‖f‖-g| exceeds this (impacts, saturation)")
    rate_smoothing_ms: float = param(10.0, unit="ms", lo=0, hi=200, doc="low-pass time constant of the tilt rate taken from a tilt channel")


@dataclass(frozen=True)
class TiltTriggerConfig(Config):
    """WalkAide-like tilt trigger (Dai et al. 1996), with adaptive thresholds.

    Heel-off: tilt rises through the on-threshold at a rate above ``heel_off_rate_dps``.
    The on-threshold is ``stance_tilt + heel_off_fraction·(peak_tilt − stance_tilt)``
    over running stride averages, starting from ``heel_off_tilt_deg``. The true shank
    tilt at heel-off sits at 0.50 of its stride range (Winter 2009; NONAN GaitPrint
    0.44–0.53), but a fused tilt estimate loses 5–13° at the push-off peak (REFERENCE
    §6), which puts heel-off at 0.57–0.63 of the estimated range; the default 0.6 errs
    late on an undistorted tilt (NONAN: 25–100 ms) rather than early, into mid-stance
    (0.5 fired 140–170 ms early on the simulated sensors).
    Toe-off (:mod:`fes_sim.detection.preswing`): the pre-swing rate peak is close to
    symmetric near its top, so toe-off is due ``toe_off_symmetry`` times as long after the
    peak as the rate took to climb its top band (the last ``1 − toe_off_rise_fraction``),
    plus ``toe_off_lag_ms``, once the rate is below ``toe_off_drop_fraction`` of the peak
    and still falling; or as soon as it has fallen to ``toe_off_rate_fraction`` of the
    peak. Only with the tilt in the top part of its learnt range (``toe_off_min_level``,
    after two strides), so a bump on a slow walker's flat stance rate is not taken for the
    pre-swing peak, and a rise of the rate after a dip (``toe_off_rebound_fraction``)
    restarts the search. The peak leads toe-off by 35–40 ms in NONAN GaitPrint but by
    73–110 ms in Winter's trial and on the simulated slow walkers; the symmetry rule
    follows both (median errors within 30 ms on the pathological walkers, 10 ms on NONAN),
    where a fixed lag after the peak could not. Calibration with labelled events refits
    ``toe_off_lag_ms`` per patient. A shank still for ``still_ms`` in push-off or swing
    (the walker has stopped) abandons the stride.
    Heel strike: ``heel_strike_lag_ms`` after the terminal-swing tilt minimum
    (Winter: 36 ms), confirmed once the tilt has risen ``heel_strike_rise_deg``.
    """

    heel_off_tilt_deg: float = param(15.0, unit="deg", lo=-30, hi=60, doc="initial on-threshold (until adapted)")
    heel_off_fraction: float = param(0.6, unit="", lo=0.05, hi=0.95, doc="on-threshold as a fraction of the stride's tilt range")
    heel_off_rate_dps: float = param(10.0, unit="deg/s", lo=0, hi=500, doc="smallest tilt rate accepted at the on-threshold")
    heel_off_rate_fraction: float = param(0.2, unit="", lo=0, hi=1, doc="rate needed at the on-threshold, as a fraction of the walker's peak forward tilt rate")
    initial_peak_rate_dps: float = param(150.0, unit="deg/s", lo=10, hi=2000, doc="starting value of that peak rate (learnt at each heel strike)")
    swing_recovery_rate_dps: float = param(100.0, unit="deg/s", lo=10, hi=2000, doc="a backward tilt rate this fast means swing even if heel-off or toe-off was missed")
    heel_off_rate_smoothing_ms: float = param(25.0, unit="ms", lo=0, hi=500, doc="low-pass time constant of the rate used for the heel-off and swing checks")
    hysteresis_deg: float = param(5.0, unit="deg", lo=0, hi=30, doc="tilt must fall this far below the on-threshold to abort a heel-off")
    min_tilt_range_deg: float = param(10.0, unit="deg", lo=1, hi=90, doc="smallest stride tilt range accepted for adaptation")
    toe_off_rise_fraction: float = param(0.95, unit="", lo=0.5, hi=0.99, doc="the pre-swing peak's top band starts at this fraction of the peak")
    toe_off_symmetry: float = param(1.0, unit="", lo=0, hi=5, doc="toe-off this many times the top band's climb time after the peak ...")
    toe_off_lag_ms: float = param(0.0, unit="ms", lo=-200, hi=500, doc="... plus this (calibration refits it) ...")
    toe_off_drop_fraction: float = param(0.92, unit="", lo=0.05, hi=1, doc="... once the rate has fallen below this fraction of the peak")
    toe_off_rate_fraction: float = param(0.6, unit="", lo=0.05, hi=0.99, doc="or earlier, when the rate has fallen to this fraction of the peak")
    toe_off_min_level: float = param(0.88, unit="", lo=0, hi=1, doc="toe-off only once the tilt is above this fraction of the stride's tilt range")
    toe_off_rebound_fraction: float = param(0.1, unit="", lo=0.01, hi=1, doc="a rise of the rate by this fraction of its peak above its later minimum restarts the peak search (stance plateau, then pre-swing peak)")
    min_swing_rate_dps: float = param(40.0, unit="deg/s", lo=0, hi=1000, doc="swing must reach this backward tilt rate before heel strike is armed")
    heel_strike_lag_ms: float = param(30.0, unit="ms", lo=0, hi=200, doc="heel strike this long after the terminal-swing tilt minimum")
    heel_strike_rise_deg: float = param(0.5, unit="deg", lo=0, hi=20, doc="rise above the minimum that confirms it")
    min_stance_ms: float = param(200.0, unit="ms", lo=0, hi=3000, doc="shortest heel strike to heel-off interval")
    min_swing_ms: float = param(150.0, unit="ms", lo=0, hi=3000, doc="shortest toe-off to heel strike interval")
    min_push_off_ms: float = param(50.0, unit="ms", lo=0, hi=1000, doc="shortest heel-off to toe-off interval")
    max_push_off_ms: float = param(800.0, unit="ms", lo=50, hi=5000, doc="heel-off without toe-off for this long is aborted")
    max_swing_ms: float = param(1500.0, unit="ms", lo=100, hi=10000, doc="toe-off without heel strike for this long is abandoned")
    still_rate_dps: float = param(10.0, unit="deg/s", lo=0, hi=200, doc="a shank turning slower than this ...")
    still_ms: float = param(300.0, unit="ms", lo=50, hi=5000, doc="... for this long in push-off or swing has stopped walking: the stride is abandoned")


@dataclass(frozen=True)
class GyroDetectorConfig(Config):
    """Shank gyro detector: pre-swing rise, mid-swing peak, heel-strike zero crossing.

    After Aminian 2002 and Catalfamo 2010 in the project's sign (``gyr_z_dps`` =
    dψ/dt, mid-swing is a large negative rate). Thresholds scale with followers
    of each walker's own peak rates. Toe-off follows the same pre-swing peak rule as
    the tilt trigger (:class:`TiltTriggerConfig`, :mod:`fes_sim.detection.preswing`).
    """

    heel_off_fraction: float = param(0.4, unit="", lo=0.05, hi=0.95, doc="heel-off when the pre-swing rate rises through this fraction of its running peak ...")
    heel_off_rotation_fraction: float = param(0.55, unit="", lo=0.05, hi=0.95, doc="... or, once a stride is learnt, when the shank has turned forward this fraction of its stance rotation since heel strike")
    initial_stance_rotation_deg: float = param(60.0, unit="deg", lo=5, hi=150, doc="starting shank rotation from heel strike to toe-off (learnt at each toe-off)")
    max_stance_ms: float = param(2000.0, unit="ms", lo=200, hi=10000, doc="the rotation rule only counts this long after heel strike (gyro bias drifts the sum)")
    rotation_min_rate_fraction: float = param(0.5, unit="", lo=0, hi=2, doc="the rotation rule needs the shank turning forward, not slowing, at this fraction of its learnt mean stance rate (a stopping leg comes to rest)")
    toe_off_min_rotation: float = param(0.88, unit="", lo=0, hi=1, doc="toe-off only once the shank has turned this fraction of its learnt stance rotation (after two strides)")
    toe_off_rise_fraction: float = param(0.95, unit="", lo=0.5, hi=0.99, doc="the pre-swing peak's top band starts at this fraction of the peak")
    toe_off_symmetry: float = param(1.0, unit="", lo=0, hi=5, doc="toe-off this many times the top band's climb time after the peak ...")
    toe_off_lag_ms: float = param(0.0, unit="ms", lo=-200, hi=500, doc="... plus this (calibration refits it) ...")
    toe_off_drop_fraction: float = param(0.92, unit="", lo=0.05, hi=1, doc="... once the rate has fallen below this fraction of the peak")
    toe_off_rate_fraction: float = param(0.6, unit="", lo=0.05, hi=0.99, doc="or earlier, when the rate has fallen to this fraction of the peak")
    toe_off_rebound_fraction: float = param(0.1, unit="", lo=0.01, hi=1, doc="a rise of the rate by this fraction of its peak above its later minimum restarts the peak search")
    swing_fraction: float = param(0.4, unit="", lo=0.05, hi=0.95, doc="mid-swing is armed when the rate falls below this fraction of the running swing peak")
    initial_pre_swing_peak_dps: float = param(120.0, unit="deg/s", lo=10, hi=2000, doc="starting forward peak rate (followed while walking)")
    initial_peak_dps: float = param(60.0, unit="deg/s", lo=10, hi=2000, doc="starting swing peak magnitude (followed while walking)")
    swing_recovery_rate_dps: float = param(100.0, unit="deg/s", lo=10, hi=2000, doc="a backward rate this fast means swing even if heel-off or toe-off was missed")
    heel_strike_rate_dps: float = param(0.0, unit="deg/s", lo=-200, hi=300, doc="terminal-swing tilt minimum: the rate rises through this after mid-swing")
    heel_strike_lag_ms: float = param(30.0, unit="ms", lo=0, hi=200, doc="heel strike this long after that crossing (Winter: 36 ms)")
    min_stance_ms: float = param(200.0, unit="ms", lo=0, hi=3000, doc="shortest heel strike to heel-off interval")
    min_swing_ms: float = param(150.0, unit="ms", lo=0, hi=3000, doc="shortest toe-off to heel strike interval")
    max_push_off_ms: float = param(800.0, unit="ms", lo=50, hi=5000, doc="heel-off without toe-off for this long is aborted")
    max_swing_ms: float = param(1500.0, unit="ms", lo=100, hi=10000, doc="toe-off without heel strike for this long is abandoned")


@dataclass(frozen=True)
class FootswitchConfig(Config):
    """Heel switch: heel-off on release, heel strike on loading, with debounce.

    Walking loads the heel for 0.3–1 s between heel strike and heel-off; a release after a
    longer loading is standing (a weight shift onto the forefoot unloads the heel), so it
    is not reported and the next loading is not a heel strike: the first release of a walk
    starts the stride count, and its swing goes unstimulated."""

    threshold: float = param(0.5, unit="", lo=0, hi=1, doc="switch reads loaded above this")
    debounce_ms: float = param(20.0, unit="ms", lo=0, hi=500, doc="a new switch state must hold this long")
    max_loaded_ms: float = param(
        1500.0, unit="ms", lo=200, hi=10000,
        doc="a heel released after being loaded longer than this is not a heel-off (standing, shifting weight), nor is the loading that follows a heel strike",
    )


@dataclass(frozen=True)
class StimulationConfig(Config):
    """Output and timing of one stimulation burst per stride (REFERENCE §8)."""

    current_ma: float = param(35.0, unit="mA", lo=0, hi=200, doc="pulse amplitude at full envelope (35 mA x 250 us = 8.75 uC per pulse, about the simulated nerve's 9 uC half recruitment)")
    pulse_width_us: float = param(250.0, unit="us", lo=0, hi=1000, lo_open=True, doc="primary phase width")
    frequency_hz: float = param(40.0, unit="Hz", lo=0, hi=200, lo_open=True, doc="pulse rate")
    waveform: Literal["asymmetric", "symmetric"] = param("asymmetric", doc="biphasic, charge balanced")
    ramp_up_ms: float = param(80.0, unit="ms", lo=0, hi=2000, doc="envelope rise time")
    ramp_down_ms: float = param(80.0, unit="ms", lo=0, hi=2000, doc="envelope fall time")
    timing: Literal["fixed", "percent"] = param("fixed", doc="fixed ms, or % of the running average stance and swing (L300-style)")
    delay_ms: float = param(0.0, unit="ms", lo=0, hi=2000, doc="onset delay after heel-off (timing = fixed)")
    extension_ms: float = param(100.0, unit="ms", lo=0, hi=2000, doc="stimulation kept after heel strike (timing = fixed)")
    delay_pct: float = param(0.0, unit="%", lo=0, hi=100, doc="onset delay, % of average stance (timing = percent)")
    extension_pct: float = param(25.0, unit="%", lo=0, hi=100, doc="extension after heel strike, % of average swing (timing = percent)")
    max_on_time_s: float = param(2.0, unit="s", lo=0, hi=600, lo_open=True, doc="stimulation is forced off (and a fault flagged) after this")
    min_off_time_ms: float = param(150.0, unit="ms", lo=0, hi=10000, doc="shortest pause between bursts")
    test_burst_ms: float = param(1000.0, unit="ms", lo=0, hi=10000, doc="length of a test burst, ramps included")

    def check(self) -> None:
        if (self.ramp_up_ms + self.ramp_down_ms) * 1e-3 + 0.2 >= self.max_on_time_s:
            raise ConfigError(
                f"max_on_time_s: {self.max_on_time_s!r} must exceed ramp_up_ms + ramp_down_ms "
                f"({self.ramp_up_ms + self.ramp_down_ms:g} ms) by more than 200 ms"
            )


@dataclass(frozen=True)
class ExerciseConfig(Config):
    """Exercise mode: cyclic bursts with ramps, independent of gait, for a set total time."""

    on_s: float = param(5.0, unit="s", lo=0, hi=600, lo_open=True, doc="burst length, ramps included")
    off_s: float = param(5.0, unit="s", lo=0, hi=600, doc="pause between bursts")
    total_s: float = param(600.0, unit="s", lo=0, hi=7200, lo_open=True, doc="session length")


@dataclass(frozen=True)
class SensorFaultConfig(Config):
    """Sensor-fault rules. Any fault ramps stimulation down within ``fault_ramp_down_ms``."""

    max_gap_ms: float = param(50.0, unit="ms", lo=1, hi=5000, doc="longer time steps are a gap")
    stuck_ms: float = param(1000.0, unit="ms", lo=10, hi=60000, doc="an input repeating the exact same value this long is stuck")
    tilt_range_deg: float = param(90.0, unit="deg", lo=1, hi=180, doc="tilt at or beyond this magnitude is saturated")
    gyro_range_dps: float = param(2000.0, unit="deg/s", lo=10, hi=10000, doc="gyro full scale; at or beyond is saturated")
    acc_range_mps2: float = param(156.9, unit="m/s2", lo=1, hi=2000, doc="accelerometer full scale (16 g); at or beyond is saturated")
    fault_ramp_down_ms: float = param(50.0, unit="ms", lo=0, hi=1000, doc="envelope falls to zero within this after a fault (counted in samples)")
    recover_ms: float = param(500.0, unit="ms", lo=0, hi=60000, doc="valid input needed before a fault clears")


@dataclass(frozen=True)
class ControllerConfig(Config):
    """One patient's programmed device: detector, estimator, stimulation timing and output."""

    detector: Literal["tilt", "gyro", "footswitch"] = param("tilt", doc="gait-event detector")
    mode: Literal["gait", "exercise", "off"] = param("gait", doc="gait: a burst per stride; exercise: cyclic; off: no output")
    adaptation_strides: float = param(8.0, unit="strides", lo=1, hi=1000, doc="time constant of slow adaptation to speed and amplitude")
    estimator: EstimatorConfig = param(factory=EstimatorConfig)
    tilt: TiltTriggerConfig = param(factory=TiltTriggerConfig)
    gyro: GyroDetectorConfig = param(factory=GyroDetectorConfig)
    footswitch: FootswitchConfig = param(factory=FootswitchConfig)
    stimulation: StimulationConfig = param(factory=StimulationConfig)
    exercise: ExerciseConfig = param(factory=ExerciseConfig)
    faults: SensorFaultConfig = param(factory=SensorFaultConfig)

    def check(self) -> None:
        if self.mode == "exercise" and self.exercise.on_s > self.stimulation.max_on_time_s:
            raise ConfigError(
                f"exercise.on_s: {self.exercise.on_s!r} is longer than stimulation.max_on_time_s "
                f"({self.stimulation.max_on_time_s!r})"
            )

    @classmethod
    def off(cls) -> "ControllerConfig":
        """The default detector with stimulation disabled (``--controller off``)."""
        return cls(mode="off")


CONFIG_CLASS = ControllerConfig

PRESETS: dict[str, ControllerConfig] = {
    "walkaide_tilt": ControllerConfig(),
    "shank_gyro": ControllerConfig(detector="gyro", estimator=EstimatorConfig(source="imu")),
    "heel_switch": ControllerConfig(detector="footswitch"),
    "l300_percent": ControllerConfig(
        stimulation=StimulationConfig(timing="percent", delay_pct=0.0, extension_pct=25.0)
    ),
    "off": ControllerConfig.off(),
}
#: the preset used when none is named
DEFAULT_PRESET = "walkaide_tilt"
