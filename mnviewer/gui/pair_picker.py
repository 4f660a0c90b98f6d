"""Compare any pair…: a dialog choosing both sides of compare mode, each model × precision ×
device (catalog, twins and imported models alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from mnviewer.engine import available_devices
from mnviewer.gui.models import EngineRequest
from mnviewer.models.catalog import PRECISIONS, load_catalog

if TYPE_CHECKING:
    from mnviewer.gui.main_window import MainWindow

SHORTCUT = "Shift+C"


class SideChoice:
    """One row of the dialog: model, precision and device combos."""

    def __init__(self, precisions: dict[str, tuple[str, ...]], devices: list[str],
                 request: EngineRequest) -> None:
        self.precisions = precisions  # model id -> the precisions it can be built in
        self.model, self.precision, self.device = QComboBox(), QComboBox(), QComboBox()
        self.model.addItems(list(precisions))
        self.precision.addItems(list(PRECISIONS))
        self.device.addItems(devices)
        self.set(request)
        self.model.currentTextChanged.connect(self._offer_precisions)
        self._offer_precisions(self.model.currentText())

    def _offer_precisions(self, model: str) -> None:
        """An imported float model without calibration has no int8, for instance."""
        current = self.precision.currentText()
        offered = self.precisions.get(model, PRECISIONS)
        self.precision.blockSignals(True)
        self.precision.clear()
        self.precision.addItems(list(offered))
        self.precision.setCurrentText(current if current in offered else offered[0])
        self.precision.blockSignals(False)

    def set(self, request: EngineRequest) -> None:
        for combo, value in ((self.model, request.model), (self.precision, request.precision),
                             (self.device, request.device)):
            if combo.findText(value) < 0:
                combo.addItem(value)
            combo.setCurrentText(value)

    def request(self) -> EngineRequest:
        return EngineRequest(self.model.currentText(), self.precision.currentText(),
                             self.device.currentText())


class PairPicker(QDialog):
    """Side A runs in the main pane, side B beside it, on the same frames."""

    def __init__(self, a: EngineRequest, b: EngineRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare any pair")
        precisions = {spec.id: spec.precisions for spec in load_catalog().models}
        devices = available_devices()
        self.sides = (SideChoice(precisions, devices, a), SideChoice(precisions, devices, b))
        grid = QGridLayout()
        for col, title in enumerate(("", "Model", "Precision", "Device")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, col)
        for row, (name, side) in enumerate(zip(("A (left)", "B (right)"), self.sides,
                                               strict=True), start=1):
            grid.addWidget(QLabel(name), row, 0)
            for col, combo in enumerate((side.model, side.precision, side.device), start=1):
                grid.addWidget(combo, row, col)
        note = QLabel("Both see the same frames and take turns on the device; the header shows "
                      "latencies, MACs, the speed-up and how often both name the same class.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(grid)
        column.addWidget(note)
        column.addWidget(buttons)

    def chosen(self) -> tuple[EngineRequest, EngineRequest]:
        return self.sides[0].request(), self.sides[1].request()


def install_action(window: MainWindow) -> QAction:
    """Add View ▸ Compare any pair… (Shift+C) next to the twin's key C."""
    action = QAction("Compare any &pair…", window)
    action.setShortcut(QKeySequence(SHORTCUT))
    action.setStatusTip("Choose both sides of compare mode: model, precision, device (Shift+C)")
    action.triggered.connect(window.ask_compare_pair)
    window.addAction(action)
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if isinstance(menu, QMenu) and menu_action.text().replace("&", "") == "View":
            menu.addAction(action)
    return action
