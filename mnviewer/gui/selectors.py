"""The selectors in the tool bar: source, model, precision, device, top-k.

They only say what the user picked (signals); the window decides what happens. Setting a
selector from code (set_*) never emits, so a revert after a failure does not loop.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QSpinBox,
    QToolBar,
    QWidget,
)

from mnviewer.engine import MAX_TOP_K, Engine, available_devices, device_name
from mnviewer.gui.models import ModelEntry, model_groups
from mnviewer.gui.opening import DEMO, CameraInfo, describe
from mnviewer.models.catalog import PRECISIONS
from mnviewer.sources import IMAGE_EXTENSIONS

SPEC_ROLE = Qt.ItemDataRole.UserRole
ACTION_ROLE = Qt.ItemDataRole.UserRole + 1
VIDEO_FILTER = ("Videos and images (*.mp4 *.avi *.mkv *.mov *.webm *.m4v "
                + " ".join(f"*{e}" for e in sorted(IMAGE_EXTENSIONS)) + ");;All files (*)")
UNTRAINED = QColor(130, 130, 130)
FULLCONV = QColor(190, 100, 30)


def _model_tip(entry: ModelEntry) -> str:
    if not entry.trained:
        return f"{entry.label}\nRandom weights: a speed reference, its labels mean nothing."
    if entry.fullconv:
        return (f"{entry.label}\nFull-convolution twin: each depthwise convolution made dense "
                "(block-diagonal weights), same predictions at full-convolution cost.")
    return entry.label


class ControlBar(QToolBar):
    """One row of selectors; emits the user's choices."""

    source_chosen = Signal(str)
    model_chosen = Signal(str)
    precision_chosen = Signal(str)
    device_chosen = Signal(str)
    top_k_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Selectors", parent)
        self.setObjectName("selectors")
        self.source = QComboBox()
        self.model = QComboBox()
        self.precision = QComboBox()
        self.device = QComboBox()
        self.top_k = QSpinBox()
        self._source_spec = ""
        self._cameras: list[CameraInfo] = []
        self._setup_source()
        self._setup_model()
        self._setup_small()
        for caption, widget in (("Source", self.source), ("Model", self.model),
                                ("Precision", self.precision), ("Device", self.device),
                                ("Labels", self.top_k)):
            label = QLabel(f" {caption} ")
            label.setBuddy(widget)
            self.addWidget(label)
            self.addWidget(widget)

    # --- source --------------------------------------------------------------------------

    def _setup_source(self) -> None:
        self.source.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(20)
        self.source.setToolTip("Camera, video or image file, image folder or stream URL")
        self.source.activated.connect(self._on_source_activated)
        self._fill_sources()

    def _fill_sources(self) -> None:
        with QSignalBlocker(self.source):
            self.source.clear()
            specs = [DEMO, *(c.spec for c in self._cameras)]
            labels = [describe(DEMO), *(c.label for c in self._cameras)]
            if self._source_spec and self._source_spec not in specs:
                specs.append(self._source_spec)
                labels.append(describe(self._source_spec))
            for spec, label in zip(specs, labels, strict=True):
                self.source.addItem(label)
                self.source.setItemData(self.source.count() - 1, spec, SPEC_ROLE)
                self.source.setItemData(self.source.count() - 1, spec, Qt.ItemDataRole.ToolTipRole)
            self.source.insertSeparator(self.source.count())
            for action, label in (("file", "Open video or image file…"),
                                  ("folder", "Open image folder…"), ("url", "Open stream URL…")):
                self.source.addItem(label)
                self.source.setItemData(self.source.count() - 1, action, ACTION_ROLE)
            index = self.source.findData(self._source_spec, SPEC_ROLE)
            self.source.setCurrentIndex(max(index, 0) if self._source_spec else -1)

    def set_cameras(self, cameras: list[CameraInfo]) -> None:
        self._cameras = cameras
        self._fill_sources()

    def set_source(self, spec: str) -> None:
        """Show `spec` as the running source."""
        self._source_spec = spec
        self._fill_sources()

    def _on_source_activated(self, index: int) -> None:
        spec = self.source.itemData(index, SPEC_ROLE)
        action = self.source.itemData(index, ACTION_ROLE)
        self._fill_sources()  # shows the running source until the new one has opened
        chosen = spec if spec else self.ask_for_source(str(action))
        if chosen and chosen != self._source_spec:
            self.source_chosen.emit(chosen)

    def ask_for_source(self, action: str) -> str:
        """Ask for a file, folder or URL; '' when cancelled."""
        start = str(Path(self._source_spec).parent) if Path(self._source_spec).exists() else ""
        if action == "file":
            path, _ = QFileDialog.getOpenFileName(self, "Open a video or image", start,
                                                  VIDEO_FILTER)
            return path
        if action == "folder":
            return QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        url, ok = QInputDialog.getText(self, "Open a stream", "Stream URL (rtsp://, http://…):")
        return url.strip() if ok else ""

    # --- model ---------------------------------------------------------------------------

    def _setup_model(self) -> None:
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(46)
        self.model.setToolTip("Model: MACs and parameters from the built model (or the paper "
                              "until it is built)")
        self.model.activated.connect(self._on_model_activated)
        self.refresh_models()

    def refresh_models(self) -> None:
        """Rebuild the list (MACs and params come from built models, so they change)."""
        current = self.current_model()
        with QSignalBlocker(self.model):
            items = QStandardItemModel(self.model)
            bold = QFont()
            bold.setBold(True)
            for title, entries in model_groups():
                header = QStandardItem(title)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setFont(bold)
                items.appendRow(header)
                for entry in entries:
                    item = QStandardItem(entry.label)
                    item.setData(entry.id, SPEC_ROLE)
                    item.setToolTip(_model_tip(entry))
                    if not entry.trained:
                        item.setForeground(QBrush(UNTRAINED))
                    elif entry.fullconv:
                        item.setForeground(QBrush(FULLCONV))
                    items.appendRow(item)
            self.model.setModel(items)
            self.model.view().setMinimumWidth(self.model.view().sizeHintForColumn(0) + 30)
        if current:
            self.set_model(current)

    def current_model(self) -> str:
        return str(self.model.currentData(SPEC_ROLE) or "")

    def set_model(self, model_id: str) -> None:
        with QSignalBlocker(self.model):
            self.model.setCurrentIndex(self.model.findData(model_id, SPEC_ROLE))

    def _on_model_activated(self, _index: int) -> None:
        model_id = self.current_model()
        if model_id:
            self.model_chosen.emit(model_id)

    # --- precision, device, top-k --------------------------------------------------------

    def _setup_small(self) -> None:
        self.precision.addItems(list(PRECISIONS))
        self.precision.setToolTip("int8: quantized weights; fp16 and fp32: float weights")
        self.precision.activated.connect(
            lambda _i: self.precision_chosen.emit(self.precision.currentText()))
        for device in [*available_devices(), "AUTO"]:
            name = device_name(device) if device != "AUTO" else "OpenVINO picks"
            self.device.addItem(f"{device} — {name}" if name != device else device, device)
        self.device.setToolTip("Devices OpenVINO reports on this machine")
        self.device.activated.connect(
            lambda _i: self.device_chosen.emit(str(self.device.currentData())))
        self.top_k.setRange(1, MAX_TOP_K)
        self.top_k.setToolTip("How many labels to show")
        self.top_k.valueChanged.connect(self.top_k_changed)

    def set_precision(self, precision: str) -> None:
        with QSignalBlocker(self.precision):
            self.precision.setCurrentText(precision)

    def set_device(self, device: str, executing: str = "") -> None:
        """Select `device`; for AUTO also show what it picked."""
        with QSignalBlocker(self.device):
            index = self.device.findData(device)
            if index < 0:
                self.device.addItem(device, device)
                index = self.device.count() - 1
            auto = self.device.findData("AUTO")
            picked = f"AUTO → {executing}" if device == "AUTO" and executing else "AUTO"
            self.device.setItemText(auto, picked)
            self.device.setCurrentIndex(index)

    def current_device(self) -> str:
        return str(self.device.currentData())

    def show_engine(self, engine: Engine) -> None:
        """Show what `engine` runs: its model, precision and device (for AUTO, the pick)."""
        self.set_model(engine.model_id)
        self.set_precision(engine.precision)
        self.set_device(engine.device, engine.executing_device)

    def set_top_k(self, k: int) -> None:
        with QSignalBlocker(self.top_k):
            self.top_k.setValue(k)
