"""The one frame loop shared by headless mode, the benchmark and the GUI.

A source yields frames, the engine infers them asynchronously, and the loop pairs each frame
with its prediction and per-stage timings into an immutable FrameResult, in frame order.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from mnviewer.engine import Engine, Inference, Prediction, check_top_k
from mnviewer.errors import SourceError
from mnviewer.sources import Frame, FrameSource, SourceInfo, SourceLost


class MovingWindow:
    """Values with timestamps over the last `seconds`: rate, percentiles.

    Percentiles are recomputed at most every `refresh_s`: a display cannot show them faster,
    and sorting the window on every frame would cost more than the frame's bookkeeping.
    """

    def __init__(self, seconds: float = 1.0, refresh_s: float = 0.1):
        self.seconds = seconds
        self.refresh_s = refresh_s
        self._items: deque[tuple[float, float]] = deque()
        self._cached: dict[float, tuple[float, float]] = {}

    def add(self, now: float, value: float) -> None:
        self._items.append((now, value))
        horizon = now - self.seconds
        while self._items and self._items[0][0] < horizon:
            self._items.popleft()

    def clear(self) -> None:
        self._items.clear()
        self._cached.clear()

    def __len__(self) -> int:
        return len(self._items)

    def rate(self) -> float:
        """Events per second over the window (0 until two events are seen)."""
        if len(self._items) < 2:
            return 0.0
        span = self._items[-1][0] - self._items[0][0]
        return (len(self._items) - 1) / span if span > 0 else 0.0

    def percentile(self, q: float) -> float:
        if not self._items:
            return 0.0
        now = self._items[-1][0]
        cached = self._cached.get(q)
        if cached is not None and now - cached[0] < self.refresh_s:
            return cached[1]
        value = float(np.percentile([v for _, v in self._items], q))
        self._cached[q] = (now, value)
        return value


@dataclass(frozen=True)
class FrameResult:
    """One frame with its prediction and timings (milliseconds)."""

    frame: Frame
    top: tuple[Prediction, ...]
    infer_ms: float  # device time of this frame's request
    capture_ms: float  # reading/decoding the frame
    post_ms: float  # turning raw outputs into labels (in the completion callback)
    total_ms: float  # from starting to read the frame to its result
    fps: float  # results per second over the moving window
    infer_p50_ms: float  # median inference time over the moving window
    model_id: str
    precision: str
    device: str  # the device that executed

    @property
    def index(self) -> int:
        return self.frame.index


@dataclass
class StageTotals:
    """Per-stage timings over a whole run, for summaries (compact arrays of doubles)."""

    infer_ms: array = field(default_factory=lambda: array("d"))
    capture_ms: array = field(default_factory=lambda: array("d"))
    post_ms: array = field(default_factory=lambda: array("d"))
    total_ms: array = field(default_factory=lambda: array("d"))
    frames: int = 0
    started: float = 0.0
    finished: float = 0.0

    @property
    def wall_s(self) -> float:
        return max(0.0, self.finished - self.started)

    def forget_samples(self) -> None:
        """Drop the per-frame timings; frames, started and finished stay."""
        for samples in (self.infer_ms, self.capture_ms, self.post_ms, self.total_ms):
            del samples[:]


def percentiles(values: Sequence[float], qs: tuple[int, ...] = (50, 90, 99),
                digits: int = 3) -> dict[str, float]:
    if not len(values):
        return {f"p{q}": 0.0 for q in qs}
    arr = np.asarray(values)
    return {f"p{q}": round(float(np.percentile(arr, q)), digits) for q in qs}


class Pipeline:
    """Runs frames of a source through an engine; iterate to get FrameResults in order.

    File sources keep several requests in flight while the next frame decodes; live sources
    infer each newest frame at once, so a result is never held back by the next capture.
    `swap_engine` and `stop` may be called from any thread.
    """

    def __init__(self, source: FrameSource, engine: Engine, *, top_k: int = 5,
                 max_frames: int | None = None, window_s: float = 1.0,
                 jobs: int | None = None):
        self.source = source
        self.top_k = check_top_k(top_k)
        self.max_frames = max_frames
        self.window = MovingWindow(window_s)
        self.infer_window = MovingWindow(window_s)
        self.totals = StageTotals()
        self._engine = engine
        self._next_engine: Engine | None = None
        self._jobs = jobs
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ready = threading.Condition()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def source_info(self) -> SourceInfo:
        return self.source.info

    def stop(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()

    def swap_engine(self, engine: Engine) -> None:
        """Use `engine` from the next frame on; the timing history starts again."""
        with self._lock:
            self._next_engine = engine

    def set_top_k(self, k: int) -> None:
        self.top_k = check_top_k(k)

    def _take_swap(self) -> Engine | None:
        with self._lock:
            engine, self._next_engine = self._next_engine, None
        return engine

    def __iter__(self) -> Iterator[FrameResult]:
        live = self.source.info.live
        self.totals.started = time.perf_counter()
        try:
            while not self._stop.is_set():
                yield from self._run_engine(live)
                swapped = self._take_swap()
                if swapped is None:
                    break
                self._engine = swapped
                self.window.clear()
                self.infer_window.clear()
        finally:
            self.totals.finished = time.perf_counter()

    def _run_engine(self, live: bool) -> Iterator[FrameResult]:
        """Loop with the current engine until the source ends, a stop, or an engine swap."""
        engine = self._engine
        done: dict[int, tuple[Inference, tuple[Frame, float, float], float]] = {}
        ready = self._ready

        def on_result(inference: Inference, extra: tuple[Frame, float, float]) -> None:
            with ready:
                done[inference.frame_id] = (inference, extra, time.perf_counter())
                ready.notify_all()

        def on_error() -> None:
            with ready:
                ready.notify_all()

        # Files: two requests per stream, so each stream has work queued while the next
        # frame decodes on this thread.
        jobs = 1 if live else (self._jobs or 2 * engine.requests)
        # Image files decode no larger than this engine needs.
        self.source.prefer_min_side(engine.source_side)
        queue = engine.async_queue(on_result, self.top_k, jobs, on_error=on_error)
        submitted = emitted = 0
        failure: SourceError | None = None
        try:
            while not self._stop.is_set() and self._next_engine is None:
                if self.max_frames is not None and self.totals.frames + submitted - emitted \
                        >= self.max_frames:
                    break
                t0 = time.perf_counter()
                try:
                    frame = self.source.read()
                except SourceLost:
                    if live:
                        continue  # the source keeps reconnecting; it reports loss and return
                    raise
                except SourceError as exc:
                    failure = exc  # raised once the frames already submitted are out
                    break
                if frame is None:
                    break
                t1 = time.perf_counter()
                queue.top_k = self.top_k
                queue.submit(frame.image, submitted, (frame, t0, (t1 - t0) * 1e3))
                submitted += 1
                if live:
                    with ready:
                        ready.wait_for(lambda: emitted in done or queue.failed  # noqa: B023
                                       or self._stop.is_set())
                    queue.raise_pending()
                while True:
                    with ready:
                        item = done.pop(emitted, None)
                    if item is None:
                        break
                    yield self._result(engine, *item)
                    emitted += 1
            queue.wait()
            while emitted < submitted:
                yield self._result(engine, *done.pop(emitted))
                emitted += 1
            if failure is not None:
                raise failure
        finally:
            # Never leave requests in flight behind an abandoned loop: their completions
            # would run against a torn-down pipeline.
            queue.drain()

    def _result(self, engine: Engine, inference: Inference,
                extra: tuple[Frame, float, float], finished: float) -> FrameResult:
        frame, started, capture_ms = extra
        now = time.perf_counter()
        self.window.add(now, 1.0)
        self.infer_window.add(now, inference.infer_ms)
        totals = self.totals
        totals.frames += 1
        total_ms = (now - started) * 1e3
        totals.infer_ms.append(inference.infer_ms)
        totals.capture_ms.append(capture_ms)
        totals.post_ms.append(inference.post_ms)
        totals.total_ms.append(total_ms)
        return FrameResult(
            frame=frame, top=inference.top, infer_ms=inference.infer_ms,
            capture_ms=capture_ms, post_ms=inference.post_ms, total_ms=total_ms,
            fps=self.window.rate(), infer_p50_ms=self.infer_window.percentile(50),
            model_id=engine.model_id, precision=engine.precision,
            device=engine.executing_device,
        )
