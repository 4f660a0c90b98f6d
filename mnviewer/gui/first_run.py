"""Fetch and build the models not built yet, in the background, with progress and Cancel.

Shown on a first run and from the Models menu. The default model does not wait for it: the
window builds that one on its own in a few seconds, and tells the dialog how that went, so the
dialog only ever says what is true at that moment. Once nothing is left to build, it closes.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mnviewer.gui.models import BUILD_LOCK, EngineRequest
from mnviewer.gui.notices import WrapLabel
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.models import builder as build
from mnviewer.models import fetch
from mnviewer.models.catalog import PRECISIONS, ModelSpec, load_catalog

# How the window's own load of the default model stands: "building", "ready" or "failed".
BUILDING, READY, FAILED = "building", "ready", "failed"


def unbuilt_models() -> list[ModelSpec]:
    """Models with at least one precision not built yet (cheap: file sizes, no hashing)."""
    return [spec for spec in load_catalog().models
            if any(build.find_built(spec.id, p) is None for p in spec.precisions)]


def _plan(specs: list[ModelSpec]) -> tuple[list[str], int]:
    """Source files those models need and are not fetched yet, and their size in bytes."""
    catalog = load_catalog()
    names = [n for n in fetch.files_for_models(specs, include_demo=True, catalog=catalog)
             if not fetch.is_fetched(n, catalog=catalog)]
    return names, sum(catalog.sources[n].size for n in names)


def fetch_and_build(task: Task) -> bool:
    """Fetch each missing file, then build each unbuilt model in every precision; False if
    cancelled.

    One Builder serves every model, so a -fullconv twin reuses its base's assembled graph;
    the build lock is taken per model, so a model switch in the window waits for one only.
    """
    catalog = load_catalog()
    specs = unbuilt_models()
    names, _ = _plan(specs)
    total = len(names) + len(specs)
    for i, name in enumerate(names):
        if task.cancelled:
            return False
        task.report(i, total, f"fetching {name}")

        def bytes_done(file: str, done: int, size: int, step: int = i) -> None:
            task.report(step, total, f"fetching {file}: {done * 100 // max(size, 1)}%")

        fetch.fetch_source(catalog.sources[name], progress=bytes_done)
    builder = build.Builder(catalog)
    for j, spec in enumerate(specs):
        if task.cancelled:
            return False
        offered = list(spec.precisions)  # a float import without calibration: no int8
        task.report(len(names) + j, total, f"building {spec.id} ({', '.join(offered)})")
        with BUILD_LOCK:  # may wait for a model switch: Cancel meanwhile builds nothing
            if task.cancelled:
                return False
            builder.build(spec, offered)
    task.report(total, total, "all models are built")
    return True


class BuildDialog(QDialog):
    """Non-modal: the live view goes on while models download and build."""

    built = Signal()  # some or all models were built: the model list should refresh
    finished_all = Signal()  # every model is built: the dialog has closed itself

    def __init__(self, parent: QWidget | None = None, *,
                 default: EngineRequest | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setModal(False)
        self.task: Task | None = None
        self.default = default  # what the window runs first; None: not a first run
        self.default_state = BUILDING
        self.default_error = ""
        self.intro = WrapLabel()
        self.message = WrapLabel()
        self.progress = QProgressBar()
        self.status = WrapLabel()
        self.start_button = QPushButton("Build all now")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("On first use")
        self._layout()
        self._set_running(False)
        self.refresh()

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        for widget in (self.intro, self.message, self.progress, self.status):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.hide)
        self.progress.hide()
        self.resize(560, 180)

    def set_default_state(self, state: str, error: str = "") -> None:
        """What the window's load of the default model has come to (BUILDING, READY, FAILED)."""
        self.default_state, self.default_error = state, error
        self.refresh()

    def refresh(self) -> None:
        """Say what is true now; close when nothing is left to decide."""
        if self.default is not None:
            label = self.default.label
            built = build.find_built(self.default.model, self.default.precision) is not None
            self.intro.setText({
                BUILDING: f"The default model, {label}, is being "
                          f"{'loaded' if built else 'built'}; it starts in a few seconds.",
                READY: f"The default model, {label}, is ready.",
                FAILED: f"The default model, {label}, could not be built: {self.default_error}",
            }[self.default_state])
        self.intro.setVisible(self.default is not None)
        if self.task is not None:
            return  # the progress says it
        specs = unbuilt_models()
        if not specs:
            self.message.setText("Every model is built.")
            if self.isVisible():
                self.hide()  # nothing left to decide
            return
        names, size = _plan(specs)
        files = (f"{len(names)} source files, about {max(size / 1e6, 0.1):.1f} MB, from the "
                 f"folders or URLs in Settings ({fetch.MIRROR_ENV}) if set, else their pinned "
                 "URLs, each sha256-checked, then " if names else "")
        self.message.setText(
            f"{self._others(specs)} can be built now ({files}built in "
            f"{', '.join(PRECISIONS)}, in the background), or each one on first use, when "
            "you pick it.")

    def _others(self, specs: list[ModelSpec]) -> str:
        default = self.default.model if self.default is not None else ""
        rest = [s for s in specs if s.id != default]
        if len(rest) == len(specs):
            return f"{len(specs)} models"
        return f"The {len(rest)} other models" if rest else "Its other precisions"

    def start(self) -> None:
        if self.task is not None:
            return
        self.task = Task(fetch_and_build, "build all models")
        self.task.progress.connect(self._on_progress, QUEUED)
        self.task.succeeded.connect(self._on_done, QUEUED)
        self.task.failed.connect(self._on_failed, QUEUED)
        self._set_running(True)
        self.status.setText("Starting…")
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
        self.progress.setVisible(running)
        self.close_button.setText("Hide" if running else "On first use")

    def _on_progress(self, task: Task, done: int, total: int, text: str) -> None:
        if task is not self.task:
            return  # from a run that has ended
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.status.setText(text)

    def _on_done(self, _task: Task, complete: bool) -> None:
        self.task = None
        self._set_running(False)
        self.status.setText("" if complete else "Cancelled.")
        self.built.emit()
        self.refresh()
        if complete and not unbuilt_models():
            self.finished_all.emit()

    def _on_failed(self, _task: Task, message: str) -> None:
        self.task = None
        self.status.setText(f"Failed: {message}")
        self._set_running(False)
        self.built.emit()
        self.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing only hides: the build goes on, and the Models menu shows the dialog again.
        self.hide()
        event.ignore()
