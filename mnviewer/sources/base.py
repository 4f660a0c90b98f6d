"""Frame-source types shared by every kind of source, and pixel normalisation."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

import cv2
import numpy as np

from mnviewer.errors import SourceError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 5.0
_JOIN_TIMEOUT_S = 2.0
# A file whose decoding stops this far short of its declared frame count is called truncated.
# Containers without an exact count report duration * fps, which can be off by a few percent.
_TRUNCATION_TOLERANCE = 0.05
# Pacing for a live file whose container does not say its frame rate.
_FALLBACK_FPS = 30.0


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its number from this source, its time and a BGR uint8 image."""

    index: int
    t_ms: float
    image: np.ndarray


@dataclass(frozen=True)
class SourceInfo:
    """What a source delivers (read back from the device or file, not what was asked for)."""

    kind: str  # "camera" | "video" | "images" | "stream"
    name: str
    width: int
    height: int
    fps: float | None
    frame_count: int | None
    live: bool


@dataclass(frozen=True)
class SourceEvent:
    """Something a consumer may want to say: an image skipped, a live source lost or back."""

    kind: str  # "skipped" | "lost" | "back"
    text: str  # one line naming the source and what happened
    gap_s: float | None = None  # "back": how long the source was lost


_events_lock = threading.Lock()
_HELD_EVENTS = 50


class FrameSource(ABC):
    """Frames from one source. Use as a context manager; iterating yields frames until the end."""

    info: SourceInfo
    _closed = False
    _listener: Callable[[SourceEvent], None] | None = None
    _held: list[SourceEvent] | None = None

    def listen(self, listener: Callable[[SourceEvent], None] | None) -> None:
        """Call listener(event) for each SourceEvent, starting with those held since opening.

        Live sources call it from their capture thread.
        """
        with _events_lock:
            self._listener = listener
            held, self._held = self._held or [], None
        if listener is not None:
            for event in held:
                listener(event)

    def _emit(self, event: SourceEvent) -> None:
        with _events_lock:
            listener = self._listener
            if listener is None:
                # Nobody listens yet: keep the latest few for whoever starts to.
                self._held = [*(self._held or []), event][-_HELD_EVENTS:]
                return
        listener(event)

    def prefer_min_side(self, side: int | None) -> None:
        """A hint: frames whose short side is `side` are enough (image files decode smaller)."""
        return None

    @property
    def reconnects(self) -> int:
        """How often a live source came back after being lost."""
        return 0

    @property
    def lost_s(self) -> float:
        """Seconds a live source has spent lost, the current loss included."""
        return 0.0

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None at the end of a file source or after close().

        Live sources wait up to timeout_s for a frame newer than the last one returned and
        raise SourceLost if none comes; the source keeps reconnecting and can be read again.
        """

    @abstractmethod
    def close(self) -> None:
        """Stop any capture thread and release the device or file. Safe to call twice."""

    @property
    def state(self) -> str:
        """One of "running", "reconnecting" (live sources only) or "closed"."""
        return "closed" if self._closed else "running"

    @property
    def dropped(self) -> int:
        """Frames a live source overwrote before they were read; 0 for file sources."""
        return 0

    @property
    def truncated(self) -> bool:
        """True if a video file ended well before its declared frame count."""
        return False

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame


class SourceLost(SourceError):
    """A live source sent no frame for timeout_s; it keeps reconnecting and may come back."""


# --- pixel normalisation -------------------------------------------------------------------


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Return image as HxWx3 uint8 BGR, C-contiguous; one already in that form comes back as is."""
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return image if image.flags.c_contiguous else np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype.kind == "f":
        # Float images (TIFF, EXR) hold 0..1 by convention.
        image = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"unsupported pixel type {image.dtype}")
    return np.ascontiguousarray(image)


def _one_line(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    lines = str(error).strip().splitlines()
    return lines[-1].strip() if lines else type(error).__name__


# --- pacing --------------------------------------------------------------------------------


class _Pacer:
    """Holds frames back so they come out no faster than their media timestamps."""

    def __init__(self, sleep: Callable[[float], object] = time.sleep) -> None:
        self._sleep = sleep
        self._clock_base: float | None = None
        self._media_base = 0.0

    def wait(self, media_ms: float) -> None:
        now = time.monotonic()
        if self._clock_base is not None:
            due = self._clock_base + (media_ms - self._media_base) / 1000.0
            if due > now:
                self._sleep(due - now)
                return
        # First frame, or the consumer fell behind: restart the schedule here rather than
        # bursting frames to catch up.
        self._clock_base, self._media_base = now, media_ms


