"""Stimulation control: controller configuration, safety limits, the timing state machine."""

from fes_sim.control.config import ControllerConfig
from fes_sim.control.controller import STATE_LABELS, Pulse, StimController
from fes_sim.control.limits import StimulatorConfig, check_settings

__all__ = ["ControllerConfig", "StimulatorConfig", "StimController", "Pulse", "STATE_LABELS", "check_settings"]
