"""The code that runs "on the device": estimator → detector → controller, one sample at a time.

:class:`DevicePipeline` is shared by the closed-loop simulator, replay and
hardware-in-the-loop. It checks the controller's output settings against the
stimulator's safety limits once, on construction, and refuses unsafe settings
with :class:`~fes_sim.errors.SafetyLimitError`; at run time the envelope is
clamped to 0..1, so no pulse can exceed the checked settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fes_sim.control.config import ControllerConfig
from fes_sim.control.controller import FAULT, IDLE, STATE_LABELS, Pulse, StimController
from fes_sim.control.limits import StimulatorConfig, check_settings
from fes_sim.detection.estimator import TiltEstimator
from fes_sim.detection.faults import SensorMonitor, fault_label
from fes_sim.detection.footswitch import HeelSwitchDetector
from fes_sim.detection.gyro import ShankGyroDetector
from fes_sim.detection.tilt_trigger import TiltTriggerDetector
from fes_sim.errors import ConfigError
from fes_sim.samples import GaitEvent, ShankSample

_TILT_CHANNELS = ("tilt_deg",)
_TILT_GYRO_CHANNELS = ("tilt_deg", "gyr_z_dps")  # a tilt channel whose rate comes from the gyro
_IMU_CHANNELS = ("gyr_z_dps", "acc_x_mps2", "acc_y_mps2")


@dataclass(slots=True)
class StimOutput:
    """What the device commands after one sample; lasts until the next sample.

    ``current_ma`` is 0 when stimulation is off; ``pulse_width_us`` and
    ``frequency_hz`` always hold the programmed values. ``pulses`` and
    ``charge_uc`` count what is delivered in this sample period (one phase per
    pulse: charge = I·PW).
    """

    t_s: float = math.nan
    tilt_est_deg: float = math.nan
    event: GaitEvent = GaitEvent.NONE
    state: str = "idle"
    envelope: float = 0.0
    current_ma: float = 0.0
    pulse_width_us: float = 0.0
    frequency_hz: float = 0.0
    faults: str = ""
    pulses: int = 0
    charge_uc: float = 0.0


def check_limits(controller: ControllerConfig, stimulator: StimulatorConfig) -> None:
    """Raise :class:`~fes_sim.errors.SafetyLimitError` when ``controller`` exceeds ``stimulator``'s limits
    (the check every pipeline makes on construction and on retune)."""
    st = controller.stimulation
    check_settings(
        stimulator,
        current_ma=st.current_ma,
        pulse_width_us=st.pulse_width_us,
        frequency_hz=st.frequency_hz,
        max_on_time_s=max(st.max_on_time_s, controller.exercise.on_s if controller.mode == "exercise" else 0.0),
        min_off_time_ms=st.min_off_time_ms,
        fault_ramp_down_ms=controller.faults.fault_ramp_down_ms,
    )


def make_detector(config: ControllerConfig) -> TiltTriggerDetector | ShankGyroDetector | HeelSwitchDetector:
    """The detector named by ``config.detector``, built from its table."""
    if config.detector == "tilt":
        return TiltTriggerDetector(config.tilt, config.adaptation_strides)
    if config.detector == "gyro":
        return ShankGyroDetector(config.gyro, config.adaptation_strides)
    if config.detector == "footswitch":
        return HeelSwitchDetector(config.footswitch, config.adaptation_strides)
    raise ConfigError(f"detector: unknown detector {config.detector!r}")  # pragma: no cover - Literal-checked


class DevicePipeline:
    """Estimator, detector and controller wired together, plus the sensor monitor.

    Parameters
    ----------
    controller : ControllerConfig
        The programmed device.
    stimulator : StimulatorConfig
        Hardware safety limits.
    sample_rate_hz : float
        Nominal sensor rate.
    pulse_sink : list or None
        Receives every delivered :class:`~fes_sim.control.controller.Pulse`.

    Raises
    ------
    SafetyLimitError
        If the controller's current, pulse width, frequency, charge, current
        density, on-time, duty cycle or fault ramp exceed ``stimulator``.
    """

    def __init__(
        self,
        controller: ControllerConfig,
        stimulator: StimulatorConfig,
        sample_rate_hz: float = 200.0,
        pulse_sink: list[Pulse] | None = None,
    ) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise ConfigError(f"sample_rate_hz: {sample_rate_hz!r} must be a positive number")
        check_limits(controller, stimulator)
        st = controller.stimulation
        self.config = controller
        self.stimulator = stimulator
        self.sample_rate_hz = sample_rate_hz
        self.estimator = TiltEstimator(controller.estimator, sample_rate_hz)
        self.detector = make_detector(controller)
        self.monitor = SensorMonitor(controller.faults, self._required_channels(), sample_rate_hz)
        self.controller = StimController(controller, sample_rate_hz, controller.faults.max_gap_ms * 1e-3, pulse_sink)
        self.out = StimOutput(pulse_width_us=st.pulse_width_us, frequency_hz=st.frequency_hz)
        self._charge_per_pulse_uc = st.pulse_width_us * 1e-3
        self._labels: dict[int, str] = {}
        self.pending: ControllerConfig | None = None
        self.reset()

    def _required_channels(self) -> tuple[str, ...]:
        det = self.config.detector
        if det == "footswitch":
            return ("footswitch",)
        if det == "gyro":
            return ("gyr_z_dps",)
        est = self.estimator
        if not est.decided:
            return ()
        if est.use_tilt_channel:
            return _TILT_GYRO_CHANNELS if est.rate_from_gyro else _TILT_CHANNELS
        return _IMU_CHANNELS

    @property
    def pulse_sink(self) -> list[Pulse] | None:
        """The list receiving delivered pulses (``None``: not recorded)."""
        return self.controller.pulse_sink

    @pulse_sink.setter
    def pulse_sink(self, sink: list[Pulse] | None) -> None:
        self.controller.pulse_sink = sink

    def reset(self) -> None:
        """Start a new stream: every state machine back to its initial state."""
        self.estimator.reset()
        self.detector.reset()
        self.monitor.reset()
        self.monitor.configure(self._required_channels())
        self._undecided = not self.estimator.decided and self.config.detector == "tilt"
        self.controller.reset()
        self._interrupted = False
        out = self.out
        out.t_s = math.nan
        out.tilt_est_deg = math.nan
        out.event = GaitEvent.NONE
        out.state = "idle"
        out.envelope = 0.0
        out.current_ma = 0.0
        out.faults = ""
        out.pulses = 0
        out.charge_uc = 0.0

    def retune(self, controller: ControllerConfig) -> bool:
        """Swap in a new controller config, keeping what the estimator and detector learnt.

        The config is checked against the stimulator's limits first; an unsafe one
        raises :class:`~fes_sim.errors.SafetyLimitError` and changes nothing. It takes
        effect at once when the output is idle or in fault (zero), else it is held in
        :attr:`pending` and applied at the first sample after the burst in progress
        has ended with its own ramp, so a burst is never cut or re-scaled mid-way.
        A later call replaces a pending config. Changing the detector kind starts
        the new detector from reset; changing the estimator source restarts the
        estimate.

        Returns
        -------
        bool
            True if the config is in effect, False if it is pending.
        """
        check_limits(controller, self.stimulator)
        self.pending = controller
        return self._apply_pending()

    def _apply_pending(self) -> bool:
        new = self.pending
        ctrl = self.controller
        if new is None or ctrl.state not in (IDLE, FAULT) or ctrl.envelope != 0.0:
            return False
        old = self.config
        self.pending = None
        self.config = new
        if new.estimator.source != old.estimator.source:
            self.estimator.apply_config(new.estimator)
            self.estimator.reset()
            self._undecided = not self.estimator.decided and new.detector == "tilt"
        else:
            self.estimator.apply_config(new.estimator)
        if new.detector != old.detector:
            self.detector = make_detector(new)
            self._undecided = not self.estimator.decided and new.detector == "tilt"
        else:
            self.detector.apply_config(getattr(new, new.detector), new.adaptation_strides)
        self.monitor.apply_config(new.faults)
        self.monitor.configure(self._required_channels())
        self.controller.apply_config(new, new.faults.max_gap_ms * 1e-3)
        st = new.stimulation
        self.out.pulse_width_us = st.pulse_width_us
        self.out.frequency_hz = st.frequency_hz
        self._charge_per_pulse_uc = st.pulse_width_us * 1e-3
        return True

    def test_burst(self) -> None:
        """Request a test burst (``stimulation.test_burst_ms``) from the next sample on."""
        self.controller.test_burst()

    def set_manual(self, pressed: bool) -> None:
        """Clinician hand-switch input."""
        self.controller.set_manual(pressed)

    def update(self, sample: ShankSample) -> StimOutput:
        """Process one sample; returns the (reused) :class:`StimOutput`."""
        if self.pending is not None:
            self._apply_pending()
        t = sample.t_s
        est = self.estimator
        if self._undecided:
            est.choose_input(sample)
            if est.decided:
                self._undecided = False
                self.monitor.configure(self._required_channels())
        fault = self.monitor.update(sample)
        # a sample with a fault of its own (non-finite, saturated, stuck, broken time) never
        # reaches the estimator, so a spike cannot corrupt the estimate that follows it
        tilt = est.update(sample) if not self.monitor.bits else math.nan
        if self._undecided:
            fault |= 1  # no usable input yet: MISSING
        det = self.detector
        if fault:
            event = GaitEvent.NONE
            if not self._interrupted:
                det.interrupt()
                est.restart()  # the estimate restarts from the accelerometer once the input is valid again
                self._interrupted = True
        else:
            self._interrupted = False
            event = det.update(t, tilt, self.estimator.rate_dps, sample.footswitch)
        ctrl = self.controller
        ctrl.update(t, event, fault, det.aborted)
        out = self.out
        out.t_s = t
        out.tilt_est_deg = tilt
        out.event = event
        out.state = STATE_LABELS[ctrl.state]
        out.envelope = ctrl.envelope
        out.current_ma = ctrl.current_ma
        n = ctrl.pulses
        out.pulses = n
        out.charge_uc = n * ctrl.current_ma * self._charge_per_pulse_uc if n else 0.0
        bits = fault | ctrl.flags
        if bits:
            label = self._labels.get(bits)
            if label is None:
                label = self._labels[bits] = fault_label(bits)
            out.faults = label
        else:
            out.faults = ""
        return out
