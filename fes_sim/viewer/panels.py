"""The scrolling time-series panels, sharing one time axis, redrawn from a snapshot.

Drawing cost is what limits the frame rate, so each frame does only what moved.
The axes stay still (time before now); the items hold absolute times and each
panel's items sit in one group that is shifted by the newest time, so event
markers, MTC diamonds and toe-drag regions are rebuilt only when an event or a
stride arrives, and the traces only get their new samples. The stimulation trace is
piecewise linear and drawn through its corners only. Y ranges follow the data
with minimum spans and change only when the data leaves them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from fes_sim.samples import GaitEvent
from fes_sim.viewer.buffer import Snapshot
from fes_sim.viewer.plot_data import SteadyRange, corner_indices, finite_bounds
from fes_sim.viewer.qt_items import MarkerSet, TraceItem

#: y level, colour and detected-marker symbol of each event type; ground truth sits just below
EVENT_ROWS: dict[GaitEvent, tuple[float, str, str]] = {
    GaitEvent.HEEL_STRIKE: (3.0, "#1f77b4", "t"),
    GaitEvent.HEEL_OFF: (2.0, "#ff7f0e", "t1"),
    GaitEvent.TOE_OFF: (1.0, "#2ca02c", "t1"),
}
TRUTH_OFFSET = -0.3
STIM_COLOR = "#d62728"
THRESHOLD_COLOR = STIM_COLOR
RELEASE_COLOR = "#e377c2"
TRUE_TILT_COLOR = "#999999"
MTC_COLOR = "#2ca02c"
DRAG_BRUSH = (214, 39, 40, 50)
AXIS_COLOR = "#666666"
AXIS_TEXT_COLOR = "#222222"
#: drag regions span the toe panel's height whatever its range (mm)
DRAG_BAND_MM = 1e4
#: (key, axis label, unit, minimum y span) of each panel, top to bottom; events have a fixed range
PANELS: tuple[tuple[str, str, str, float], ...] = (
    ("tilt", "shank tilt", "deg", 40.0),
    ("gyro", "gyro z", "deg/s", 300.0),
    ("events", "events", "", 0.0),
    ("stim", "stimulation", "mA", 10.0),
    ("ankle", "ankle (+dorsi)", "deg", 20.0),
    ("toe", "toe height", "mm", 60.0),
)
EVENTS_Y_RANGE = (0.4, 3.4)
#: always in the stimulation panel's range: 0 mA near its bottom (no current is below it)
STIM_SHOWN_MA = np.array([0.0, 8.0])
#: height of a pulse tick in the stimulation panel, as a fraction of the panel's range
PULSE_TICK_FRACTION = 0.06


def _pen(color: str, width: float = 0.0, style: object = None) -> object:
    """A cosmetic pen; width 0 is a one-pixel hairline, the cheapest line Qt draws and bounds."""
    return pg.mkPen(color, width=width) if style is None else pg.mkPen(color, width=width, style=style)


def key_html() -> str:
    """The key above the panels: line styles of the tilt panel, event markers, MTC and toe drag."""
    dash, dot = "&#8212; &#8212;", "&middot;&middot;&middot;"
    items = (
        f"<span style='color:{TRUE_TILT_COLOR}'>&#9473;&#9473;</span> true tilt",
        "<span style='color:#000'>&#9472;&#9472;</span> estimated tilt",
        f"<span style='color:{THRESHOLD_COLOR}'>{dash}</span> heel-off threshold",
        f"<span style='color:{RELEASE_COLOR}'>{dot}</span> threshold &minus; hysteresis",
        "&#9650; detected event (filled)",
        "&#9675; ground truth (open)",
        f"<span style='color:{MTC_COLOR}'>&#9670;</span> MTC",
        f"<span style='background-color:rgba{DRAG_BRUSH[:3] + (0.3,)}'>&nbsp;&nbsp;&nbsp;</span> toe drag",
    )
    return "&nbsp;&nbsp; ".join(items)


class TracePanels(pg.GraphicsLayoutWidget):
    """Tilt, gyro, events, stimulation, ankle and toe height over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 8.0, parent: object = None) -> None:
        super().__init__(parent=parent)
        self.window_s = window_s
        self.setBackground("w")
        self.key = self.addLabel(key_html(), row=0, col=0, color="k", size="9pt")
        self.plots: dict[str, pg.PlotItem] = {}
        self.groups: dict[str, pg.ItemGroup] = {}
        self.ranges: dict[str, SteadyRange] = {}
        for i, (key, label, unit, min_span) in enumerate(PANELS):
            p = self.addPlot(row=i + 1, col=0)
            p.setLabel("left", f"{label} ({unit})" if unit else label)
            p.getAxis("left").enableAutoSIPrefix(False)  # a relabel per frame costs more than the plot
            for side in ("left", "bottom"):  # dark text: pyqtgraph's default grey is faint on white
                p.getAxis(side).setPen(AXIS_COLOR)
                p.getAxis(side).setTextPen(AXIS_TEXT_COLOR)
            p.setMouseEnabled(x=False, y=False)
            p.setMenuEnabled(False)
            p.hideButtons()
            p.getViewBox().disableAutoRange()
            if i:
                p.setXLink(self.plots["tilt"])
            if i < len(PANELS) - 1:
                p.hideAxis("bottom")
            if min_span:
                self.ranges[key] = SteadyRange(min_span)
                p.setYRange(-0.5 * min_span, 0.5 * min_span, padding=0)  # until data comes (none for some sources)
            self.groups[key] = pg.ItemGroup()
            p.addItem(self.groups[key])
            self.plots[key] = p
        self.plots["events"].setYRange(*EVENTS_Y_RANGE, padding=0)
        self.plots["tilt"].setXRange(-window_s, 0.0, padding=0)  # the axes never move
        self.plots["toe"].setLabel("bottom", "time before now (s)")
        self.plots["toe"].getAxis("bottom").enableAutoSIPrefix(False)
        self._marks_version = -1
        self._tick_ma = 1.0
        self._build_items()

    def _curve(self, panel: str, pen: object, **opts: object) -> TraceItem:
        """A trace in ``panel``'s scrolling group (its data in absolute time)."""
        item = TraceItem(pen, **opts)
        item.setParentItem(self.groups[panel])
        return item

    def _zero_line(self, panel: str, pen: object) -> None:
        """A fixed line at y = 0 across the panel."""
        line = QtWidgets.QGraphicsLineItem(-self.window_s, 0.0, 0.0, 0.0)
        line.setPen(pen)
        self.plots[panel].getViewBox().addItem(line, ignoreBounds=True)

    def _build_items(self) -> None:
        P = self.plots
        dash, dot = QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine
        self.true_tilt = self._curve("tilt", _pen(TRUE_TILT_COLOR))
        self.est_tilt = self._curve("tilt", _pen("k"))
        self.threshold = self._curve("tilt", _pen(THRESHOLD_COLOR, style=dash))
        self.release = self._curve("tilt", _pen(RELEASE_COLOR, style=dot))
        self.gyro = self._curve("gyro", _pen("#17becf"))
        self._zero_line("gyro", _pen("#bbbbbb"))
        ax = P["events"].getAxis("left")
        ax.setTicks([[(lvl, ev.label.replace("_", " ")) for ev, (lvl, _, _) in EVENT_ROWS.items()]])
        # filled = detected, open circle = ground truth
        self.detected = MarkerSet(self.groups["events"], 11)
        self.truth = MarkerSet(self.groups["events"], 9)
        self._detected_brush = {ev: pg.mkBrush(color) for ev, (_, color, _) in EVENT_ROWS.items()}
        self._truth_pen = {ev: _pen(color, 1.5) for ev, (_, color, _) in EVENT_ROWS.items()}
        self.stim = self._curve("stim", _pen(STIM_COLOR), fill_level=0.0, brush=(214, 39, 40, 60))
        self.pulses = self._curve("stim", _pen("#7f0000"), connect="pairs")  # one short tick per pulse
        self.ankle = self._curve("ankle", _pen("#9467bd"))
        self._zero_line("ankle", _pen("#bbbbbb"))
        self.drags = QtWidgets.QGraphicsPathItem(self.groups["toe"])
        self.drags.setBrush(pg.mkBrush(DRAG_BRUSH))
        self.drags.setPen(pg.mkPen(None))
        self.drags.setZValue(-10)
        self.drag_spans: list[tuple[float, float]] = []
        self.toe = self._curve("toe", _pen("#8c564b"))
        self._zero_line("toe", _pen("k", 1.5))
        self.mtc = MarkerSet(self.groups["toe"], 8)

    def update_from(self, snap: Snapshot, hysteresis_deg: float = float("nan")) -> None:
        """Redraw from ``snap``: shift every panel's items so its newest sample is at 0, set the new data."""
        s = snap.samples
        t = s["t_s"]
        if not t.size:
            return
        for group in self.groups.values():
            group.setPos(-t[-1], 0.0)
        release = s["threshold_deg"] - hysteresis_deg
        self.true_tilt.set_data(t, s["true_tilt_deg"])
        self.est_tilt.set_data(t, s["tilt_est_deg"])
        self.threshold.set_data(t, s["threshold_deg"])
        self.release.set_data(t, release)
        self._fit("tilt", s["true_tilt_deg"], s["tilt_est_deg"], s["threshold_deg"], release)
        self.gyro.set_data(t, s["gyr_z_dps"])
        self._fit("gyro", s["gyr_z_dps"])
        self._draw_stimulation(t, np.nan_to_num(s["envelope"] * s["current_ma"]), s["pulses"] > 0)
        self.ankle.set_data(t, s["ankle_deg"])
        self._fit("ankle", s["ankle_deg"])
        self.toe.set_data(t, s["toe_height_mm"])
        self._fit("toe", s["toe_height_mm"], np.zeros(1))  # keep the floor line in view
        if snap.marks_version != self._marks_version:
            self._marks_version = snap.marks_version
            self._draw_events(snap)
            self._draw_strides(snap)

    def _fit(self, panel: str, *arrays: np.ndarray) -> None:
        new = self.ranges[panel].fit(*finite_bounds(*arrays))
        if new is not None:
            self.plots[panel].setYRange(*new, padding=0)
            if panel == "stim":
                self._tick_ma = PULSE_TICK_FRACTION * (new[1] - new[0])

    def _draw_stimulation(self, t: np.ndarray, stim_ma: np.ndarray, pulsed: np.ndarray) -> None:
        self._fit("stim", stim_ma, stim_ma[pulsed] + self._tick_ma, STIM_SHOWN_MA)
        keep = corner_indices(stim_ma, 1e-6)
        self.stim.set_data(t[keep], stim_ma[keep])
        tick_y = np.repeat(stim_ma[pulsed], 2)
        tick_y[1::2] += self._tick_ma
        self.pulses.set_data(np.repeat(t[pulsed], 2), tick_y)

    def _draw_events(self, snap: Snapshot) -> None:
        detected = [(ts, ev) for ts, ev in snap.detected if ev in EVENT_ROWS]
        self.detected.set_markers(
            [ts for ts, _ in detected],
            [EVENT_ROWS[ev][0] for _, ev in detected],
            [EVENT_ROWS[ev][2] for _, ev in detected],
            [None] * len(detected),
            [self._detected_brush[ev] for _, ev in detected],
        )
        truth = [(ts, ev) for ts, ev in snap.truth if ev in EVENT_ROWS]
        self.truth.set_markers(
            [ts for ts, _ in truth],
            [EVENT_ROWS[ev][0] + TRUTH_OFFSET for _, ev in truth],
            ["o"] * len(truth),
            [self._truth_pen[ev] for _, ev in truth],
            [None] * len(truth),
        )

    def _draw_strides(self, snap: Snapshot) -> None:
        marks = [m for m in snap.strides if np.isfinite(m.mtc_mm) and np.isfinite(m.t_mtc_s)]
        n = len(marks)
        self.mtc.set_markers([m.t_mtc_s for m in marks], [m.mtc_mm for m in marks], ["d"] * n, [None] * n, [MTC_COLOR] * n)
        self.drag_spans = [(m.t_start_s, m.t_end_s) for m in snap.strides if m.toe_drag]
        path = QtGui.QPainterPath()
        for t0, t1 in self.drag_spans:
            path.addRect(QtCore.QRectF(t0, -DRAG_BAND_MM, t1 - t0, 2.0 * DRAG_BAND_MM))
        self.drags.setPath(path)
