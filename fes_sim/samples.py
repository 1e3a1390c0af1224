"""The sample that flows through estimator, detector and controller.

Sensor frame (fixed to the shank, right-handed), used everywhere in the package:

* ``x`` points up along the shank, from the ankle towards the knee;
* ``y`` points forward (anterior), perpendicular to the shank in the sagittal plane;
* ``z`` = x × y points to the walker's left (lateral on the left leg, medial on the right).

Worked examples:

* Standing still with the shank vertical, the accelerometer measures specific
  force, so ``acc_x_mps2`` reads about +9.81 and ``acc_y_mps2``, ``acc_z_mps2``
  about 0.
* When the shank tilts forward (knee moving ahead of the ankle, shank tilt ψ
  increasing, REFERENCE §1), ``gyr_z_dps`` is positive: ``gyr_z_dps = dψ/dt``.
* A static shank tilted forward by ψ reads ``acc_x = g·cos ψ`` and
  ``acc_y = −g·sin ψ``, so the accelerometer tilt is ``atan2(−acc_y, acc_x)``.

Missing channels hold ``nan``: a tilt-only sensor leaves acc/gyr at nan, an IMU
without on-board fusion leaves ``tilt_deg`` at nan, and ``footswitch`` is nan
when there is no heel switch (1.0 = heel loaded, 0.0 = heel off the ground).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

NAN = math.nan

GRAVITY_MPS2 = 9.80665


class GaitEvent(IntEnum):
    """Gait events a detector reports. ``NONE`` means "no event at this sample"."""

    NONE = 0
    HEEL_STRIKE = 1
    HEEL_OFF = 2
    TOE_OFF = 3

    @property
    def label(self) -> str:
        """Lower-case name as used in files: ``heel_strike``, ``heel_off``, ``toe_off``."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> "GaitEvent":
        """Parse ``heel_strike`` / ``heel_off`` / ``toe_off``."""
        try:
            event = cls[label.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown event {label!r} (expected heel_strike, heel_off or toe_off)") from None
        if event is cls.NONE:
            raise ValueError("'none' is not an event")
        return event


@dataclass(slots=True)
class ShankSample:
    """One shank sensor sample in the frame described in this module's docstring.

    Sources may reuse one instance and overwrite its fields, so consumers must
    copy what they want to keep.
    """

    t_s: float
    acc_x_mps2: float = NAN
    acc_y_mps2: float = NAN
    acc_z_mps2: float = NAN
    gyr_x_dps: float = NAN
    gyr_y_dps: float = NAN
    gyr_z_dps: float = NAN
    tilt_deg: float = NAN
    footswitch: float = NAN


SAMPLE_FIELDS: tuple[str, ...] = tuple(ShankSample.__slots__)  # type: ignore[attr-defined]
