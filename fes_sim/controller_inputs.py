"""Which shank-sensor channels a controller reads, so a simulation can deliver them
and a replay can refuse a recording that lacks them.

A detector silently fed all-``nan`` input never fires: the stimulator stays off and
every stride drags. The simulated sensor therefore switches on what the controller
needs, and a recording or an explicit sensor without it is an error, not a quiet run.
"""

from __future__ import annotations

from typing import Iterable

from fes_sim.control.config import ControllerConfig
from fes_sim.errors import ConfigError, RecordingError
from fes_sim.sensors.imu import SensorConfig

#: SensorConfig switch that makes the simulated sensor deliver each channel
_SWITCH_OF_CHANNEL: dict[str, str] = {
    "tilt_deg": "tilt_output",
    "footswitch": "footswitch",
    "acc_x_mps2": "imu",
    "acc_y_mps2": "imu",
    "gyr_z_dps": "imu",
}
_TILT = ("tilt_deg",)
_ACC_GYRO = ("acc_x_mps2", "acc_y_mps2", "gyr_z_dps")


def channel_options(controller: ControllerConfig) -> tuple[tuple[str, ...], ...]:
    """The channel sets the controller can work from; any one complete set suffices.

    The heel-switch detector reads the switch, the gyro detector the sagittal gyro,
    and the tilt detector a tilt channel or, to fuse one, accelerometer and gyro
    (as its estimator's ``source`` allows).
    """
    if controller.detector == "footswitch":
        return (("footswitch",),)
    if controller.detector == "gyro":
        return (("gyr_z_dps",),)
    source = controller.estimator.source
    return {"tilt": (_TILT,), "imu": (_ACC_GYRO,)}.get(source, (_TILT, _ACC_GYRO))


def missing_input(controller: ControllerConfig, channels: Iterable[str]) -> str | None:
    """``None`` when ``channels`` hold one of the controller's channel sets, else what it needs."""
    have = set(channels)
    options = channel_options(controller)
    if any(set(group) <= have for group in options):
        return None
    needs = " or ".join(" + ".join(group) for group in options)
    return f"the {controller.detector} detector needs {needs}"


def require_inputs(controller: ControllerConfig, channels: Iterable[str], source: object) -> None:
    """Raise :class:`RecordingError` naming ``source`` when ``channels`` lack what the controller reads."""
    have = sorted(channels)
    problem = missing_input(controller, have)
    if problem is not None:
        raise RecordingError(f"{source}: {problem}; the file has {', '.join(have) or 'no sensor channel'}")


def sensor_for(controller: ControllerConfig, sensor: SensorConfig | None = None) -> SensorConfig:
    """The simulated shank sensor for ``controller``.

    Parameters
    ----------
    controller
        The programmed device.
    sensor
        An explicit sensor, or ``None`` for the
        default sensor with whatever the controller reads switched on (e.g. the heel
        switch for the ``footswitch`` detector).

    Raises
    ------
    ConfigError
        If the explicit ``sensor`` delivers none of the controller's channel sets.
    """
    if sensor is None:
        sensor = SensorConfig()
        if missing_input(controller, _delivered(sensor)) is not None:
            switches = {_SWITCH_OF_CHANNEL[c] for c in channel_options(controller)[0]}
            sensor = sensor.replace(**dict.fromkeys(switches, True))
        return sensor
    problem = missing_input(controller, _delivered(sensor))
    if problem is not None:
        raise ConfigError(f"sensor: {problem}, but the sensor config switches it off")
    return sensor


def _delivered(sensor: SensorConfig) -> set[str]:
    """Channels a simulated sensor delivers."""
    return {c for c, switch in _SWITCH_OF_CHANNEL.items() if getattr(sensor, switch)}
