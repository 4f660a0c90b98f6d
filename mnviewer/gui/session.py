"""One window's live session: the source, the frame hub, a pipeline per pane, engine loads.

Everything slow (opening a source, building and compiling a model) runs on a Task thread; the
GUI thread only starts tasks and reacts to their signals. A switch of model, precision or
device keeps the old engine running until the new one is compiled, then swaps it into the
running pipeline; a switch of source keeps the pipelines, which just read the new frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from PySide6.QtCore import QObject, Signal

from mnviewer.engine import Engine
from mnviewer.gui.hub import Capture, FrameHub, HubSubscriber, close_aside
from mnviewer.gui.models import EngineRequest, make_engine
from mnviewer.gui.opening import DEFAULT_IMAGE_SECONDS, open_default, open_spec
from mnviewer.gui.settings import DEFAULT_MODEL
from mnviewer.gui.slides import SlideShow
from mnviewer.gui.workers import QUEUED, PipelineWorker, Task
from mnviewer.pipeline import FrameResult, Pipeline
from mnviewer.sources import FrameSource, SourceInfo

PRIMARY, PARTNER = 0, 1
JOIN_S = 2.0


@dataclass
class _Pane:
    worker: PipelineWorker | None = None
    engine: Engine | None = None
    request: EngineRequest | None = None  # the newest one asked for, loaded or not
    generation: int = 0  # bumped by every load request: a late answer to an older one is dropped
    loading: str | None = None  # what the load in flight is doing ("building ..."), for the status


def _request_of(engine: Engine | None) -> EngineRequest | None:
    return None if engine is None else EngineRequest(engine.model_id, engine.precision,
                                                     engine.device)


def _open(spec: str | None, image_seconds: float, task: Task) -> tuple[str, FrameSource] | None:
    opened = open_default() if spec is None else (spec, open_spec(spec,
                                                                  image_seconds=image_seconds))
    if task.cancelled:
        opened[1].close()
        return None
    return opened


def _load(request: EngineRequest, task: Task) -> Engine:
    # Build steps (total 0) also go to a notice; the compile step (total 1) only to the status.
    return make_engine(request, progress=lambda text: task.report(0, 0, text),
                       compiling=lambda: task.report(1, 1, f"compiling {request.label}"))


class LiveSession(QObject):
    """Source and pipelines behind one window; pane 0 is the main view, pane 1 the partner."""

    notice = Signal(str, str)  # level ("info", "warning", "error"), text
    capture_event = Signal(str, str)  # kind and text, as Capture reports them (gui.hub)
    source_opened = Signal(str, object)  # spec, SourceInfo
    source_failed = Signal(str, str)  # spec ("" for the default source), message
    engine_ready = Signal(int, object)  # pane, Engine
    engine_failed = Signal(int, str)  # pane, message
    result_ready = Signal(int)  # pane
    paused_changed = Signal(bool)

    def __init__(self, top_k: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hub = FrameHub()
        self.spec: str | None = None
        self.capture: Capture | None = None
        self.paused = False
        self.top_k = top_k
        self.image_seconds = DEFAULT_IMAGE_SECONDS  # each picture of a slide show
        self._panes = [_Pane(), _Pane()]
        self._source_generation = 0
        self._comparing = False
        self._tasks: set[Task] = set()
        self._retired: set[PipelineWorker] = set()
        self._closed = False
        # Called with (pane, result) on the pipeline threads for every result (compare mode).
        self.observer: Callable[[int, FrameResult], None] | None = None

    # --- what the window reads -----------------------------------------------------------

    def take(self, pane: int) -> FrameResult | None:
        worker = self._panes[pane].worker
        return worker.take() if worker is not None else None

    def engine(self, pane: int) -> Engine | None:
        return self._panes[pane].engine

    def requested(self, pane: int) -> EngineRequest | None:
        """What the pane will run once loads in flight are done."""
        return self._panes[pane].request

    def loading(self) -> str | None:
        """What a model load in flight is doing (building, compiling), else None."""
        return next((p.loading for p in self._panes if p.loading), None)

    def frames(self, pane: int) -> int:
        worker = self._panes[pane].worker
        return worker.frames if worker is not None else 0

    @property
    def comparing(self) -> bool:
        return self._comparing

    @property
    def source_info(self) -> SourceInfo | None:
        return self.capture.source.info if self.capture is not None else None

    @property
    def source_fps(self) -> float:
        return self.capture.fps if self.capture is not None and not self.paused else 0.0

    @property
    def source_state(self) -> str:
        return self.capture.source.state if self.capture is not None else "opening"

    @property
    def source_losses(self) -> tuple[int, float]:
        """How often the live source came back after being lost, and the seconds it was lost."""
        if self.capture is None:
            return 0, 0.0
        return self.capture.source.reconnects, self.capture.source.lost_s

    @property
    def dropped(self) -> int:
        """Frames the source overwrote plus frames the main pipeline skipped."""
        total = self.capture.source.dropped if self.capture is not None else 0
        worker = self._panes[PRIMARY].worker
        if worker is not None:
            total += worker.pipeline.source.dropped
        return total

    # --- sources -------------------------------------------------------------------------

    def open(self, spec: str | None) -> None:
        """Open `spec` (None: first camera, else the demo video); the old source runs until then."""
        self._source_generation += 1
        task = Task(partial(_open, spec, self.image_seconds), "open source",
                    context=(self._source_generation, spec))
        task.succeeded.connect(self._on_source_opened, QUEUED)
        task.failed.connect(self._on_source_failed, QUEUED)
        self._start(task)

    def _on_source_opened(self, task: Task, value: tuple[str, FrameSource] | None) -> None:
        generation, _ = task.context
        if value is None:
            return
        spec, source = value
        if self._closed or generation != self._source_generation:
            close_aside(source)
            return
        if self.capture is not None:
            self.capture.stop()
        self.capture = Capture(source, self.hub, self.capture_event.emit)
        self.spec = spec
        self.set_paused(False)  # a new source is opened to be watched
        self.capture.start()
        self.source_opened.emit(spec, source.info)

    def _on_source_failed(self, task: Task, message: str) -> None:
        generation, spec = task.context
        if not self._closed and generation == self._source_generation:
            self.source_failed.emit(spec or "", message)

    @property
    def slides(self) -> SlideShow | None:
        """The running slide show, if the source is a picture or an image folder."""
        source = self.capture.source if self.capture is not None else None
        return source if isinstance(source, SlideShow) else None

    @property
    def passes(self) -> int:
        """How many times the running file source has started from its beginning."""
        return int(getattr(self.capture.source, "passes", 1)) if self.capture else 1

    def step(self, delta: int) -> bool:
        """Show the picture `delta` places on in a slide show; False if there is none."""
        slides = self.slides
        if slides is None:
            return False
        slides.step(delta)
        return True

    def set_image_seconds(self, seconds: float) -> None:
        self.image_seconds = seconds
        if self.slides is not None:
            self.slides.set_seconds(seconds)

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return
        self.paused = paused
        if self.capture is not None:
            self.capture.set_paused(paused)
        self.paused_changed.emit(paused)

    # --- engines and pipelines -----------------------------------------------------------

    def load(self, pane: int, request: EngineRequest) -> None:
        """Build and compile `request` in the background; the pane's current engine runs on."""
        state = self._panes[pane]
        state.generation += 1
        state.request = request
        state.loading = f"loading {request.label}"
        task = Task(partial(_load, request), f"load {request.label}",
                    context=(pane, state.generation, request))
        task.succeeded.connect(self._on_engine_loaded, QUEUED)
        task.failed.connect(self._on_engine_failed, QUEUED)
        task.progress.connect(self._on_load_progress, QUEUED)
        self._start(task)

    def _is_current(self, task: Task) -> bool:
        pane, generation, _ = task.context
        return not self._closed and generation == self._panes[pane].generation

    def _on_load_progress(self, task: Task, _done: int, total: int, text: str) -> None:
        if self._is_current(task):
            self._panes[task.context[0]].loading = text
            if total == 0:
                self.notice.emit("info", text)

    def _on_engine_loaded(self, task: Task, engine: Engine) -> None:
        if not self._is_current(task):
            return
        pane = task.context[0]
        state = self._panes[pane]
        state.engine = engine
        state.loading = None
        if state.worker is None:
            self._start_pipeline(pane, engine)
        else:
            state.worker.pipeline.swap_engine(engine)
            if self.paused:
                # The loop takes a swap after its current read: the first replay ends that
                # read, the second gives the frozen frame to the new engine.
                self._subscriber(state.worker).replay(2)
        self.engine_ready.emit(pane, engine)

    def _on_engine_failed(self, task: Task, message: str) -> None:
        if not self._is_current(task):
            return
        pane, _, request = task.context
        self._panes[pane].request = _request_of(self._panes[pane].engine)
        self._panes[pane].loading = None
        self.engine_failed.emit(pane, message)
        if pane == PRIMARY and self._panes[PRIMARY].engine is None:
            self._fall_back(request)

    def _fall_back(self, failed: EngineRequest) -> None:
        """With nothing running, try the CPU, then the default model."""
        if failed.device.upper() != "CPU":
            self.load(PRIMARY, replace(failed, device="CPU"))
        elif (failed.model, failed.precision) != (DEFAULT_MODEL, "int8"):
            self.load(PRIMARY, EngineRequest(DEFAULT_MODEL, "int8", "CPU"))

    def _start_pipeline(self, pane: int, engine: Engine) -> None:
        subscriber = self.hub.subscribe(f"pane {pane}")
        pipeline = Pipeline(subscriber, engine, top_k=self.top_k)
        worker = PipelineWorker(pipeline, f"pipeline {pane}", tag=pane)
        worker.observe = self._observe
        worker.result_ready.connect(self.result_ready, QUEUED)
        worker.failed.connect(self._on_pipeline_failed, QUEUED)
        worker.finished.connect(self._on_worker_finished, QUEUED)
        self._panes[pane].worker = worker
        worker.start()

    def _observe(self, pane: int, result: FrameResult) -> None:
        observer = self.observer
        if observer is not None:
            observer(pane, result)

    @staticmethod
    def _subscriber(worker: PipelineWorker) -> HubSubscriber:
        source = worker.pipeline.source
        assert isinstance(source, HubSubscriber)
        return source

    def _on_pipeline_failed(self, worker: PipelineWorker, message: str) -> None:
        state = self._panes[worker.tag]
        if self._closed or state.worker is not worker:
            return
        failed = _request_of(state.engine)
        self._retire(state)
        self.engine_failed.emit(worker.tag, f"inference stopped: {message}")
        if worker.tag == PRIMARY and failed is not None:
            self._fall_back(failed)

    def _retire(self, state: _Pane) -> None:
        if state.worker is not None:
            state.worker.stop()
            self._retired.add(state.worker)
        state.worker = None
        state.engine = None
        state.request = None

    def _on_worker_finished(self, worker: PipelineWorker) -> None:
        self._retired.discard(worker)

    def set_top_k(self, k: int) -> None:
        self.top_k = k
        for state in self._panes:
            if state.worker is not None:
                state.worker.pipeline.set_top_k(k)
                if self.paused:
                    self._subscriber(state.worker).replay(1)

    # --- compare mode --------------------------------------------------------------------

    def start_compare(self, partner: EngineRequest) -> None:
        """Feed the same frames to `partner` in pane 1, the two models taking turns."""
        self._comparing = True
        self.hub.set_exclusive(True)
        self.load(PARTNER, partner)

    def stop_compare(self) -> None:
        self._comparing = False
        state = self._panes[PARTNER]
        state.generation += 1  # a load still in flight is now stale
        self._retire(state)
        self.hub.set_exclusive(False)

    # --- lifetime ------------------------------------------------------------------------

    def _start(self, task: Task) -> None:
        self._tasks.add(task)
        task.finished.connect(self._on_task_finished, QUEUED)
        task.start()

    def _on_task_finished(self, task: Task) -> None:
        self._tasks.discard(task)

    def shutdown(self) -> None:
        """Stop every thread; returns once they ended (or JOIN_S passed for each)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        workers = [s.worker for s in self._panes if s.worker is not None]
        workers += list(self._retired)
        for worker in workers:
            worker.stop()
        if self.capture is not None:
            self.capture.stop()
        self.hub.close()
        for worker in workers:
            worker.join(JOIN_S)
        if self.capture is not None:
            self.capture.join(JOIN_S)
