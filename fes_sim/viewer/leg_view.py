"""Animated side view of the leg, with the stimulation shown on the shank."""

from __future__ import annotations

import math

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from fes_sim.viewer.buffer import Snapshot
from fes_sim.viewer.leg import LegGeometry, leg_points
from fes_sim.viewer.qt_items import TraceItem

_GREY = (90, 90, 90)
_RED = (214, 39, 40)
_PALE = (150, 150, 150)
_LEVELS = 10
#: joint circle radius and electrode half size (m, the view's unit)
_JOINT_M = 0.009
_ELECTRODE_M = 0.013
#: what must stay in view (m): this wide around the knee, and from just below the floor to above the hip
_SCENE_WIDTH_M = 1.1
_SCENE_HEIGHT_M = 1.05
_BELOW_FLOOR_M = 0.05
#: line height of the labels (pixels)
_LINE_PX = 18


def _blend(level: float) -> tuple[int, int, int]:
    return tuple(int(g + (r - g) * level) for g, r in zip(_GREY, _RED))  # type: ignore[return-value]


class LegView(pg.PlotWidget):
    """Thigh, shank and foot drawn from the newest sample; the shank turns red with the envelope."""

    def __init__(self, geometry: LegGeometry | None = None, parent: object = None) -> None:
        super().__init__(parent=parent, background="w")
        self.geometry = geometry or LegGeometry.for_height()
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.hideAxis("left")
        self.hideAxis("bottom")
        floor = QtWidgets.QGraphicsLineItem(-10.0, 0.0, 10.0, 0.0)
        floor.setPen(pg.mkPen("k", width=2))
        self.getViewBox().addItem(floor, ignoreBounds=True)
        self.thigh = self._segment(pg.mkPen(_GREY, width=7))
        self.shank_pens = [pg.mkPen(_blend(i / _LEVELS), width=7 + 4 * i / _LEVELS) for i in range(_LEVELS + 1)]
        self.shank = self._segment(self.shank_pens[0])
        self.foot_pens = {True: pg.mkPen(_GREY, width=5), False: pg.mkPen(_PALE, width=3, style=QtCore.Qt.PenStyle.DashLine)}
        self.foot = self._segment(self.foot_pens[True])
        # joints and electrode are plain Qt items moved with setPos: no Python paint per frame
        self.joints = [self._marker(QtWidgets.QGraphicsEllipseItem(-_JOINT_M, -_JOINT_M, 2 * _JOINT_M, 2 * _JOINT_M), "w")
                       for _ in range(3)]
        self.electrode_brushes = [pg.mkBrush(_blend(i / _LEVELS)) for i in range(_LEVELS + 1)]
        box = QtWidgets.QGraphicsRectItem(-_ELECTRODE_M, -_ELECTRODE_M, 2 * _ELECTRODE_M, 2 * _ELECTRODE_M)
        self.electrode = self._marker(box, self.electrode_brushes[0])
        self.label = pg.TextItem("", color="k", anchor=(0, 0))
        self.addItem(self.label)
        self.note = pg.TextItem("", color=_PALE, anchor=(0, 0))  # what this source does not measure
        self.addItem(self.note)
        self._level = 0
        self._known: tuple[bool, bool] | None = None  # (knee angle, foot pitch) known in the last frame
        self.getViewBox().sigResized.connect(self._frame)
        self._frame()

    def _frame(self) -> None:
        """Same scale on both axes, the floor line near the bottom whatever the widget's shape, labels top left."""
        vb = self.getViewBox()
        w, h = vb.width(), vb.height()
        if w <= 0 or h <= 0:
            return
        px_per_m = min(w / _SCENE_WIDTH_M, h / _SCENE_HEIGHT_M)
        half_w, top = 0.5 * w / px_per_m, h / px_per_m - _BELOW_FLOOR_M
        vb.setRange(xRange=(-half_w, half_w), yRange=(-_BELOW_FLOOR_M, top), padding=0)
        left, line = -half_w + 6 / px_per_m, _LINE_PX / px_per_m
        self.label.setPos(left, top - 0.3 * line)
        self.note.setPos(left, top - 1.3 * line)

    def _segment(self, pen: object) -> TraceItem:
        item = TraceItem(pen)
        self.addItem(item)
        return item

    def _marker(self, item: QtWidgets.QAbstractGraphicsShapeItem, brush: object) -> QtWidgets.QAbstractGraphicsShapeItem:
        pen = pg.mkPen("k")
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setBrush(pg.mkBrush(brush))
        item.setZValue(10)
        self.addItem(item)
        return item

    def update_from(self, snap: Snapshot) -> None:
        """Pose the leg as in the newest sample, showing only what the source measures.

        Without a foot pitch (a device, a recording of real sensors) the foot is
        drawn flat and dashed on the floor under the shank; without a knee angle
        (any source but the simulation) the thigh is left out. A note says which.
        """
        if not snap.samples["t_s"].size:
            return
        tilt = snap.latest("true_tilt_deg")
        if not math.isfinite(tilt):
            tilt = snap.latest("tilt_est_deg")
        if not math.isfinite(tilt):
            return
        knee_deg, pitch_deg = snap.latest("knee_deg"), snap.latest("foot_pitch_deg")
        known = (math.isfinite(knee_deg), math.isfinite(pitch_deg))
        if known != self._known:
            self._show_known(*known)
        if known[1]:
            pts = leg_points(self.geometry, tilt, knee_deg, pitch_deg, snap.latest("toe_height_mm"))
        else:
            pts = leg_points(self.geometry, tilt, knee_deg)
        hip, knee, ankle = pts[0], pts[1], pts[2]
        self.thigh.set_data(pts[0:2, 0], pts[0:2, 1])
        self.shank.set_data(pts[1:3, 0], pts[1:3, 1])
        self.foot.set_data(pts[2:6, 0], pts[2:6, 1])
        for marker, p in zip(self.joints, (hip, knee, ankle)):
            visible = bool(math.isfinite(p[0]) and math.isfinite(p[1]))
            marker.setVisible(visible)
            if visible:
                marker.setPos(p[0], p[1])
        envelope = snap.latest("envelope")
        envelope = envelope if math.isfinite(envelope) else 0.0
        level = int(round(min(max(envelope, 0.0), 1.0) * _LEVELS))
        if level != self._level:
            self.shank.setPen(self.shank_pens[level])
            self.electrode.setBrush(self.electrode_brushes[level])
            self._level = level
        e = knee + 0.25 * (ankle - knee)  # the peroneal nerve electrode, below the fibular head
        self.electrode.setPos(e[0], e[1])
        current = snap.latest("current_ma") * envelope
        text = f"stim {current:4.1f} mA" if math.isfinite(current) and current > 0 else "stim off"
        if text != self.label.toPlainText():
            self.label.setText(text)

    def _show_known(self, knee: bool, foot: bool) -> None:
        self._known = (knee, foot)
        self.foot.setPen(self.foot_pens[foot])
        missing = ([] if knee else ["thigh: no knee angle"]) + ([] if foot else ["foot: not measured, drawn flat"])
        self.note.setText("\n".join(missing))
