"""Recording the annotated view into a video file; painting and encoding run on their own
thread, with the same overlay painter as the view and snapshots, so the file looks like the
screen.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnviewer.errors import MnviewerError
from mnviewer.gui.overlay import Overlay, image_to_bgr, render_annotated
from mnviewer.headless import VideoRecorder
from mnviewer.pipeline import FrameResult

# Draws one frame on the recording thread (compare mode composes both panes this way).
ImageJob = Callable[[], np.ndarray]
# About a second of frames: if encoding falls further behind, frames are skipped rather than
# piling up in memory.
QUEUE_FRAMES = 30


@dataclass(frozen=True)
class Shown:
    """One result as the view shows it: what to paint over the frame."""

    result: FrameResult
    overlay: Overlay | None  # None when the overlay is switched off
    mirror: bool
    shown_height: float | None


class Recording:
    """Shown results in, annotated .mp4 out, at `size` (width, height); `stop()` finishes it."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int],
                 on_error: Callable[[Recording, str], None]) -> None:
        self.path = path
        self.size = size
        self.written = 0
        self.failed = False
        self._recorder = VideoRecorder(path, fps)
        self._on_error = on_error
        self._queue: queue.Queue[Shown | ImageJob | None] = queue.Queue(QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name="recording", daemon=True)
        self._thread.start()

    def accepts(self, result: FrameResult) -> bool:
        """Whether the frame has the recording's size (a frame of the previous source not)."""
        height, width = result.frame.image.shape[:2]
        return (width, height) == self.size

    def add(self, shown: Shown | ImageJob) -> None:
        """Queue a shown result (or a job that draws the frame, as compare mode's two panes)
        without waiting; skipped when the encoder is behind or has failed."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(shown)

    def stop(self, timeout: float = 5.0) -> None:
        """Encode what is queued, close the file and end the thread."""
        if not self._thread.is_alive():
            return
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while (shown := self._queue.get()) is not None:
                if callable(shown):
                    self._recorder.write(shown())
                else:
                    image = render_annotated(shown.result.frame.image, shown.overlay,
                                             mirror=shown.mirror,
                                             shown_height=shown.shown_height)
                    self._recorder.write(image_to_bgr(image))
                self.written += 1
        except MnviewerError as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"recording {self.path} failed: {exc}")
        finally:
            try:
                self._recorder.close()
            except MnviewerError as exc:  # the file could not be finished (disk full, ...)
                self._fail(str(exc))
            except OSError as exc:
                self._fail(f"cannot finish {self.path} ({exc.strerror})")

    def _fail(self, message: str) -> None:
        self.failed = True
        self._on_error(self, message)
