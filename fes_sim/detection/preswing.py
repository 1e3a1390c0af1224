"""Toe-off from the shape of the pre-swing shank-rate peak, shared by the tilt and gyro detectors.

After heel-off the forward shank rate dψ/dt climbs to its pre-swing peak and falls as
the knee flexes into swing. How long after the peak the toe leaves the floor differs
between walkers: 35–40 ms in the NONAN GaitPrint recordings (Wiles et al. 2023), 73–83 ms
in Winter's trial (REFERENCE §2) and 80–110 ms on the simulated slow walkers whose
broad peaks it inherits. Across all of them the peak is close to symmetric near its
top: toe-off comes about as long after the peak as the rate took to climb its top band
(the last ``rise_fraction`` of the peak, 10 % by default; NONAN 35–40 ms against a
35–40 ms climb, the simulated severe walker 107 ms against 105 ms). So toe-off is due at

    t_peak + symmetry · (t_peak − t_rise) + lag,

where ``t_rise`` is the last sample before the peak below ``rise_fraction · peak``, once
the rate is below ``drop_fraction`` of the peak and still falling (at its lowest since
the peak: a bump on a slow walker's flat stance rate is not the peak), or as soon as it
has fallen to ``rate_fraction`` of the peak. A rise of the rate by
``rebound_fraction`` of the peak above its later minimum (a slow walker's stance
plateau before the real pre-swing peak) restarts the search.

The climb is kept as a bounded history of the samples since heel-off
(:data:`HISTORY` samples: 1.3 s at 200 Hz, 0.26 s at 1 kHz); beyond it the oldest
sample stands for ``t_rise``.
"""

from __future__ import annotations

import math
from typing import Any

#: samples of the climb kept (the C firmware keeps the same number)
HISTORY = 256


def toe_off_rules(config: Any) -> tuple[float, float, float, float, float, float]:
    """The :class:`PreSwingPeak` arguments from a detector config's ``toe_off_*`` fields."""
    return (config.toe_off_rise_fraction, config.toe_off_symmetry, config.toe_off_lag_ms * 1e-3,
            config.toe_off_drop_fraction, config.toe_off_rate_fraction, config.toe_off_rebound_fraction)


class PreSwingPeak:
    """The pre-swing rate peak of one push-off and the toe-off time it implies.

    Parameters
    ----------
    rise_fraction, symmetry, lag_s, drop_fraction, rate_fraction, rebound_fraction : float
        The rule in the module docstring (``lag_s`` in seconds).
    """

    def __init__(
        self, rise_fraction: float, symmetry: float, lag_s: float, drop_fraction: float, rate_fraction: float, rebound_fraction: float
    ) -> None:
        self.configure(rise_fraction, symmetry, lag_s, drop_fraction, rate_fraction, rebound_fraction)
        self._t = [0.0] * HISTORY
        self._r = [0.0] * HISTORY
        self.start(math.nan, 0.0)

    def configure(
        self, rise_fraction: float, symmetry: float, lag_s: float, drop_fraction: float, rate_fraction: float, rebound_fraction: float
    ) -> None:
        """New rules from the next sample on."""
        self.rise_fraction = rise_fraction
        self.symmetry = symmetry
        self.lag_s = lag_s
        self.drop_fraction = drop_fraction
        self.rate_fraction = rate_fraction
        self.rebound_fraction = rebound_fraction

    def start(self, t_s: float, rate_dps: float) -> None:
        """Heel-off at ``t_s``: a new search from this sample."""
        self.peak_dps = self.trough_dps = rate_dps
        self.t_peak = self.t_rise = t_s
        self._n = 0
        self._push(t_s, rate_dps)

    def update(self, t_s: float, rate_dps: float) -> bool:
        """Take one sample after heel-off; return True when toe-off is due at it."""
        if rate_dps > self.peak_dps:
            self.peak_dps = self.trough_dps = rate_dps
            self.t_peak = t_s
            self.t_rise = self._last_below(self.rise_fraction * rate_dps)
        elif rate_dps > self.trough_dps + self.rebound_fraction * self.peak_dps:
            self.start(t_s, rate_dps)  # the rate climbs again after a dip: the real peak is still to come
            return False
        elif rate_dps < self.trough_dps:
            self.trough_dps = rate_dps
        self._push(t_s, rate_dps)
        peak = self.peak_dps
        return rate_dps <= self.rate_fraction * peak or (
            rate_dps <= self.drop_fraction * peak
            and rate_dps <= self.trough_dps  # still falling: at its lowest since the peak
            and t_s >= self.t_peak + self.symmetry * (self.t_peak - self.t_rise) + self.lag_s
        )

    def _push(self, t_s: float, rate_dps: float) -> None:
        k = self._n % HISTORY
        self._t[k] = t_s
        self._r[k] = rate_dps
        self._n += 1

    def _last_below(self, level: float) -> float:
        """Time of the newest kept sample below ``level`` (the oldest kept one if none is)."""
        n = self._n
        oldest = n - HISTORY if n > HISTORY else 0
        k = n - 1
        while k >= oldest:
            i = k % HISTORY
            if self._r[i] < level:
                return self._t[i]
            k -= 1
        return self._t[oldest % HISTORY]
