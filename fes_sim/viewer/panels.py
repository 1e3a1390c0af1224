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
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")
            p.hideButtons()
            if i:
                p.setXLink(self.plots["tilt"])
            if i < len(specs) - 1:
                p.hideAxis("bottom")
            self.plots[key] = p
        self.plots["toe"].setLabel("bottom", "time (s)")
        self.plots["toe"].getAxis("bottom").enableAutoSIPrefix(False)
        self.plots["stim"].getViewBox().enableAutoRange(axis="y", enable=False)
        self._build_items()

    def _build_items(self) -> None:
        P = self.plots
        P["tilt"].addLegend(offset=(-5, 5), labelTextSize="7pt")
        self.true_tilt = P["tilt"].plot(pen=_pen("#999999", 2), name="true")
        self.est_tilt = P["tilt"].plot(pen=_pen("k"), name="estimated")
        self.threshold = P["tilt"].plot(pen=_pen(STIM_COLOR, 1, pg.QtCore.Qt.PenStyle.DashLine), name="heel-off threshold")
        self.release = P["tilt"].plot(pen=_pen("#e377c2", 1, pg.QtCore.Qt.PenStyle.DotLine), name="threshold - hysteresis")
        self.gyro = P["gyro"].plot(pen=_pen("#17becf"))
        P["gyro"].addLine(y=0, pen=_pen("#bbbbbb"))
        ax = P["events"].getAxis("left")
        ax.setTicks([[(lvl, ev.label.replace("_", " ")) for ev, (lvl, _, _) in EVENT_ROWS.items()]])
        self.detected = pg.ScatterPlotItem(size=11, pen=None)
        self.truth = pg.ScatterPlotItem(size=9, brush=None, symbol="o")
        P["events"].addItem(self.detected)
        P["events"].addItem(self.truth)
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
        """Redraw every panel from ``snap``."""
        s = snap.samples
        t = s["t_s"]
        if not t.size:
            return
        self.true_tilt.setData(t, s["true_tilt_deg"], connect="finite")
        self.est_tilt.setData(t, s["tilt_est_deg"], connect="finite")
        self.threshold.setData(t, s["threshold_deg"], connect="finite")
        self.release.setData(t, s["threshold_deg"] - hysteresis_deg, connect="finite")
        self.gyro.setData(t, s["gyr_z_dps"], connect="finite")
        self._draw_events(snap)
        stim_ma = np.nan_to_num(s["envelope"] * s["current_ma"])
        self.stim.setData(t, stim_ma)
        pulsed = s["pulses"] > 0
        tick_x = np.repeat(t[pulsed], 2)
        tick_y = np.repeat(stim_ma[pulsed], 2)
        tick_y[1::2] += self._tick_ma
        self.pulses.setData(tick_x, tick_y, connect="pairs")
        self.ankle.setData(t, s["ankle_deg"], connect="finite")
        self.toe.setData(t, s["toe_height_mm"], connect="finite")
        self._draw_strides(snap)
        t1 = t[-1]
        self.plots["tilt"].setXRange(t1 - self.window_s, t1, padding=0)

    def _draw_events(self, snap: Snapshot) -> None:
        for item, events, offset in ((self.detected, snap.detected, 0.0), (self.truth, snap.truth, TRUTH_OFFSET)):
            rows = [(ts, EVENT_ROWS[ev]) for ts, ev in events if ev in EVENT_ROWS]
            if not rows:
                item.setData([], [])
                continue
            x = [ts for ts, _ in rows]
            y = [lvl + offset for _, (lvl, _, _) in rows]
            if offset:
                item.setData(x, y, pen=[_pen(c, 1.5) for _, (_, c, _) in rows], brush=None)
            else:
                item.setData(x, y, brush=[pg.mkBrush(c) for _, (_, c, _) in rows], symbol=[sym for _, (_, _, sym) in rows])

    def _draw_strides(self, snap: Snapshot) -> None:
        marks = [m for m in snap.strides if np.isfinite(m.mtc_mm)]
        self.mtc.setData([m.t_mtc_s for m in marks], [m.mtc_mm for m in marks])
        drags = [m for m in snap.strides if m.toe_drag][-MAX_DRAG_REGIONS:]
        for region, m in zip(self.drag_regions, drags):
            region.setRegion((m.t_start_s, m.t_end_s))
            region.show()
        for region in self.drag_regions[len(drags) :]:
            region.hide()
