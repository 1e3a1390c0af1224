"""Plot items that Qt draws on its own, with no call back into Python when a frame is painted.

pyqtgraph's curve and scatter items run Python on every paint (bounds, pixel
padding, visible-point masks); with a dozen traces and marker sets redrawn 30
times a second, that Python was most of the viewer's drawing cost. These items
are plain ``QGraphicsPathItem`` objects: Python builds a ``QPainterPath`` when
the data changes (once per frame for a trace, once per event for markers), and
Qt computes the bounds and paints.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets


class TraceItem(QtWidgets.QGraphicsPathItem):
    """A polyline (or, with ``fill_level``, a filled area down to that level) in data coordinates.

    Parameters
    ----------
    pen
        Outline pen; cosmetic (width in pixels), as :func:`pyqtgraph.mkPen` makes it.
        Width 0 (a one-pixel hairline) for long traces: for a wider pen Qt strokes
        the whole path to find the item's bounds.
    fill_level
        If given, the area between the line and this y level is filled with ``brush``.
    brush
        Fill of that area.
    connect
        ``"finite"`` (gaps at nan), ``"all"`` or ``"pairs"`` (separate segments).
    """

    def __init__(self, pen: object, fill_level: float | None = None, brush: object = None, connect: str = "finite") -> None:
        super().__init__()
        self.setPen(pg.mkPen(pen))
        if fill_level is not None:
            self.setBrush(pg.mkBrush(brush))
        self.fill_level = fill_level
        self.connect = connect
        self.x = np.zeros(0)
        self.y = np.zeros(0)

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        """Replace the points (the arrays are kept, not copied)."""
        self.x, self.y = x, y
        connect = self.connect
        if connect == "finite" and np.isfinite(y).all():
            connect = "all"  # no gap to break the line: skip the per-point check
        if self.fill_level is not None and x.size:
            x = np.concatenate(([x[0]], x, [x[-1]]))
            y = np.concatenate(([self.fill_level], y, [self.fill_level]))
        self.setPath(pg.arrayToQPath(x, y, connect=connect, finiteCheck=connect == "finite"))

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The x and y last set (without the fill's closing points)."""
        return self.x, self.y


class MarkerSet:
    """Symbols of a fixed size in pixels at data positions, like a scatter plot.

    Each marker is a child item of ``parent`` that ignores the view's scaling,
    so it keeps its pixel size and shape; markers are reused from a pool.

    Parameters
    ----------
    parent
        The item (in data coordinates) the markers belong to.
    size_px
        Symbol size in pixels.
    """

    def __init__(self, parent: QtWidgets.QGraphicsItem, size_px: float) -> None:
        self.parent = parent
        self.size_px = size_px
        self._items: list[QtWidgets.QGraphicsPathItem] = []
        self._paths: dict[str, QtGui.QPainterPath] = {}
        self.x: list[float] = []
        self.y: list[float] = []

    def _symbol(self, name: str) -> QtGui.QPainterPath:
        if name not in self._paths:  # pyqtgraph's unit symbols, in device orientation (y down)
            self._paths[name] = QtGui.QTransform.fromScale(self.size_px, self.size_px).map(Symbols[name])
        return self._paths[name]

    def set_markers(
        self,
        x: Sequence[float],
        y: Sequence[float],
        symbols: Sequence[str],
        pens: Sequence[object],
        brushes: Sequence[object],
    ) -> None:
        """Show one marker per position, with its symbol name (``"o"``, ``"t"``, ``"d"``...), pen and brush."""
        self.x, self.y = list(x), list(y)
        while len(self._items) < len(self.x):
            item = QtWidgets.QGraphicsPathItem(self.parent)
            item.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            self._items.append(item)
        for item, xi, yi, symbol, pen, brush in zip(self._items, self.x, self.y, symbols, pens, brushes):
            item.setPath(self._symbol(symbol))
            item.setPen(pg.mkPen(pen))
            item.setBrush(pg.mkBrush(brush))
            item.setPos(QtCore.QPointF(xi, yi))
            item.show()
        for item in self._items[len(self.x) :]:
            item.hide()

    def points(self) -> tuple[list[float], list[float]]:
        """Positions of the markers shown."""
        return self.x, self.y
