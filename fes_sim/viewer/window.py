"""The main window of ``fes view``: panels, leg animation, settings, controls and status line.

A :class:`~PySide6.QtCore.QTimer` pulls a snapshot from the source's ring
buffer and redraws; nothing here waits on a source, a file or a port.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from pyqtgraph.Qt import QtCore, QtWidgets

from fes_sim.config.schema import Config, to_toml
from fes_sim.errors import OutputError
from fes_sim.viewer.buffer import Snapshot
from fes_sim.viewer.controls import ControlPanel
from fes_sim.viewer.leg_view import LegView
from fes_sim.viewer.panels import TracePanels
from fes_sim.viewer.source import MAX_STRIDE_STEP_S, Source
from fes_sim.viewer.status import cadence_steps_per_min, status_text
from fes_sim.viewer.tuning import Tuning

log = logging.getLogger(__name__)


class ViewerWindow(QtWidgets.QMainWindow):
    """Live view of one source.

    Parameters
    ----------
    source
        A started or not-yet-started :class:`~fes_sim.viewer.source.Source`;
        the window starts it when shown and stops it when closed.
    tuning
        The settings the controls change; ``None`` hides the settings panel
        (a device link cannot be retuned from here).
    window_s
        Seconds of data on screen.
    fps
        Redraw rate (frames per second).
    """

    def __init__(
        self,
        source: Source,
        tuning: Tuning | None = None,
        window_s: float = 8.0,
        fps: float = 30.0,
        title: str = "fes view",
    ) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self.source = source
        self.tuning = tuning
        self.frames_drawn = 0
        self._version = -1
        self._cadence = (-1, math.nan)  # (marks version, steps/min)
        self.panels = TracePanels(window_s)
        self.leg = LegView()
        self.status_label = QtWidgets.QLabel("starting…")
        self.status_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addPermanentWidget(self.status_label, 1)
        self.controls: ControlPanel | None = None

        side = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(side)
        col.addWidget(self.leg, 2)
        if tuning is not None:
            self.controls = ControlPanel(tuning)
            self.controls.changed.connect(self._retune)
            self.controls.message.connect(self._show_message)
            scroll = QtWidgets.QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(self.controls)
            col.addWidget(scroll, 3)
        col.addLayout(self._buttons())
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.addWidget(self.panels)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        self.resize(1280, 860)

        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(max(1, int(round(1000.0 / fps))))
        self.timer.timeout.connect(self.refresh)

    def _buttons(self) -> QtWidgets.QGridLayout:
        grid = QtWidgets.QGridLayout()
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        self.step_button = QtWidgets.QPushButton("Step")
        self.step_button.setToolTip("while paused: advance one sample")
        self.step_button.setEnabled(False)
        self.step_button.clicked.connect(lambda: self.source.step_once())
        self.stride_button = QtWidgets.QPushButton("Step stride")
        self.stride_button.setToolTip("while paused: advance to the end of the next stride (at most %g s)" % MAX_STRIDE_STEP_S)
        self.stride_button.setEnabled(False)
        self.stride_button.clicked.connect(lambda: self.source.step_stride())
        save = QtWidgets.QPushButton("Save settings…")
        save.setToolTip("write the current controller settings as a TOML config file")
        save.setEnabled(self.tuning is not None)
        save.clicked.connect(self._ask_save_settings)
        shot = QtWidgets.QPushButton("Screenshot…")
        shot.clicked.connect(self._ask_screenshot)
        for i, b in enumerate((self.pause_button, self.step_button, self.stride_button, save, shot)):
            grid.addWidget(b, i // 3, i % 3)
        return grid

    # ----------------------------------------------------------------- running
    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt naming
        if not self.source.alive and not self.source.finished:
            self.source.start()
        self.timer.start()
        super().showEvent(event)  # type: ignore[arg-type]

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt naming
        self.timer.stop()
        self.source.stop()
        super().closeEvent(event)  # type: ignore[arg-type]

    def refresh(self) -> bool:
        """Redraw if the buffer changed; returns whether a frame was drawn."""
        snap = self.source.buffer.snapshot(self.panels.window_s)
        if snap.version == self._version:
            return False
        self._version = snap.version
        self.panels.update_from(snap, self._hysteresis_deg())
        self.leg.update_from(snap)
        text = self._status(snap)
        if text != self.status_label.text():
            self.status_label.setText(text)
        self.frames_drawn += 1
        return True

    def _status(self, snap: Snapshot) -> str:
        if snap.marks_version != self._cadence[0]:  # the cadence only changes when a stride ends
            self._cadence = (snap.marks_version, cadence_steps_per_min(snap.strides))
        return status_text(snap, self._cadence[1], self.source.paused)

    def _hysteresis_deg(self) -> float:
        if self.tuning is None:
            return math.nan
        c = self.tuning.controller
        return c.tilt.hysteresis_deg if c.detector == "tilt" else math.nan  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- controls
    def set_paused(self, paused: bool) -> None:
        """Pause or resume the source."""
        if paused:
            self.source.pause()
        else:
            self.source.resume()
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.blockSignals(False)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.step_button.setEnabled(paused and self.source.can_step)
        self.stride_button.setEnabled(paused and self.source.can_step)
        self._version = -1  # redraw the status line

    def _retune(self, kind: str, cfg: Config) -> None:
        self.source.retune(kind, cfg)
        self._show_message(f"{kind} retuned")

    def _show_message(self, text: str) -> None:
        log.info("%s", text)
        self.statusBar().showMessage(text, 5000)

    def save_settings(self, path: str | Path) -> Path:
        """Write the current controller settings as a controller TOML file."""
        if self.tuning is None:
            raise OutputError("no controller settings to save for this source")
        out = Path(path)
        text = to_toml(self.tuning.controller, header="controller settings saved by fes view")
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{out}: cannot write ({exc.strerror})") from None
        return out

    def save_screenshot(self, path: str | Path) -> Path:
        """Write the window as a PNG image."""
        out = Path(path)
        if not self.grab().save(str(out), "PNG"):
            raise OutputError(f"{out}: cannot write PNG")
        return out

    def _ask_save_settings(self) -> None:
        name, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save controller settings", "controller.toml", "TOML (*.toml)")
        if name:
            self._guarded(lambda: self.save_settings(name), f"saved {name}")

    def _ask_screenshot(self) -> None:
        name, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export screenshot", "fes-view.png", "PNG (*.png)")
        if name:
            self._guarded(lambda: self.save_screenshot(name), f"wrote {name}")

    def _guarded(self, action: object, done: str) -> None:
        try:
            action()  # type: ignore[operator]
        except OutputError as exc:
            self._show_message(str(exc))
        else:
            self._show_message(done)
