"""The status bar: source resolution and frame rate, dropped frames, displayed FPS, state;
a busy bar while a model is built or compiled."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from mnviewer.gui.opening import describe
from mnviewer.gui.session import LiveSession
from mnviewer.pipeline import FrameResult

DROPPED_WINDOW_S = 10.0


class RecentCount:
    """How much a running total grew over the last `seconds` (a total that falls, as when a
    new source starts counting from 0, starts the window again)."""

    def __init__(self, seconds: float = DROPPED_WINDOW_S) -> None:
        self.seconds = seconds
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, now: float, total: int) -> int:
        """Record `total` at time `now`; returns its growth over the window."""
        samples = self._samples
        if samples and total < samples[-1][1]:
            samples.clear()
        samples.append((now, total))
        while samples[0][0] < now - self.seconds:
            samples.popleft()
        return total - samples[0][1]


class StatusLine:
    """Permanent labels in a status bar, refreshed by the window's timer."""

    def __init__(self, bar: QStatusBar) -> None:
        self.labels = {name: QLabel() for name in ("source", "loading", "dropped", "display",
                                                    "state")}
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no end known: an animated busy bar
        self.busy.setMaximumWidth(80)
        self.busy.setTextVisible(False)
        for name, label in self.labels.items():
            if name == "loading":
                bar.addPermanentWidget(self.busy)
            bar.addPermanentWidget(label, 1 if name == "source" else 0)
        self.dropped = RecentCount()
        self.labels["dropped"].setToolTip(
            f"Frames skipped over the last {DROPPED_WINDOW_S:g} s because the model was busy "
            "(a live source keeps only its newest frame)")
        self._show_loading(None)

    def _show_loading(self, text: str | None) -> None:
        self.labels["loading"].setText(f"{text}…" if text else "")
        self.labels["loading"].setVisible(bool(text))
        self.busy.setVisible(bool(text))

    def refresh(self, session: LiveSession, displayed_fps: float,
                shown: FrameResult | None = None) -> None:
        """`shown` is the result on screen: its picture's own size and place in a folder."""
        self.labels["source"].setText(source_text(session, shown))
        self._show_loading(session.loading())
        recent = self.dropped.add(time.monotonic(), session.dropped)
        self.labels["dropped"].setText(f"dropped {recent} in {DROPPED_WINDOW_S:g} s")
        self.labels["display"].setText(f"display {displayed_fps:.1f} fps")
        self.labels["state"].setText("paused" if session.paused else session.source_state)


def source_text(session: LiveSession, shown: FrameResult | None) -> str:
    """What the source is and delivers: for a folder the picture's place (3/100), name and
    size; for a video its size, frame rate and how many times it has played."""
    info = session.source_info
    if info is None:
        return ""
    parts = [describe(session.spec or "")]
    width, height = info.width, info.height
    if shown is not None:
        height, width = shown.frame.image.shape[:2]
    slides = session.slides
    slide = slides.slide(shown.frame.index) if slides is not None and shown else None
    if slide is not None:
        parts.append(slide.label)
    parts.append(f"{width}×{height}")
    if slides is None:
        nominal = f"{info.fps:.2f} fps" if info.fps else "fps unknown"
        parts.append(f"{nominal} (measured {session.source_fps:.1f})")
    if session.passes > 1:
        parts.append(f"pass {session.passes}")
    return " · ".join(parts)
