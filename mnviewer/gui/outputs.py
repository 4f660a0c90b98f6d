"""What the main view can save: PNG snapshots with the overlay, and annotated recordings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from mnviewer.atomic import with_extension
from mnviewer.gui.overlay import render_annotated
from mnviewer.gui.recorder import ImageJob, Recording, Shown
from mnviewer.gui.settings import Settings, snapshot_folder
from mnviewer.gui.view import VideoView
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.pipeline import FrameResult
from mnviewer.sources import SourceInfo


def stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def unused_path(folder: Path, suffix: str, taken: set[Path]) -> Path:
    """mnviewer-<time><suffix> in `folder`, numbered if that name is taken this second (a
    file there, or in `taken`: a recording is written under a temporary name until it ends);
    the name is added to `taken`."""
    path = folder / f"mnviewer-{stamp()}{suffix}"
    n = 2
    while path.exists() or path in taken:
        path = folder / f"mnviewer-{stamp()}-{n}{suffix}"
        n += 1
    taken.add(path)
    return path


class Outputs(QObject):
    """Snapshots are written at once (one PNG); recordings encode on their own thread."""

    notice = Signal(str, str)  # level, text
    recording_changed = Signal(bool)
    _failed = Signal(object, str)  # recording, message; from the encoding thread

    def __init__(self, view: VideoView, settings: Settings, parent: QWidget) -> None:
        super().__init__(parent)
        self.view = view
        self.settings = settings
        self.recording: Recording | None = None
        self._taken: set[Path] = set()  # names given out in this run
        self.finishing: set[Task] = set()  # recordings being finished, until they have said so
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
            path = unused_path(folder, ".png", self._taken)
        path = with_extension(path, "png")
        overlay = view.overlay if view.show_overlay else None
        composed = self.compose() if self.compose is not None else None
        image = composed or render_annotated(view.result.frame.image, overlay,
                                             mirror=view.mirror,
                                             shown_height=view.shown_height())
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
        if info is None:
            self.notice.emit("warning", "nothing to record yet: wait for the source to open")
            self.recording_changed.emit(False)
            return
        folder = self._folder()
        if folder is None:
            self.recording_changed.emit(False)
            return
        self.recording = self._new_recording(folder, info)
        self.notice.emit("info", f"recording to {self.recording.path}")
        self.recording_changed.emit(True)

    def _new_recording(self, folder: Path, info: SourceInfo) -> Recording:
        # A rate the source does not state goes in as 0: VideoRecorder then picks its default.
        return Recording(unused_path(folder, ".mp4", self._taken), info.fps or 0.0,
                         (info.width, info.height), self._failed.emit)

    def source_changed(self, info: SourceInfo) -> None:
        """A recording of the old source ends; the new source goes on in a file of its own."""
        old = self.recording
        if old is None:
            return
        self.recording = None
        self._finish(old, announce=False)
        folder = self._folder()
        if folder is None:
            self.recording_changed.emit(False)
            return
        self.recording = self._new_recording(folder, info)
        self.notice.emit("info", f"the source changed: its recording went to {old.path}; "
                                 f"recording goes on in {self.recording.path}")

    def stop_recording(self) -> None:
        recording, self.recording = self.recording, None
        if recording is None:
            return
        self._finish(recording, announce=True)
        self.recording_changed.emit(False)

    def _finish(self, recording: Recording, *, announce: bool) -> None:
        # Encoding what is still queued can take a moment: not on the GUI thread.
        task = Task(lambda _t: recording.stop(), "finish recording")
        if announce:
            task.succeeded.connect(lambda _t, _v: self._announce_saved(recording), QUEUED)
        self.finishing.add(task)
        task.finished.connect(self.finishing.discard, QUEUED)  # after its other signals
        task.start()

    def _announce_saved(self, recording: Recording) -> None:
        if not recording.failed:  # a failure has been reported as an error already
            self.notice.emit("info", f"saved {recording.written} frames to {recording.path}")

    def add(self, result: FrameResult | ImageJob) -> None:
        """Record `result` as the view shows it now (or the frame a job draws, as compare
        mode's two panes), if recording (never waits)."""
        recording = self.recording
        if recording is None:
            return
        if callable(result):
            recording.add(result)
            return
        if not recording.accepts(result):
            return  # a frame of the previous source, still in flight, is not recorded
        view = self.view
        overlay = view.overlay if view.show_overlay else None
        recording.add(Shown(result, overlay, view.mirror, view.shown_height()))

    def close(self) -> None:
        if self.recording is not None:
            self.recording.stop()
            self.recording = None

    def _on_failed(self, recording: Recording, message: str) -> None:
        self.notice.emit("error", message)
        if self.recording is recording:
            self.recording = None
            self.recording_changed.emit(False)
