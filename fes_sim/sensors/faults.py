"""Sensor fault injection for tests: dropout, stuck value, saturation, NaN."""

from __future__ import annotations

import numpy as np

from fes_sim.sensors.imu import SensorConfig

_GROUPS = {
    "acc": ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2"),
    "gyr": ("gyr_x_dps", "gyr_y_dps", "gyr_z_dps"),
    "tilt": ("tilt_deg",),
}
_ALL = _GROUPS["acc"] + _GROUPS["gyr"] + _GROUPS["tilt"] + ("footswitch",)


def apply_faults(config: SensorConfig, t_s: np.ndarray, channels: dict[str, np.ndarray], held: dict[str, float]) -> None:
    """Overwrite ``channels`` (arrays (N, n) at times ``t_s`` (n,)) in place where a fault is active.

    ``held`` keeps the values a stuck channel freezes at, across blocks.
    """
    for i, f in enumerate(config.faults):
        on = (t_s >= f.start_s) & (t_s < f.start_s + f.duration_s)
        if not on.any():
            continue
        names = _ALL if f.kind == "dropout" or f.channels == "all" else _GROUPS[f.channels]
        for name in names:
            if name not in channels:
                continue
            x = channels[name]
            if f.kind in ("dropout", "nan"):
                x[:, on] = np.nan
            elif f.kind == "saturation":
                x[:, on] = config.gyro_range_dps if name.startswith("gyr") else (
                    config.acc_range_g * 9.80665 if name.startswith("acc") else 90.0
                )
            else:  # stuck
                key = f"{i}:{name}"
                if key not in held:
                    first = int(np.argmax(on))
                    held[key] = x[:, first - 1 if first > 0 else first].copy()
                x[:, on] = held[key][:, None]
