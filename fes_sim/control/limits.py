"""Safety limits of a stimulator (the ``stimulator`` config kind).

The limits follow IEC 60601-2-10 practice as summarised in REFERENCE §9: maximum
amplitude, pulse width and rate; charge per phase (I·PW); an rms current density
for a stated electrode area, with a warning above 2 mA/cm² and a configurable hard
limit; a worst-case duty cycle and a maximum continuous on-time. The typical
ranges of commercial peroneal stimulators (REFERENCE §8: 20–45 Hz, up to
300–350 µs, up to about 100 mA) are unverified, so every figure is a parameter.

:func:`check_settings` is the single place where a controller's stimulation
settings are compared with these limits; :class:`fes_sim.device.DevicePipeline`
calls it on construction and refuses unsafe settings with
:class:`~fes_sim.errors.SafetyLimitError`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from fes_sim.config.schema import Config, param
from fes_sim.errors import SafetyLimitError

log = logging.getLogger(__name__)

#: IEC 60601-2-10: rms current density above this needs special attention (REFERENCE §9).
CURRENT_DENSITY_WARNING_MA_CM2 = 2.0


@dataclass(frozen=True)
class StimulatorConfig(Config):
    """Hardware safety limits of one stimulator and its electrodes."""

    max_current_ma: float = param(100.0, unit="mA", lo=0, hi=200, lo_open=True, doc="largest pulse amplitude")
    max_pulse_width_us: float = param(350.0, unit="us", lo=0, hi=1000, lo_open=True, doc="largest phase width")
    max_frequency_hz: float = param(50.0, unit="Hz", lo=0, hi=200, lo_open=True, doc="highest pulse rate")
    max_charge_per_phase_uc: float = param(35.0, unit="uC", lo=0, hi=100, lo_open=True, doc="largest I*PW of one phase")
    max_duty_cycle: float = param(
        0.95, unit="", lo=0, hi=1, lo_open=True,
        doc="largest worst-case on fraction, max_on_time / (max_on_time + min_off_time)",
    )
    max_on_time_s: float = param(10.0, unit="s", lo=0, hi=600, lo_open=True, doc="longest continuous stimulation")
    electrode_area_cm2: float = param(15.9, unit="cm2", lo=0, hi=200, lo_open=True, doc="active electrode area (45 mm round)")
    max_current_density_ma_cm2: float = param(
        4.0, unit="mA/cm2", lo=0, hi=20, lo_open=True, doc="hard limit on rms current density"
    )
    asymmetric_recovery_ratio: float = param(
        4.0, unit="", lo=1, hi=10, doc="asymmetric biphasic: recovery phase is this much longer and lower"
    )
    max_fault_ramp_down_ms: float = param(
        100.0, unit="ms", lo=0, hi=1000, doc="longest allowed ramp to zero after a sensor fault"
    )


def rms_current_ma(current_ma: float, pulse_width_us: float, frequency_hz: float) -> float:
    """rms current of a balanced biphasic train, I·√(2·f·PW) (REFERENCE §9)."""
    return current_ma * math.sqrt(2.0 * frequency_hz * pulse_width_us * 1e-6)


def check_settings(
    limits: StimulatorConfig,
    *,
    current_ma: float,
    pulse_width_us: float,
    frequency_hz: float,
    max_on_time_s: float,
    min_off_time_ms: float,
    fault_ramp_down_ms: float,
) -> None:
    """Raise :class:`SafetyLimitError` naming every controller setting that exceeds ``limits``.

    The message names each setting by its path in the controller config
    (``stimulation.current_ma = 150 exceeds the stimulator's max_current_ma 100``).
    Logs a warning when the rms current density is above 2 mA/cm² but below the
    hard limit.
    """
    problems = []

    def exceeds(what: str, limit: str) -> None:
        problems.append(f"{what} exceeds the stimulator's {limit} {getattr(limits, limit):g}")

    if current_ma > limits.max_current_ma:
        exceeds(f"stimulation.current_ma = {current_ma:g}", "max_current_ma")
    if pulse_width_us > limits.max_pulse_width_us:
        exceeds(f"stimulation.pulse_width_us = {pulse_width_us:g}", "max_pulse_width_us")
    if frequency_hz > limits.max_frequency_hz:
        exceeds(f"stimulation.frequency_hz = {frequency_hz:g}", "max_frequency_hz")
    charge_uc = current_ma * pulse_width_us * 1e-3
    if charge_uc > limits.max_charge_per_phase_uc:
        exceeds(f"charge per phase {charge_uc:g} uC (stimulation.current_ma * stimulation.pulse_width_us)", "max_charge_per_phase_uc")
    if max_on_time_s > limits.max_on_time_s:
        exceeds(f"stimulation.max_on_time_s = {max_on_time_s:g}", "max_on_time_s")
    duty = max_on_time_s / (max_on_time_s + min_off_time_ms * 1e-3)
    if duty > limits.max_duty_cycle:
        exceeds(f"worst-case duty cycle {duty:.3f} (stimulation.max_on_time_s, min_off_time_ms)", "max_duty_cycle")
    if fault_ramp_down_ms > limits.max_fault_ramp_down_ms:
        exceeds(f"faults.fault_ramp_down_ms = {fault_ramp_down_ms:g}", "max_fault_ramp_down_ms")
    density = rms_current_ma(current_ma, pulse_width_us, frequency_hz) / limits.electrode_area_cm2
    if density > limits.max_current_density_ma_cm2:
        exceeds(
            f"rms current density {density:.2f} mA/cm2 (stimulation.current_ma, pulse_width_us, frequency_hz; "
            f"electrode_area_cm2 {limits.electrode_area_cm2:g})",
            "max_current_density_ma_cm2",
        )
    if problems:
        raise SafetyLimitError("; ".join(problems))
    if density > CURRENT_DENSITY_WARNING_MA_CM2:
        log.warning(
            "rms current density %.2f mA/cm2 is above %.1f mA/cm2 (IEC 60601-2-10 asks for special attention)",
            density, CURRENT_DENSITY_WARNING_MA_CM2,
        )


CONFIG_CLASS = StimulatorConfig

#: A default microcontroller stimulator: 100 mA, 350 µs, 50 Hz, 45 mm round electrode.
PRESETS: dict[str, StimulatorConfig] = {"default": StimulatorConfig()}
