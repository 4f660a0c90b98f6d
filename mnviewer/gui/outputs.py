"""What the main view can save: PNG snapshots with the overlay, and annotated recordings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from mnviewer.gui.overlay import render_annotated
from mnviewer.gui.recorder import ImageJob, Recording
from mnviewer.gui.settings import Settings, snapshot_folder
from mnviewer.gui.view import VideoView
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.pipeline import FrameResult
from mnviewer.sources import SourceInfo


def stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


class Outputs(QObject):
    """Snapshots are written at once (one PNG); recordings encode on their own thread."""

    notice = Signal(str, str)  # level, text
    recording_changed = Signal(bool)
    _failed = Signal(str)  # from the encoding thread

    def __init__(self, view: VideoView, settings: Settings, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self.settings = settings
        self.recording: Recording | None = None
        # Compare mode: draws both panes and the header in place of the main view alone.
        self.compose: Callable[[], QImage | None] | None = None
        self._failed.connect(self._on_failed, QUEUED)

    def _folder(self) -> Path | None:
        folder = snapshot_folder(self.settings)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.notice.emit("error", f"cannot create {folder} ({exc.strerror}): choose "
                                      "another folder with Save snapshot as…")
            return None
        return folder

    def snapshot(self, path: Path | None = None) -> Path | None:
        """Save the view's frame with its overlay as PNG; returns the path, None on failure."""
        view = self.view
        if view.result is None:
            self.notice.emit("warning", "nothing to save yet")
            return None
        if path is None:
            folder = self._folder()
            if folder is None:
                return None
            path = folder / f"mnviewer-{stamp()}.png"
        if path.suffix.lower() != ".png":
            path = path.with_name(path.name + ".png")
        overlay = view.overlay if view.show_overlay else None
        composed = self.compose() if self.compose is not None else None
        image = composed or render_annotated(view.result.frame.image, overlay,
                                             mirror=view.mirror)
        if not image.save(str(path)):
            self.notice.emit("error", f"cannot write {path}: choose another folder")
            return None
        self.notice.emit("info", f"snapshot saved to {path}")
        return path

    def ask_snapshot(self, parent: QWidget) -> None:
        default = snapshot_folder(self.settings) / f"mnviewer-{stamp()}.png"
        path, _ = QFileDialog.getSaveFileName(parent, "Save snapshot", str(default),
                                              "PNG (*.png)")
        if path:
            self.snapshot(Path(path))

    def start_recording(self, info: SourceInfo | None) -> None:
        if self.recording is not None:
            return
        folder = self._folder()
        if folder is None:
            self.recording_changed.emit(False)
            return
        path = folder / f"mnviewer-{stamp()}.mp4"
        # A rate the source does not state goes in as 0: VideoRecorder then picks its default.
        fps = info.fps if info is not None else None
        self.recording = Recording(path, fps or 0.0, self._failed.emit)
        self.notice.emit("info", f"recording to {path}")
        self.recording_changed.emit(True)

    def stop_recording(self) -> None:
        recording, self.recording = self.recording, None
        if recording is None:
            return
        # Encoding what is still queued can take a moment: not on the GUI thread.
        task = Task(lambda _t: recording.stop(), "finish recording")
        task.succeeded.connect(lambda _t, _v: self._announce_saved(recording), QUEUED)
        task.start()
        self.recording_changed.emit(False)

    def _announce_saved(self, recording: Recording) -> None:
        if not recording.failed:  # a failure has been reported as an error already
            self.notice.emit("info", f"saved {recording.written} frames to {recording.path}")

    def add(self, result: FrameResult | ImageJob) -> None:
        """Record `result` (or the frame a job draws) if recording (never waits)."""
        if self.recording is not None:
            self.recording.add(result)

    def close(self) -> None:
        if self.recording is not None:
            self.recording.stop()
            self.recording = None

    def _on_failed(self, message: str) -> None:
        self.notice.emit("error", message)
        if self.recording is not None:
            self.recording = None
            self.recording_changed.emit(False)
