"""Recording the annotated view into a video file; encoding runs on its own thread.

Qt-free: frames are annotated and encoded the way headless mode does it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnviewer.errors import MnviewerError
from mnviewer.headless import VideoRecorder, draw_overlay
from mnviewer.pipeline import FrameResult

# Draws one frame on the recording thread (compare mode composes both panes this way).
ImageJob = Callable[[], np.ndarray]
# About a second of frames: if encoding falls further behind, frames are skipped rather than
# piling up in memory.
QUEUE_FRAMES = 30


class Recording:
    """Results in, annotated .mp4 out; `stop()` finishes the file."""

    def __init__(self, path: Path, fps: float, on_error: Callable[[str], None]) -> None:
        self.path = path
        self.written = 0
        self.failed = False
        self._recorder = VideoRecorder(path, fps)
        self._on_error = on_error
        self._queue: queue.Queue[FrameResult | ImageJob | None] = queue.Queue(QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name="recording", daemon=True)
        self._thread.start()

    def add(self, result: FrameResult | ImageJob) -> None:
        """Queue a result (or a job that draws the frame) without waiting; skipped when the
        encoder is behind or has failed."""
        if not self._thread.is_alive():
            return
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(result)

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
            while (item := self._queue.get()) is not None:
                image = item() if callable(item) else draw_overlay(item.frame.image, item)
                self._recorder.write(image)
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
        self._on_error(message)
