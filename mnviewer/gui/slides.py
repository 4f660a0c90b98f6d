"""How the app plays files: image folders as a slide show one can step through, and videos that
loop and count their passes so the window can say so.

Qt-free: both are FrameSources read on the capture thread.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnviewer.errors import SourceError
from mnviewer.sources import (
    Frame,
    FrameSource,
    SourceEvent,
    SourceInfo,
    read_image,
)
from mnviewer.sources.files import _folder_images

# Positions remembered for frames still on their way to the screen.
_KEPT_POSITIONS = 64


def list_images(folder: Path) -> list[Path]:
    """The folder's images in name order, listed as the image folder source lists them."""
    return _folder_images(folder)


@dataclass(frozen=True)
class Slide:
    """Where a frame of a slide show comes from."""

    position: int  # 0-based
    count: int
    path: Path

    @property
    def label(self) -> str:
        return f"{self.position + 1}/{self.count} · {self.path.name}"


def _first_readable(paths: list[Path], name: str) -> tuple[int, np.ndarray]:
    for position, path in enumerate(paths):
        try:
            return position, read_image(path)
        except SourceError:
            continue
    raise SourceError(f"no picture in {name} is readable: choose another folder")


class SlideShow(FrameSource):
    """Pictures one after another, each on screen for `seconds`; step() goes to the next or
    previous one at once. It paces and pauses itself, so a step also works while paused.

    An unreadable picture is skipped with a "skipped" SourceEvent.
    """

    self_paced = True  # the capture thread keeps reading while paused

    def __init__(self, paths: list[Path], name: str, seconds: float) -> None:
        self.paths = paths
        self.seconds = seconds
        self.passes = 1  # how many times the show has started from its first picture
        self._cond = threading.Condition()
        self._paused = False
        self._target: int | None = 0  # the next picture to show, None: wait for the time
        self._direction = 1
        self._position = 0
        self._due = 0.0
        self._seq = 0
        self._start = time.monotonic()
        self._slides: OrderedDict[int, Slide] = OrderedDict()
        self._warned: set[Path] = set()  # unreadable pictures already reported
        # The first readable picture gives the size; unreadable ones before it are skipped
        # (and said) when the show reaches them, like any other.
        self._first_at, first = _first_readable(paths, name)
        self._first: np.ndarray | None = first
        height, width = first.shape[:2]
        self.info = SourceInfo("images", name, width, height, 1.0 / seconds, len(paths),
                               live=False)

    # --- commands, from the GUI thread ---------------------------------------------------

    def step(self, delta: int) -> None:
        """Show the picture `delta` places on (negative: back) now."""
        with self._cond:
            base = self._target if self._target is not None else self._position
            self._target = base + delta
            self._direction = 1 if delta >= 0 else -1
            self._cond.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._due = time.monotonic() + self.seconds  # a full dwell after resuming
            self._cond.notify_all()

    def set_seconds(self, seconds: float) -> None:
        with self._cond:
            self._due += seconds - self.seconds
            self.seconds = seconds
            self._cond.notify_all()

    def slide(self, frame_index: int) -> Slide | None:
        """Which picture the frame with that index shows (recent frames only)."""
        with self._cond:
            return self._slides.get(frame_index)

    # --- reading, on the capture thread --------------------------------------------------

    def read(self) -> Frame | None:
        failures = 0
        while True:
            target = self._wait_for_turn()
            if target is None:
                return None
            position = target % len(self.paths)
            try:
                image = self._decode(position)
            except SourceError as exc:
                failures += 1
                if failures >= len(self.paths):
                    raise SourceError(f"no picture in {self.info.name} is readable: choose "
                                      "another folder") from None
                if self.paths[position] not in self._warned:  # once, not at every pass
                    self._warned.add(self.paths[position])
                    self._emit(SourceEvent("skipped", str(exc)))
                with self._cond:
                    if self._target is None:  # skip it, in the direction of travel
                        self._target = target + self._direction
                        self._position = position
                continue
            return self._deliver(target, position, image)

    def _wait_for_turn(self) -> int | None:
        with self._cond:
            while not self._closed:
                if self._target is not None:
                    target, self._target = self._target, None
                    return target
                remaining = self._due - time.monotonic()
                if not self._paused and remaining <= 0:
                    self._direction = 1
                    return self._position + 1
                self._cond.wait(None if self._paused else remaining)
            return None

    def _decode(self, position: int) -> np.ndarray:
        if self._first is not None and position == self._first_at:
            image, self._first = self._first, None
            return image
        return read_image(self.paths[position])

    def _deliver(self, target: int, position: int, image: np.ndarray) -> Frame:
        with self._cond:
            if target >= len(self.paths) and len(self.paths) > 1:
                self.passes += 1  # past the last picture: from the first again
            self._position = position
            self._due = time.monotonic() + self.seconds
            self._seq += 1
            self._slides[self._seq] = Slide(position, len(self.paths), self.paths[position])
            while len(self._slides) > _KEPT_POSITIONS:
                self._slides.popitem(last=False)
            return Frame(self._seq, (time.monotonic() - self._start) * 1000.0, image)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._first = None
            self._cond.notify_all()


class LoopingVideo(FrameSource):
    """A video file played again from its start each time it ends; `passes` counts the plays.

    Each pass is the file opened afresh (the one rewind every backend supports); frame
    indices and times go on rising across passes.
    """

    def __init__(self, spec: str, opener: Callable[[str], FrameSource]) -> None:
        self._spec = spec
        self._open = opener  # one pass of the file
        self._inner: FrameSource = opener(spec)
        self._truncated = False
        self._index_base = 0
        self._t_base = 0.0
        self._last: Frame | None = None
        self.passes = 1
        self.info = self._inner.info

    @property
    def truncated(self) -> bool:
        return self._truncated or self._inner.truncated

    def read(self) -> Frame | None:
        frame = self._inner.read()
        if frame is None:
            if self._closed or self._last is None:
                return None  # closed, or a pass gave nothing: playing it again would spin
            self._truncated = self.truncated
            self._inner.close()
            self._inner = self._open(self._spec)
            self._index_base = self._last.index + 1
            self._t_base = self._last.t_ms + 1000.0 / (self.info.fps or 30.0)
            self._last = None
            self.passes += 1
            frame = self._inner.read()
            if frame is None:
                return None
        frame = Frame(self._index_base + frame.index, self._t_base + frame.t_ms, frame.image)
        self._last = frame
        return frame

    def close(self) -> None:
        self._closed = True
        self._inner.close()
