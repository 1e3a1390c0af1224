"""Spin boxes with units for the detector thresholds, stimulation timing and output, and the walker."""

from __future__ import annotations

from pyqtgraph.Qt import QtCore, QtWidgets

from fes_sim.config.schema import Config
from fes_sim.errors import ConfigError
from fes_sim.viewer.tuning import Knob, Tuning

#: units written the way people read them
_UNIT_TEXT = {"us": "µs", "deg": "°", "deg/s": "°/s", "m/s": "m/s"}


class ControlPanel(QtWidgets.QGroupBox):
    """One spin box per knob of a :class:`Tuning`, each limited to its safe range.

    ``changed(kind, config)`` is emitted with the new config after a value is
    accepted; ``message(text)`` reports what was refused and why.
    """

    changed = QtCore.Signal(str, object)
    message = QtCore.Signal(str)

    def __init__(self, tuning: Tuning, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("settings", parent)
        self.tuning = tuning
        self.boxes: dict[str, QtWidgets.QDoubleSpinBox] = {}
        self._knobs: dict[str, Knob] = {}
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for knob in tuning.knobs():
            box = QtWidgets.QDoubleSpinBox()
            box.setDecimals(knob.decimals)
            box.setSingleStep(self._step(knob))
            box.setKeyboardTracking(False)
            unit = tuning.unit(knob)
            if unit:
                box.setSuffix(" " + _UNIT_TEXT.get(unit, unit))
            box.setToolTip(f"{knob.kind}: {knob.path}\n{tuning.doc(knob)}")
            box.valueChanged.connect(lambda value, k=knob: self._on_value(k, value))
            self.boxes[knob.path] = box
            self._knobs[knob.path] = knob
            form.addRow(knob.label, box)
        self.refresh()

    def _step(self, knob: Knob) -> float:
        lo, hi = self.tuning.bounds(knob)
        return max(10.0**-knob.decimals, round((hi - lo) / 200.0, knob.decimals))

    def refresh(self) -> None:
        """Set every box's range and value from the tuning (ranges move as other settings change)."""
        for path, box in self.boxes.items():
            knob = self._knobs[path]
            lo, hi = self.tuning.bounds(knob)
            box.blockSignals(True)
            box.setRange(lo, hi)
            box.setValue(self.tuning.value(knob))
            box.blockSignals(False)

    def set_value(self, path: str, value: float) -> None:
        """Set one knob as a user would (clamped to its range, then applied)."""
        self.boxes[path].setValue(value)

    def _on_value(self, knob: Knob, value: float) -> None:
        try:
            cfg: Config = self.tuning.set(knob, value)
        except ConfigError as exc:
            self.message.emit(f"refused {knob.label} = {value:g}: {exc}")
        else:
            self.changed.emit(knob.kind, cfg)
        self.refresh()
