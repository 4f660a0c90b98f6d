"""Models → Add model…: import the user's own classifier, with its preprocessing shown and
editable, built in a worker thread; and Models → Remove model…."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mnviewer.errors import UsageError
from mnviewer.gui.workers import Task, describe_error
from mnviewer.models.importer import Description, ImportOptions, parse_values

if TYPE_CHECKING:
    from mnviewer.gui.main_window import MainWindow

MODEL_FILTER = "Image classifiers (*.tflite *.onnx *.xml);;All files (*)"
CALIBRATION_FRAMES = 300


def _numbers(text: str) -> tuple[float, ...] | None:
    try:
        return parse_values(text, "mean")
    except UsageError:
        return None


def _text(values: tuple[float, ...] | list[float]) -> str:
    return " ".join(f"{v:g}" for v in values)


def source_frames(spec: str, count: int, task: Task, every: int = 3) -> list:
    """Up to `count` frames of a source, one in `every` so a video's frames spread over a
    longer stretch, for calibration (read in a worker thread). A camera the window holds
    open may refuse a second reader: the error says so in the dialog."""
    from mnviewer.sources import open_source

    frames = []
    with open_source(spec) as source:
        for index, frame in enumerate(source):
            if index % every:
                continue
            frames.append(frame.image)
            task.report(len(frames), count, "reading frames for calibration")
            if len(frames) >= count or task.cancelled:
                break
    return frames


class AddModelDialog(QDialog):
    """File, labels, the detected preprocessing (editable), then import with progress."""

    imported = Signal(str)

    def __init__(self, parent: QWidget | None = None, source_spec: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Add your own model")
        self.setMinimumWidth(560)
        self.source_spec = source_spec
        self.description: Description | None = None
        self._task: Task | None = None
        self.file = QLineEdit()
        self.file.setPlaceholderText(".tflite, .onnx or OpenVINO IR .xml")
        self.labels = QLineEdit()
        self.labels.setPlaceholderText("from the file, else 'class N'")
        self.model_id = QLineEdit()
        self.mean = QLineEdit()
        self.scale = QLineEdit()
        self.channels = QComboBox()
        self.channels.addItems(["RGB", "BGR"])
        self.layout_box = QComboBox()
        self.layout_box.addItems(["NHWC", "NCHW"])
        self.side = QSpinBox()
        self.side.setRange(16, 4096)
        self.calibrate = QCheckBox(f"int8: calibrate on {CALIBRATION_FRAMES} frames of the "
                                   "current source (float models)")
        self.found = QLabel("Choose a file: its preprocessing is read from it.")
        self.found.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setEnabled(False)
        self.buttons.accepted.connect(self.start_import)
        self.buttons.rejected.connect(self.reject)
        self._layout()

    def _browse_row(self, edit: QLineEdit, caption: str, on_pick: object = None) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit)
        button = QPushButton("Browse…")

        def pick() -> None:
            path, _ = QFileDialog.getOpenFileName(self, caption, "", MODEL_FILTER
                                                  if edit is self.file else "")
            if path:
                edit.setText(path)
                if callable(on_pick):
                    on_pick()

        button.clicked.connect(pick)
        box.addWidget(button)
        return row

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow("Model file", self._browse_row(self.file, "Model file", self.read_file))
        form.addRow("Labels", self._browse_row(self.labels, "Labels file", self.read_file))
        form.addRow("Id", self.model_id)
        form.addRow("Mean (pixels)", self.mean)
        form.addRow("Scale (pixels)", self.scale)
        form.addRow("Channels", self.channels)
        form.addRow("Layout", self.layout_box)
        form.addRow("Input size", self.side)
        form.addRow("", self.calibrate)
        self.file.editingFinished.connect(self.read_file)
        # A file that records no normalization is read again once mean and scale are typed.
        self.mean.editingFinished.connect(self._retry_if_unread)
        self.scale.editingFinished.connect(self._retry_if_unread)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.found)
        box.addWidget(self.progress)
        box.addWidget(self.error)
        box.addWidget(self.buttons)

    # --- reading the file ----------------------------------------------------------------

    def read_file(self) -> None:
        """Describe the chosen file in a worker; fill the fields with what it records."""
        path = self.file.text().strip()
        if not path:
            return
        self.error.clear()
        self.add_button.setEnabled(False)
        self.description = None
        mean, scale = _numbers(self.mean.text()), _numbers(self.scale.text())
        options = ImportOptions(labels=Path(self.labels.text()) if self.labels.text() else None,
                                mean=mean if mean and scale else None,
                                scale=scale if mean and scale else None)

        def describe(_task: Task) -> Description:
            from mnviewer.models import builder, importer

            return importer.describe(Path(path), options, builder.shared_core())

        self._run(Task(describe, "describe-model"), self._on_described)

    def _retry_if_unread(self) -> None:
        if self.description is None and self._task is None and self.file.text().strip():
            self.read_file()

    def _on_described(self, _task: Task, desc: object) -> None:
        from mnviewer.models.user import slug

        assert isinstance(desc, Description)
        self.description = desc
        prep = desc.preprocessing
        if not self.model_id.text():
            self.model_id.setText(slug(desc.path.name))
        self.mean.setText(_text(prep.mean))
        self.scale.setText(_text(prep.scale))
        if prep.channels in ("RGB", "BGR"):
            self.channels.setCurrentText(prep.channels)
        self.channels.setEnabled(prep.channels != "GRAY")
        self.layout_box.setCurrentText(prep.layout)
        self.side.setValue(prep.input_size)
        self.calibrate.setEnabled(not desc.quantized and bool(self.source_spec))
        self.calibrate.setChecked(False)
        kind = "quantized (int8 from the file)" if desc.quantized else \
            "float (int8 needs calibration)"
        where = ", ".join(f"{k}: {v}" for k, v in prep.decided.items())
        self.found.setText(f"{desc.format} · {desc.classes} classes · {kind} · labels "
                           f"{desc.labels_from}\nDecided from — {where}")
        self.add_button.setEnabled(True)

    # --- importing -----------------------------------------------------------------------

    def options(self) -> ImportOptions:
        mean, scale = _numbers(self.mean.text()), _numbers(self.scale.text())
        prep = self.description.preprocessing if self.description else None
        # Values the file recorded are left to the file; typed ones are passed on.
        same = (prep is not None and mean == prep.mean and scale == prep.scale
                and not prep.decided.get("mean_scale", "").startswith("flag"))
        channels = self.channels.currentText() if self.channels.isEnabled() else None
        return ImportOptions(
            model_id=self.model_id.text().strip() or None,
            labels=Path(self.labels.text()) if self.labels.text().strip() else None,
            mean=None if same else mean, scale=None if same else scale,
            channels=None if prep is not None and channels == prep.channels else channels,
            layout=None if prep is not None and self.layout_box.currentText() == prep.layout
            else self.layout_box.currentText(),
            input_size=None if prep is not None and self.side.value() == prep.input_size
            else self.side.value(),
            force=False)

    def start_import(self) -> None:
        if _numbers(self.mean.text()) is None or _numbers(self.scale.text()) is None:
            self.error.setText("Mean and scale take 1 or 3 numbers, e.g. 127.5 or "
                               "123.7 116.3 103.5")
            return
        path, options = Path(self.file.text().strip()), self.options()
        calibrate = self.calibrate.isChecked() and self.calibrate.isEnabled()
        spec = self.source_spec

        def run(task: Task) -> str:
            from mnviewer.gui.models import BUILD_LOCK
            from mnviewer.models.user import import_model

            frames = source_frames(spec, CALIBRATION_FRAMES, task) if calibrate else None
            with BUILD_LOCK:
                return import_model(path, options, calibration_frames=frames,
                                    progress=lambda text: task.report(0, 0, text),
                                    cancelled=lambda: task.cancelled)

        self.error.clear()
        self._run(Task(run, "import-model"), self._on_imported)

    def _on_imported(self, task: Task, model_id: object) -> None:
        if task.cancelled:
            return
        self.imported.emit(str(model_id))
        self.accept()

    # --- worker plumbing -----------------------------------------------------------------

    def _run(self, task: Task, on_done: object) -> None:
        self._task = task
        task.finished.connect(self._on_task_finished)
        self.progress.show()
        self.progress.setRange(0, 0)
        self.add_button.setEnabled(False)
        task.succeeded.connect(on_done)
        task.failed.connect(self._on_failed)
        task.progress.connect(self._on_progress)
        task.start()

    def _on_progress(self, _task: Task, done: int, total: int, text: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)
        self.progress.setFormat(text)
        self.found.setText(text)

    def _on_task_finished(self, task: Task) -> None:
        # A bound method: Qt drops the connection if the dialog is gone by then.
        if task is self._task:
            self._task = None
            self.progress.hide()

    def _on_failed(self, _task: Task, message: str) -> None:
        if "--mean" in message and "--scale" in message:
            message = ("This file does not record how to normalize its input: type Mean and "
                       "Scale (e.g. 127.5 and 127.5 for inputs in [-1, 1]).")
            self.mean.setFocus()
        self.error.setText(message)
        self.add_button.setEnabled(self.description is not None)

    def reject(self) -> None:
        if self._task is not None:
            self._task.cancel()
        super().reject()


def show_add_model(window: MainWindow) -> AddModelDialog:
    """Open the dialog; an imported model joins the selector and starts running."""
    dialog = AddModelDialog(window, source_spec=window.session.spec or "")

    def imported(model_id: str) -> None:
        from mnviewer.models.catalog import load_catalog

        window.controls.refresh_models()
        offered = load_catalog().get(model_id).precisions
        precision = window.controls.precision.currentText()
        window.notify("info", f"{model_id} added under Your models")
        window.request_engine(model=model_id,
                              precision=precision if precision in offered else offered[-1])

    dialog.imported.connect(imported)
    dialog.show()
    return dialog


def remove_user_model(window: MainWindow) -> str | None:
    """Ask which imported model to remove and remove it (the running one is replaced by the
    default model first). Returns its id, or None."""
    from mnviewer.gui.settings import DEFAULT_MODEL
    from mnviewer.models.user import records, remove_model

    ids = [r["id"] for r in records()]
    if not ids:
        window.notify("info", "no imported models to remove: add one with Models → Add model…")
        return None
    model_id, ok = QInputDialog.getItem(window, "Remove model", "Imported model", ids, 0, False)
    if not ok:
        return None
    from mnviewer.gui.models import BUILD_LOCK

    panes = [window.session.requested(pane) for pane in (0, 1)]
    if any(r is not None and r.model.removesuffix("-fullconv") == model_id for r in panes):
        window.commands.compare.setChecked(False)
        window.request_engine(model=DEFAULT_MODEL)
    try:
        with BUILD_LOCK:  # a twin being built for it would come back otherwise
            remove_model(model_id)
    except Exception as exc:  # shown as a notice, never raised into Qt's event loop
        window.notify("error", describe_error(exc))
        return None
    window.controls.refresh_models()
    window.notify("info", f"{model_id} removed")
    return str(model_id)
