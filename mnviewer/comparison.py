"""Any two variants side by side: variant specs, paired statistics and the paired frame loop.

A variant is a model (catalog or imported) x precision x device, written on the command line
as SPEC = ``model[:precision[:device]]``. Side A is the one the numbers speak for: the speed-up
is B's latency over A's (above 1: A is faster) and the MAC ratio is B's MACs over A's.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mnviewer.errors import DeviceError, UsageError

if TYPE_CHECKING:
    from mnviewer.engine import Engine, Inference
    from mnviewer.sources import Frame, FrameSource

DEFAULT_PRECISION = "int8"
DEFAULT_DEVICE = "CPU"


@dataclass(frozen=True)
class VariantSpec:
    """One variant: what runs (model id), in which precision, on which device."""

    model_id: str
    precision: str = DEFAULT_PRECISION
    device: str = DEFAULT_DEVICE

    def __str__(self) -> str:
        return f"{self.model_id}:{self.precision}:{self.device}"

    @property
    def label(self) -> str:
        """E.g. 'mobilenet-v1-0.25-128 int8 CPU'."""
        return f"{self.model_id} {self.precision} {self.device}"


def parse_variant(text: str) -> VariantSpec:
    """'model[:precision[:device]]' -> VariantSpec (defaults int8, or fp32 for a model that
    has no int8 build, and CPU).

    Raises UsageError naming the unknown model, precision or device and listing the choices.
    The device part may itself hold colons (``HETERO:GPU,CPU``).
    """
    from mnviewer.models.catalog import PRECISIONS, load_catalog

    parts = text.strip().split(":", 2)
    model_id = parts[0].strip()
    if not model_id:
        raise UsageError(f"variant '{text}' names no model: write model[:precision[:device]]")
    spec = load_catalog().get(model_id)  # UsageError listing the known ids
    available = spec.precisions
    default = next((p for p in (DEFAULT_PRECISION, "fp32", "fp16") if p in available),
                   DEFAULT_PRECISION)
    precision = parts[1].strip().lower() if len(parts) > 1 and parts[1].strip() else default
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision '{precision}' in variant '{text}': choose one of "
                         f"{', '.join(PRECISIONS)}")
    if precision not in available:
        raise UsageError(f"{model_id} has no {precision} build (a float model imported without "
                         f"calibration images) in variant '{text}': choose one of "
                         f"{', '.join(available)}")
    device = parts[2].strip() if len(parts) > 2 and parts[2].strip() else DEFAULT_DEVICE
    return VariantSpec(model_id, precision, _check_device(device, text))


def _check_device(device: str, text: str) -> str:
    from mnviewer.engine import check_device

    try:
        return check_device(device)
    except DeviceError as exc:
        raise UsageError(f"in variant '{text}': {exc}") from exc


class _EngineLike(Protocol):
    model_id: str
    precision: str
    executing_device: str
    macs: int
    params: int


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its variant, the device that executes it, its cost."""

    spec: VariantSpec
    device: str  # the device that executes (differs from spec.device for AUTO)
    macs: int
    params: int

    @classmethod
    def of_engine(cls, engine: _EngineLike, spec: VariantSpec | None = None) -> Side:
        spec = spec or VariantSpec(engine.model_id, engine.precision, engine.executing_device)
        return cls(spec, engine.executing_device, int(engine.macs), int(engine.params))


class ComparisonStats:
    """Accumulates per-frame pairs (top-1 index and latency of each side).

    Not thread-safe: feed it from one thread. `add` is cheap (two appends and a compare);
    percentiles are computed when asked for. With `window`, latencies are the last `window`
    frames' (for a live display); frames and agreement always count every frame since the
    start or the last `reset`.
    """

    def __init__(self, a: Side, b: Side, *, window: int | None = None):
        self.a = a
        self.b = b
        self.window = window
        self._lat_a: array | deque[float] = array("d") if window is None else deque(maxlen=window)
        self._lat_b: array | deque[float] = array("d") if window is None else deque(maxlen=window)
        self.frames = 0
        self.disagreements = 0

    @property
    def same_variant(self) -> bool:
        return self.a.spec == self.b.spec

    def add(self, a_top1: int, a_ms: float, b_top1: int, b_ms: float) -> bool:
        """Record one frame; returns whether both sides named the same class."""
        self._lat_a.append(a_ms)
        self._lat_b.append(b_ms)
        self.frames += 1
        agree = a_top1 == b_top1
        if not agree:
            self.disagreements += 1
        return agree

    def reset(self) -> None:
        for values in (self._lat_a, self._lat_b):
            if isinstance(values, array):
                del values[:]
            else:
                values.clear()
        self.frames = self.disagreements = 0

    def latency_ms(self, side: str) -> dict[str, float]:
        """{'p50', 'p90'} of side 'a' or 'b' over every frame so far."""
        from mnviewer.pipeline import percentiles

        return percentiles(self._lat_a if side == "a" else self._lat_b, (50, 90))

    @property
    def top1_agreement(self) -> float | None:
        """Share of frames where both named the same class (None before the first frame)."""
        if not self.frames:
            return None
        return round((self.frames - self.disagreements) / self.frames, 4)

    @property
    def speedup(self) -> float | None:
        """B's median latency over A's (above 1: A is faster); None until both are measured."""
        a, b = self.latency_ms("a")["p50"], self.latency_ms("b")["p50"]
        if a <= 0 or b <= 0:
            return None
        return round(b / a, 3)

    @property
    def mac_ratio(self) -> float | None:
        """B's MACs over A's (above 1: A needs fewer)."""
        if not self.a.macs or not self.b.macs:
            return None
        return round(self.b.macs / self.a.macs, 3)

    def _side_json(self, side: Side, key: str) -> dict[str, Any]:
        return {"id": side.spec.model_id, "precision": side.spec.precision,
                "device": side.device, "latency_ms": self.latency_ms(key),
                "macs": side.macs, "params": side.params}

    def to_json(self) -> dict[str, Any]:
        return {"frames": self.frames, "a": self._side_json(self.a, "a"),
                "b": self._side_json(self.b, "b"), "speedup": self.speedup,
                "mac_ratio": self.mac_ratio, "top1_agreement": self.top1_agreement,
                "disagreements": self.disagreements}


def headline(stats: ComparisonStats, where: str = "") -> str:
    """E.g. 'A: 3.6× fewer MACs → 2.9× faster · top-1 agreement 97.0% (3 of 100 frames
    differ)'; `where` (e.g. ' on this CPU') follows the verdict. Says 'measuring…' until both
    sides have latencies.
    """
    ratio = stats.mac_ratio
    if ratio is None:
        macs = "MACs unknown"
    elif abs(ratio - 1) < 0.005:
        macs = "same MACs"
    elif ratio > 1:
        macs = f"{ratio:.1f}× fewer MACs"
    else:
        macs = f"{1 / ratio:.1f}× more MACs"
    speed = stats.speedup
    if speed is None:
        return f"A: {macs} → measuring…"
    verdict = f"{speed:.2f}× faster" if speed >= 1 else f"{1 / speed:.2f}× slower"
    agreement = stats.top1_agreement or 0.0
    return (f"A: {macs} → {verdict}{where} · top-1 agreement {agreement:.1%} "
            f"({stats.disagreements} of {stats.frames} frames differ)")


def summary_text(stats: ComparisonStats) -> str:
    """The header for a terminal: both variants with their latencies, then the headline."""
    lines = []
    for key, side in (("a", stats.a), ("b", stats.b)):
        lat = stats.latency_ms(key)
        lines.append(f"{key.upper()}: {side.spec.model_id} {side.spec.precision} on "
                     f"{side.device}: p50 {lat['p50']:.2f} ms, p90 {lat['p90']:.2f} ms, "
                     f"{side.macs / 1e6:.1f} M MACs, {side.params / 1e6:.2f} M params")
    where = ""
    if stats.a.device == stats.b.device:
        from mnviewer.engine import device_name

        first = stats.a.device.split(",")[0]
        name = device_name(first)
        where = f" on this {first}" + (f" ({name})" if name and name != first else "")
    lines.append(headline(stats, where))
    return "\n".join(lines)


@dataclass(frozen=True)
class PairResult:
    """One frame and what each side made of it."""

    frame: Frame
    a: Inference
    b: Inference

    @property
    def agree(self) -> bool:
        return self.a.top[0].index == self.b.top[0].index


class PairPipeline:
    """Runs every frame of a source through two engines; iterate to get PairResults in order.

    The two take turns on each frame (A, then B, then A on the next frame...), both through
    their own asynchronous queue of one request: neither side's latency includes the other's
    work, and the next frame is read while the device runs (during A's request on even
    frames, during B's on odd ones, so that both share the decoding's cost). A pair costs
    the sum of the two latencies. The first frame also goes once through each side before
    counting (`warmup`), so that first-request set-up stays out of the latencies. `stop` may
    be called from any thread.

    overlap_read (default: for sources that are not live) reads the next frame while a side
    runs; a live or paced source, whose read waits for the next frame, is read after both
    sides are done, so that each pair is shown as soon as it is ready.
    """

    def __init__(self, source: FrameSource, engine_a: Engine, engine_b: Engine, *,
                 top_k: int = 1, max_frames: int | None = None, warmup: bool = True,
                 overlap_read: bool | None = None):
        self.source = source
        self.warmup = warmup
        self.overlap_read = not source.info.live if overlap_read is None else overlap_read
        self.engines = (engine_a, engine_b)
        self.top_k = top_k
        self.max_frames = max_frames
        self.frames = 0
        self._stop = threading.Event()
        self._ready = threading.Condition()
        self.started = self.finished = 0.0

    def stop(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()

    @property
    def wall_s(self) -> float:
        return max(0.0, (self.finished or time.perf_counter()) - self.started)

    def __iter__(self) -> Iterator[PairResult]:
        ready = self._ready
        done: list[dict[int, Inference]] = [{}, {}]

        def on_result(side: int) -> Any:
            def store(inference: Inference, _extra: object) -> None:
                with ready:
                    done[side][inference.frame_id] = inference
                    ready.notify_all()
            return store

        def on_error() -> None:
            with ready:
                ready.notify_all()

        queues = [engine.async_queue(on_result(i), self.top_k, jobs=1, on_error=on_error)
                  for i, engine in enumerate(self.engines)]

        def wait_for(side: int, frame_id: int) -> Inference | None:
            with ready:
                ready.wait_for(lambda: frame_id in done[side] or queues[side].failed
                               or self._stop.is_set())
                queues[side].raise_pending()
                return done[side].pop(frame_id, None)

        self.started = time.perf_counter()
        try:
            frame = self.source.read()
            if frame is not None and self.warmup:
                for side in (0, 1):
                    queues[side].submit(frame.image, -1)
                    wait_for(side, -1)
                self.started = time.perf_counter()  # the rate counts compared frames only
            index = 0
            while frame is not None and not self._stop.is_set():
                more = self.max_frames is None or index + 1 < self.max_frames
                following = None
                got: list[Inference | None] = [None, None]
                for side in (0, 1):
                    queues[side].submit(frame.image, index)
                    if more and self.overlap_read and side == index % 2:
                        # Decoded while one side runs, A and B in turn: both share its cost.
                        following = self.source.read()
                    got[side] = wait_for(side, index)
                    if got[side] is None:
                        break
                a, b = got
                if a is None or b is None:
                    break
                self.frames += 1
                yield PairResult(frame, a, b)
                if more and not self.overlap_read:
                    following = self.source.read()
                frame = following
                index += 1
        finally:
            self.finished = time.perf_counter()
            for queue in queues:
                queue.drain()
