"""Bringing a device into a known state before a HIL run."""

from __future__ import annotations

from fes_sim.control.config import ControllerConfig
from fes_sim.control.limits import StimulatorConfig
from firmware_bridge.link.fes_link import FesLink


def prepare_device(link: FesLink, controller: ControllerConfig, stimulator: StimulatorConfig, watchdog_ms: int) -> None:
    """SET_LIMITS (the stimulator's limits, capped at the device's maxima), SET_CONFIG and SET_PARAMs from ``controller``.

    Ramps and extension go on the wire in whole milliseconds; every other setting
    of ``controller`` the device's own controller uses goes as SET_PARAM, so in
    DEVICE_LOOP mode the device runs the host's configuration, not its built-in one. The device refuses
    (:class:`~firmware_bridge.errors.DeviceRefused`) settings beyond its limits.
    """
    dev = link.device
    link.set_limits(
        max_current_ma=min(stimulator.max_current_ma, dev.max_current_ma),
        max_pulse_width_us=min(stimulator.max_pulse_width_us, dev.max_pulse_width_us),
        min_frequency_hz=dev.min_frequency_hz,
        max_frequency_hz=min(stimulator.max_frequency_hz, dev.max_frequency_hz),
        max_charge_uc=min(stimulator.max_charge_per_phase_uc, dev.max_charge_uc),
        max_on_ms=min(int(stimulator.max_on_time_s * 1000), dev.max_on_ms),
        watchdog_ms=watchdog_ms,
    )
    st = controller.stimulation
    link.configure(
        current_ma=st.current_ma, pulse_width_us=st.pulse_width_us, frequency_hz=st.frequency_hz,
        ramp_up_ms=round(st.ramp_up_ms), ramp_down_ms=round(st.ramp_down_ms), extension_ms=round(st.extension_ms),
    )
    link.configure_controller(controller)


def wire_controller(controller: ControllerConfig) -> ControllerConfig:
    """``controller`` with ramps and extension rounded to whole ms, as SET_CONFIG carries them."""
    st = controller.stimulation
    return controller.replace(stimulation=st.replace(
        ramp_up_ms=float(round(st.ramp_up_ms)), ramp_down_ms=float(round(st.ramp_down_ms)),
        extension_ms=float(round(st.extension_ms)),
    ))
