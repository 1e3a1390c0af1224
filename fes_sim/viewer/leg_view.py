"""Animated side view of the leg, with the stimulation shown on the shank."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from fes_sim.viewer.buffer import Snapshot
from fes_sim.viewer.leg import LegGeometry, leg_points

_GREY = (90, 90, 90)
_RED = (214, 39, 40)
_LEVELS = 10


def _blend(level: float) -> tuple[int, int, int]:
    return tuple(int(g + (r - g) * level) for g, r in zip(_GREY, _RED))  # type: ignore[return-value]


class LegView(pg.PlotWidget):
    """Thigh, shank and foot drawn from the newest sample; the shank turns red with the envelope."""

    def __init__(self, geometry: LegGeometry | None = None, parent: object = None) -> None:
        super().__init__(parent=parent, background="w")
        self.geometry = geometry or LegGeometry.for_height()
        self.setAspectLocked(True)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setRange(xRange=(-0.55, 0.55), yRange=(-0.05, 1.0), padding=0)
        self.addLine(y=0.0, pen=pg.mkPen("k", width=2))
        self.thigh = self.plot(pen=pg.mkPen(_GREY, width=7))
        self.shank_pens = [pg.mkPen(_blend(i / _LEVELS), width=7 + 4 * i / _LEVELS) for i in range(_LEVELS + 1)]
        self.shank = self.plot(pen=self.shank_pens[0])
        self.foot = self.plot(pen=pg.mkPen(_GREY, width=5), connect="finite")
        self.joints = pg.ScatterPlotItem(size=9, brush="w", pen=pg.mkPen("k"))
        self.electrode = pg.ScatterPlotItem(size=14, symbol="s", pen=pg.mkPen("k"))
        self.addItem(self.joints)
        self.addItem(self.electrode)
        self.label = pg.TextItem("", color="k", anchor=(0, 0))
        self.label.setPos(-0.53, 0.98)
        self.addItem(self.label)
        self._level = 0

    def update_from(self, snap: Snapshot) -> None:
        """Pose the leg as in the newest sample."""
        if not snap.samples["t_s"].size:
            return
        tilt = snap.latest("true_tilt_deg")
        if not math.isfinite(tilt):
            tilt = snap.latest("tilt_est_deg")
        if not math.isfinite(tilt):
            return
        pts = leg_points(
            self.geometry, tilt, snap.latest("knee_deg"), snap.latest("foot_pitch_deg"), snap.latest("toe_height_mm")
        )
        hip, knee, ankle = pts[0], pts[1], pts[2]
        self.thigh.setData(pts[0:2, 0], pts[0:2, 1], connect="finite")
        self.shank.setData(pts[1:3, 0], pts[1:3, 1])
        self.foot.setData(pts[2:6, 0], pts[2:6, 1])
        joints = np.array([p for p in (hip, knee, ankle) if np.all(np.isfinite(p))])
        self.joints.setData(joints[:, 0], joints[:, 1])
        envelope = snap.latest("envelope")
        envelope = envelope if math.isfinite(envelope) else 0.0
        level = int(round(min(max(envelope, 0.0), 1.0) * _LEVELS))
        if level != self._level:
            self.shank.setPen(self.shank_pens[level])
            self._level = level
        e = knee + 0.25 * (ankle - knee)  # the peroneal nerve electrode, below the fibular head
        self.electrode.setData([e[0]], [e[1]], brush=[pg.mkBrush(_blend(level / _LEVELS))])
        current = snap.latest("current_ma") * envelope
        self.label.setText(f"stim {current:4.1f} mA" if math.isfinite(current) and current > 0 else "stim off")
