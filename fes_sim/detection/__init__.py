"""Gait-event detection: tilt estimation, detectors, sensor faults, calibration and scoring."""

from fes_sim.detection.estimator import TiltEstimator
from fes_sim.detection.faults import SensorMonitor, fault_label
from fes_sim.detection.footswitch import HeelSwitchDetector
from fes_sim.detection.gyro import ShankGyroDetector
from fes_sim.detection.tilt_trigger import TiltTriggerDetector

__all__ = ["TiltEstimator", "TiltTriggerDetector", "ShankGyroDetector", "HeelSwitchDetector", "SensorMonitor", "fault_label"]
