"""The scrolling time-series panels, sharing one time axis, redrawn from a snapshot."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from fes_sim.samples import GaitEvent
from fes_sim.viewer.buffer import Snapshot

#: y level of each event type in the events panel; ground truth sits just below
EVENT_ROWS: dict[GaitEvent, tuple[float, str, str]] = {
    GaitEvent.HEEL_STRIKE: (3.0, "#1f77b4", "t"),
    GaitEvent.HEEL_OFF: (2.0, "#ff7f0e", "t1"),
    GaitEvent.TOE_OFF: (1.0, "#2ca02c", "t1"),
}
TRUTH_OFFSET = -0.3
STIM_COLOR = "#d62728"
MAX_DRAG_REGIONS = 32


def _pen(color: str, width: float = 1.0, style: object = None) -> object:
    return pg.mkPen(color, width=width) if style is None else pg.mkPen(color, width=width, style=style)


class TracePanels(pg.GraphicsLayoutWidget):
    """Tilt, gyro, events, stimulation, ankle and toe height over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 8.0, parent: object = None) -> None:
        super().__init__(parent=parent)
        self.window_s = window_s
        self._tick_ma = 4.0  # height of a pulse tick in the stimulation panel (mA)
        self.setBackground("w")
        self.plots: dict[str, pg.PlotItem] = {}
        specs = (
            ("tilt", "shank tilt", "deg", (-40.0, 70.0)),
            ("gyro", "gyro z", "deg/s", (-500.0, 400.0)),
            ("events", "events", "", (0.4, 3.4)),
            ("stim", "stimulation", "mA", (-2.0, 60.0)),
            ("ankle", "ankle (+dorsi)", "deg", (-35.0, 25.0)),
            ("toe", "toe height", "mm", (-40.0, 160.0)),
        )
        for i, (key, label, unit, yr) in enumerate(specs):
            p = self.addPlot(row=i, col=0)
            p.setLabel("left", f"{label} ({unit})" if unit else label)
            p.getAxis("left").enableAutoSIPrefix(False)  # a relabel per frame costs more than the plot
            p.setYRange(*yr, padding=0)
            p.setMouseEnabled(x=False, y=True)
            p.setXRange(-window_s, 0.0, padding=0)  # time relative to the newest sample: the axes never move
            p.hideButtons()
            if i:
                p.setXLink(self.plots["tilt"])
            if i < len(specs) - 1:
                p.hideAxis("bottom")
            self.plots[key] = p
        self.plots["toe"].setLabel("bottom", "time before now (s)")
        self.plots["toe"].getAxis("bottom").enableAutoSIPrefix(False)
        self.plots["stim"].getViewBox().enableAutoRange(axis="y", enable=False)
        self._build_items()

    def _build_items(self) -> None:
        P = self.plots
        P["tilt"].addLegend(offset=(-5, 2), labelTextSize="7pt", colCount=2)
        self.true_tilt = P["tilt"].plot(pen=_pen("#999999", 2), name="true")
        self.est_tilt = P["tilt"].plot(pen=_pen("k"), name="estimated")
        self.threshold = P["tilt"].plot(pen=_pen(STIM_COLOR, 1, pg.QtCore.Qt.PenStyle.DashLine), name="heel-off threshold")
        self.release = P["tilt"].plot(pen=_pen("#e377c2", 1, pg.QtCore.Qt.PenStyle.DotLine), name="threshold - hysteresis")
        self.gyro = P["gyro"].plot(pen=_pen("#17becf"))
        P["gyro"].addLine(y=0, pen=_pen("#bbbbbb"))
        ax = P["events"].getAxis("left")
        ax.setTicks([[(lvl, ev.label.replace("_", " ")) for ev, (lvl, _, _) in EVENT_ROWS.items()]])
        # one scatter per event type and origin: filled = detected, open circle = ground truth
        self.detected: dict[GaitEvent, pg.ScatterPlotItem] = {}
        self.truth: dict[GaitEvent, pg.ScatterPlotItem] = {}
        for ev, (level, color, symbol) in EVENT_ROWS.items():
            self.detected[ev] = pg.ScatterPlotItem(size=11, pen=None, brush=pg.mkBrush(color), symbol=symbol)
            self.detected[ev].level = level
            self.truth[ev] = pg.ScatterPlotItem(size=9, pen=_pen(color, 1.5), brush=None, symbol="o")
            self.truth[ev].level = level + TRUTH_OFFSET
            P["events"].addItem(self.detected[ev])
            P["events"].addItem(self.truth[ev])
        self.stim = P["stim"].plot(pen=_pen(STIM_COLOR), fillLevel=0, brush=(214, 39, 40, 60), stepMode=None)
        self.pulses = P["stim"].plot(pen=_pen("#7f0000"), connect="pairs")  # one short tick per pulse
        self.ankle = P["ankle"].plot(pen=_pen("#9467bd"))
        P["ankle"].addLine(y=0, pen=_pen("#bbbbbb"))
        self.toe = P["toe"].plot(pen=_pen("#8c564b", 1.5))
        P["toe"].addLine(y=0, pen=_pen("k", 1.5))
        self.mtc = pg.ScatterPlotItem(size=8, symbol="d", brush="#2ca02c", pen=None)
        P["toe"].addItem(self.mtc)
        self.drag_regions: list[pg.LinearRegionItem] = []
        for _ in range(MAX_DRAG_REGIONS):
            r = pg.LinearRegionItem(movable=False, brush=(214, 39, 40, 50), pen=pg.mkPen(None))
            r.setZValue(-10)
            r.hide()
            P["toe"].addItem(r)
            self.drag_regions.append(r)

    def set_stim_range(self, max_current_ma: float) -> None:
        """Fix the stimulation panel's y range to the stimulator's current limit."""
        self.plots["stim"].setYRange(-0.02 * max_current_ma, max_current_ma, padding=0)
        self._tick_ma = 0.06 * max_current_ma

    def update_from(self, snap: Snapshot, hysteresis_deg: float = float("nan")) -> None:
        """Redraw every panel from ``snap``; x is time relative to the newest sample."""
        s = snap.samples
        t = s["t_s"]
        if not t.size:
            return
        now = t[-1]
        x = t - now
        _curve(self.true_tilt, x, s["true_tilt_deg"])
        _curve(self.est_tilt, x, s["tilt_est_deg"])
        _curve(self.threshold, x, s["threshold_deg"])
        _curve(self.release, x, s["threshold_deg"] - hysteresis_deg)
        _curve(self.gyro, x, s["gyr_z_dps"])
        stim_ma = np.nan_to_num(s["envelope"] * s["current_ma"])
        _curve(self.stim, x, stim_ma)
        pulsed = s["pulses"] > 0
        tick_y = np.repeat(stim_ma[pulsed], 2)
        tick_y[1::2] += self._tick_ma
        self.pulses.setData(np.repeat(x[pulsed], 2), tick_y, connect="pairs", skipFiniteCheck=True)
        _curve(self.ankle, x, s["ankle_deg"])
        _curve(self.toe, x, s["toe_height_mm"])
        self._draw_events(snap, now)
        self._draw_strides(snap, now)

    def _draw_events(self, snap: Snapshot, now: float) -> None:
        for items, events in ((self.detected, snap.detected), (self.truth, snap.truth)):
            for ev, item in items.items():
                times = [ts - now for ts, e in events if e == ev]
                item.setData(times, [item.level] * len(times))

    def _draw_strides(self, snap: Snapshot, now: float) -> None:
        marks = [m for m in snap.strides if np.isfinite(m.mtc_mm)]
        self.mtc.setData([m.t_mtc_s - now for m in marks], [m.mtc_mm for m in marks])
        drags = [m for m in snap.strides if m.toe_drag][-MAX_DRAG_REGIONS:]
        for region, m in zip(self.drag_regions, drags):
            region.setRegion((m.t_start_s - now, m.t_end_s - now))
            region.show()
        for region in self.drag_regions[len(drags) :]:
            region.hide()


def _curve(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """Set a curve, skipping pyqtgraph's per-point finite check when there is no gap to break the line."""
    if np.isfinite(y).all():
        item.setData(x, y, connect="all", skipFiniteCheck=True)
    else:
        item.setData(x, y, connect="finite")
