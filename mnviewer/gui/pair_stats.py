"""Figures of two variants running on the same frames: latencies, top-1 agreement. Qt-free.

Results arrive from the two pipeline threads; a frame counts once both sides have classified
it (the frame hub hands both the same frames in compare mode).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from mnviewer.engine import Engine
from mnviewer.pipeline import FrameResult, percentiles
from mnviewer.sources import Frame

LATENCY_WINDOW = 300  # newest latencies per side behind p50/p90: about ten seconds at 30 FPS
MIN_SAMPLES = 3  # latencies per side before the figures are shown


@dataclass(frozen=True)
class Variant:
    """One side of a pair: what runs and what it costs."""

    model: str
    precision: str
    device: str  # the device that executes
    macs: int
    params: int

    @classmethod
    def of(cls, engine: Engine) -> Variant:
        return cls(engine.model_id, engine.precision, engine.executing_device, engine.macs,
                   engine.params)

    @property
    def label(self) -> str:
        return f"{self.model} {self.precision} {self.device}"

    def ran(self, result: FrameResult) -> bool:
        return (result.model_id, result.precision, result.device) == \
            (self.model, self.precision, self.device)


@dataclass(frozen=True)
class PairFigures:
    """What the compare header shows; latencies in milliseconds."""

    a: Variant
    b: Variant
    frames: int  # frames both sides classified
    agreed: int  # of those, frames with the same top-1 class
    latency_a: dict[str, float]  # p50, p90
    latency_b: dict[str, float]

    @property
    def disagreed(self) -> int:
        return self.frames - self.agreed

    @property
    def top1_agreement(self) -> float:
        return self.agreed / self.frames if self.frames else 0.0

    @property
    def speedup(self) -> float:
        """How many times faster side a runs than side b (p50 against p50)."""
        return self.latency_b["p50"] / self.latency_a["p50"] if self.latency_a["p50"] else 0.0

    @property
    def mac_ratio(self) -> float:
        """MACs of side b over MACs of side a."""
        return self.b.macs / self.a.macs if self.a.macs else 0.0


class PairTracker:
    """Collects both sides' results; `figures()` is None until both have MIN_SAMPLES."""

    def __init__(self, a: Variant, b: Variant) -> None:
        self.sides = (a, b)
        self._lock = threading.Lock()
        self._latencies: tuple[deque[float], deque[float]] = (
            deque(maxlen=LATENCY_WINDOW), deque(maxlen=LATENCY_WINDOW))
        self._waiting: list[tuple[Frame, str] | None] = [None, None]  # a side's newest top-1
        self._frames = 0
        self._agreed = 0

    def add(self, pane: int, result: FrameResult) -> None:
        """Called from pane's pipeline thread; results of another variant are ignored."""
        if not self.sides[pane].ran(result):
            return  # an engine being swapped out still finishing its last frame
        label = result.top[0].label if result.top else ""
        with self._lock:
            self._latencies[pane].append(result.infer_ms)
            other = self._waiting[1 - pane]
            if other is not None and other[0] is result.frame:
                self._frames += 1
                self._agreed += other[1] == label
                self._waiting[1 - pane] = None
            else:
                self._waiting[pane] = (result.frame, label)

    def figures(self) -> PairFigures | None:
        with self._lock:
            if min(len(lat) for lat in self._latencies) < MIN_SAMPLES:
                return None
            lat_a, lat_b = (percentiles(lat, (50, 90)) for lat in self._latencies)
            return PairFigures(*self.sides, frames=self._frames, agreed=self._agreed,
                               latency_a=lat_a, latency_b=lat_b)
