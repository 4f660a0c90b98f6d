"""Download and build every model in the background, with progress and a Cancel button.

Shown on a first run (no model built yet) and from the Models menu. The default model does not
wait for it: the window builds that one on its own in a couple of seconds.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mnviewer.gui.models import BUILD_LOCK
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.models import builder as build
from mnviewer.models import fetch
from mnviewer.models.catalog import PRECISIONS, load_catalog


def _plan() -> tuple[list[str], int]:
    """Source files every model needs, and their total size in bytes."""
    catalog = load_catalog()
    names = fetch.files_for_models(catalog.models, include_demo=True, catalog=catalog)
    return names, sum(catalog.sources[n].size for n in names)


def fetch_and_build(task: Task) -> bool:
    """Fetch each file, then build each model in every precision; False if cancelled.

    One Builder serves every model, so a -fullconv twin reuses its base's assembled graph;
    the build lock is taken per model, so a model switch in the window waits for one only.
    """
    catalog = load_catalog()
    names, _ = _plan()
    total = len(names) + len(catalog.models)
    for i, name in enumerate(names):
        if task.cancelled:
            return False
        task.report(i, total, f"fetching {name}")

        def bytes_done(file: str, done: int, size: int, step: int = i) -> None:
            task.report(step, total, f"fetching {file}: {done * 100 // max(size, 1)}%")

        fetch.fetch_source(catalog.sources[name], progress=bytes_done)
    builder = build.Builder(catalog)
    for j, spec in enumerate(catalog.models):
        if task.cancelled:
            return False
        task.report(len(names) + j, total, f"building {spec.id} ({', '.join(PRECISIONS)})")
        with BUILD_LOCK:
            builder.build(spec, list(PRECISIONS))
    task.report(total, total, "all models are built")
    return True


class BuildDialog(QDialog):
    """Non-modal: the live view goes on while models download and build."""

    built = Signal()  # some or all models were built: the model list should refresh

    def __init__(self, parent: QWidget | None = None, *, first_run: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download and build models")
        self.setModal(False)
        self.task: Task | None = None
        names, size = _plan()
        count = len(load_catalog().models)
        lead = ("No model is built yet. The default model is being built now. "
                if first_run else "")
        self.message = QLabel(
            f"{lead}mnviewer can fetch the {len(names)} source files (about "
            f"{size / 1e6:.0f} MB, from the folders or URLs in {fetch.MIRROR_ENV} if set, "
            f"else their pinned URLs; every file is sha256-checked) and build all {count} "
            f"models in {', '.join(PRECISIONS)}. This runs in the background.")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.start_button = QPushButton("Download and build")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Not now")
        self._layout()
        self._set_running(False)

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.hide)
        self.resize(520, 200)

    def start(self) -> None:
        if self.task is not None:
            return
        self.task = Task(fetch_and_build, "build all models")
        self.task.progress.connect(self._on_progress, QUEUED)
        self.task.succeeded.connect(self._on_done, QUEUED)
        self.task.failed.connect(self._on_failed, QUEUED)
        self._set_running(True)
        self.task.start()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling after the current step…")

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.join(10.0)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.close_button.setText("Hide" if running else "Not now")

    def _on_progress(self, task: Task, done: int, total: int, text: str) -> None:
        if task is not self.task:
            return  # from a run that has ended
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(text)

    def _on_done(self, _task: Task, complete: bool) -> None:
        self.task = None
        self.status.setText("All models are built." if complete else "Cancelled.")
        self._set_running(False)
        self.close_button.setText("Close")
        self.built.emit()

    def _on_failed(self, _task: Task, message: str) -> None:
        self.task = None
        self.status.setText(f"Failed: {message}")
        self._set_running(False)
        self.built.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing only hides: the build goes on, and the Models menu shows the dialog again.
        self.hide()
        event.ignore()
