"""Stimulator safety limits: presets, rejection of unsafe settings, current-density warning."""

from __future__ import annotations

import logging

import pytest

from fes_sim.config.presets import get_preset, preset_names, resolve
from fes_sim.config.schema import load_toml, to_toml
from fes_sim.control.config import PRESETS, ControllerConfig, StimulationConfig
from fes_sim.control.limits import StimulatorConfig, rms_current_ma
from fes_sim.device import DevicePipeline
from fes_sim.errors import ConfigError, SafetyLimitError


def test_presets_registered():
    assert {"walkaide_tilt", "shank_gyro", "heel_switch", "off"} <= set(preset_names("controller"))
    assert "default" in preset_names("stimulator")
    assert get_preset("controller", "walkaide_tilt") == ControllerConfig()
    assert ControllerConfig.off().mode == "off" and resolve("controller", "off").mode == "off"
    for cfg in PRESETS.values():
        DevicePipeline(cfg, StimulatorConfig())  # every preset is safe on the default stimulator


def test_toml_round_trip(tmp_path):
    cfg = ControllerConfig(stimulation=StimulationConfig(current_ma=42.0, waveform="symmetric"))
    path = tmp_path / "c.toml"
    path.write_text(to_toml(cfg))
    assert load_toml(ControllerConfig, path) == cfg


def test_rms_current_matches_reference_example():
    # REFERENCE §9: 60 mA, 300 us, 40 Hz -> 9.3 mA rms
    assert rms_current_ma(60, 300, 40) == pytest.approx(9.3, abs=0.05)


@pytest.mark.parametrize(
    "stim, limits, words",
    [
        (dict(current_ma=120.0), {}, "stimulation.current_ma = 120 exceeds the stimulator's max_current_ma 100"),
        (dict(pulse_width_us=400.0), {}, "stimulation.pulse_width_us = 400 exceeds"),
        (dict(frequency_hz=80.0), {}, "stimulation.frequency_hz = 80 exceeds"),
        (dict(current_ma=100.0, pulse_width_us=350.0), dict(max_charge_per_phase_uc=30.0), "charge per phase"),
        (dict(max_on_time_s=5.0), dict(max_on_time_s=3.0), "stimulation.max_on_time_s = 5 exceeds the stimulator's max_on_time_s 3"),
        (dict(max_on_time_s=5.0, min_off_time_ms=100.0), {}, "duty cycle"),
        (dict(current_ma=100.0, pulse_width_us=300.0), dict(electrode_area_cm2=2.0), "current density"),
    ],
)
def test_unsafe_settings_rejected(stim, limits, words):
    with pytest.raises(SafetyLimitError, match=words):
        DevicePipeline(ControllerConfig(stimulation=StimulationConfig(**stim)), StimulatorConfig(**limits))


def test_fault_ramp_limit():
    from fes_sim.control.config import SensorFaultConfig

    cfg = ControllerConfig(faults=SensorFaultConfig(fault_ramp_down_ms=500.0))
    with pytest.raises(SafetyLimitError, match="faults.fault_ramp_down_ms = 500 exceeds"):
        DevicePipeline(cfg, StimulatorConfig())


def test_density_warning(caplog):
    cfg = ControllerConfig(stimulation=StimulationConfig(current_ma=100.0, pulse_width_us=300.0, frequency_hz=50.0))
    with caplog.at_level(logging.WARNING):
        DevicePipeline(cfg, StimulatorConfig(electrode_area_cm2=8.0, max_current_density_ma_cm2=5.0))
    assert "2.0 mA/cm2" in caplog.text


def test_config_ranges_and_cross_checks():
    with pytest.raises(ConfigError, match="current_ma"):
        StimulationConfig(current_ma=-1.0)
    with pytest.raises(ConfigError, match="max_on_time_s"):
        StimulationConfig(ramp_up_ms=1000.0, ramp_down_ms=1000.0, max_on_time_s=1.5)
    with pytest.raises(ConfigError, match="sample_rate_hz"):
        DevicePipeline(ControllerConfig(), StimulatorConfig(), sample_rate_hz=0.0)
