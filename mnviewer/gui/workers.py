"""Worker threads wrapped as QObjects: results and errors reach the GUI thread as signals.

Signals emitted from a worker thread are queued to the GUI thread (the receivers live there),
so slots always run on the GUI thread and never touch a worker's state while it changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Qt, Signal

from mnviewer.errors import MnviewerError
from mnviewer.pipeline import FrameResult, Pipeline

log = logging.getLogger(__name__)
QUEUED = Qt.ConnectionType.QueuedConnection
# The GUI shows at most a few seconds of timings and never reads a pipeline's whole-run
# per-frame samples, which would grow for as long as the window stays open: they are dropped
# every this many frames.
TOTALS_KEPT = 1000


def describe_error(exc: BaseException) -> str:
    """One line for a notice: our errors carry their own advice, others get their type."""
    if isinstance(exc, MnviewerError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Task(QObject):
    """Runs fn(task) on a daemon thread; then `succeeded(task, value)` or `failed(task, text)`.

    fn may call task.report(done, total, text) and should return early once task.cancelled.
    `context` is the caller's: the slot reads it back from the task, so a late answer to an
    old request can be told apart from the current one. A running task keeps itself alive
    until its signals have been delivered.
    """

    succeeded = Signal(object, object)
    failed = Signal(object, str)
    progress = Signal(object, int, int, str)
    finished = Signal(object)
    _running: ClassVar[set[Task]] = set()

    def __init__(self, fn: Callable[[Task], Any], name: str, context: Any = None) -> None:
        super().__init__()
        self.name = name
        self.context = context
        self._fn = fn
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.finished.connect(self._forget, QUEUED)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def start(self) -> Task:
        Task._running.add(self)
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def report(self, done: int, total: int, text: str) -> None:
        self.progress.emit(self, done, total, text)

    def _run(self) -> None:
        try:
            value = self._fn(self)
        except BaseException as exc:
            if not isinstance(exc, MnviewerError):
                log.exception("%s failed", self.name)
            self.failed.emit(self, describe_error(exc))
        else:
            self.succeeded.emit(self, value)
        finally:
            self.finished.emit(self)

    def _forget(self, _task: Task) -> None:
        Task._running.discard(self)

    @classmethod
    def join_all(cls, timeout: float) -> None:
        """Wait for running tasks: a compile still running at interpreter exit aborts it."""
        for task in list(cls._running):
            task.join(timeout)


class PipelineWorker(QObject):
    """Iterates one Pipeline on its own thread, keeping only the newest result.

    `result_ready` is emitted only when the previous result was taken, so the GUI's event
    queue never holds a backlog of frames: a slow paint skips frames instead of lagging.
    """

    result_ready = Signal(int)  # tag
    failed = Signal(object, str)  # worker, message
    finished = Signal(object)  # worker

    def __init__(self, pipeline: Pipeline, name: str, tag: int = 0) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.tag = tag
        self.frames = 0  # results produced so far
        # Sees every result on the worker's thread, also those the GUI skips (compare mode's
        # agreement counts them); keep it cheap.
        self.observe: Callable[[int, FrameResult], None] | None = None
        self._lock = threading.Lock()
        self._latest: FrameResult | None = None
        self._signalled = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def take(self) -> FrameResult | None:
        """The newest result since the last take, or None."""
        with self._lock:
            result, self._latest = self._latest, None
            self._signalled = False
        return result

    def stop(self) -> None:
        """End the loop; the pipeline's source must also be closed to wake a blocked read."""
        self.pipeline.stop()
        self.pipeline.source.close()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            for result in self.pipeline:
                self._offer(result)
        except BaseException as exc:
            if not isinstance(exc, MnviewerError):
                log.exception("pipeline failed")
            self.failed.emit(self, describe_error(exc))
        finally:
            self.finished.emit(self)

    def _offer(self, result: FrameResult) -> None:
        self.frames += 1
        observe = self.observe
        if observe is not None:
            observe(self.tag, result)
        if self.frames % TOTALS_KEPT == 0:
            # Runs on the worker's thread, which is the one iterating the pipeline: between
            # two results nothing appends to the samples.
            self.pipeline.totals.forget_samples()
        with self._lock:
            self._latest = result
            notify = not self._signalled
            self._signalled = True
        if notify:
            self.result_ready.emit(self.tag)
