"""Shank sensor: IMU model, tilt-sensor output and fault injection."""

from fes_sim.sensors.imu import SensorConfig, SensorFault

__all__ = ["SensorConfig", "SensorFault"]
