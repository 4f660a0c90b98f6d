"""One frame-source interface over cameras, video files, image files or folders and stream URLs.

`open_source` parses what the user gave and returns a `FrameSource`. File sources return every
frame in order; live sources (cameras, streams, or a file opened with ``live=True``) keep only
the newest frame, so a slow consumer skips frames instead of falling behind.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from mnviewer.errors import SourceError, UsageError

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


class FrameSource(ABC):
    """Frames from one source. Use as a context manager; iterating yields frames until the end."""

    info: SourceInfo
    _closed = False

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


def open_source(
    spec: str | int,
    *,
    realtime: bool = False,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    timeout_s: float = 10.0,
    loop: bool = False,
    live: bool = False,
) -> FrameSource:
    """Open a camera index, stream URL, image file or folder, or video file.

    width/height/fps are requests to a camera; fps also times image sources. realtime paces
    a video file at its native rate; loop rewinds files at their end; live reads a video file
    as if it were a camera (newest frame only). timeout_s bounds opening and waiting for frames.
    """
    if isinstance(spec, str) and not spec.strip():
        raise UsageError("no source given: pass a camera index, video file, folder or URL")
    if isinstance(spec, int) or spec.strip().isdigit():
        index = int(spec)
        return _open_camera(index, width, height, fps, timeout_s)
    if "://" in spec:
        return _open_stream(spec, timeout_s)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _ImageSource(_folder_images(path), spec, fps=fps, realtime=realtime, loop=loop)
    if not path.exists():
        what = "image" if _is_image(path) else "video"
        raise SourceError(f"{what} file {spec} not found: check the path")
    if not path.is_file():
        # A device node such as /dev/video0 on Linux.
        return _open_camera(str(path), width, height, fps, timeout_s)
    if _is_image(path):
        if live:
            raise UsageError(f"{spec} is an image: live mode needs a video file, camera or stream")
        return _ImageSource([path], spec, fps=fps, realtime=realtime, loop=loop)
    if live:
        return _open_live_file(path, spec, timeout_s=timeout_s, loop=loop)
    return _VideoFileSource(path, spec, realtime=realtime, loop=loop)


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


def _as_array(image: Any) -> np.ndarray:
    return image if isinstance(image, np.ndarray) else np.asarray(image)


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


# --- image files and folders ---------------------------------------------------------------


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _folder_images(folder: Path) -> list[Path]:
    # Dot files are skipped: macOS leaves unreadable "._name.jpg" resource forks beside images.
    paths = sorted(
        p for p in folder.iterdir() if p.is_file() and _is_image(p) and not p.name.startswith(".")
    )
    if not paths:
        kinds = ", ".join(sorted(IMAGE_EXTENSIONS))
        raise SourceError(f"folder {folder} has no images ({kinds}): choose a folder of images")
    return paths


def _read_image(path: Path) -> np.ndarray:
    # imdecode from bytes, not imread: imread cannot open non-ASCII paths on Windows.
    try:
        data = np.fromfile(path, dtype=np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
        if image is None:
            raise ValueError("OpenCV cannot decode it")
        return to_bgr8(_as_array(image))
    except (OSError, ValueError, cv2.error) as error:
        raise SourceError(
            f"image {path} is not readable ({_one_line(error)}): replace or remove it"
        ) from None


class _ImageSource(FrameSource):
    """Image files, one frame each, in sorted order."""

    def __init__(
        self, paths: list[Path], name: str, *, fps: float | None, realtime: bool, loop: bool
    ) -> None:
        self._paths = paths
        self._first: np.ndarray | None = _read_image(paths[0])
        self._loop = loop
        self._fps = fps if fps and fps > 0 else None
        self._pacer = _Pacer() if realtime and self._fps else None
        self._index = 0
        height, width = self._first.shape[:2]
        count = None if loop else len(paths)
        self.info = SourceInfo("images", name, width, height, self._fps, count, live=False)

    def read(self) -> Frame | None:
        if self._closed or (self._index >= len(self._paths) and not self._loop):
            return None
        index = self._index
        # Move past this image first: an unreadable one raises once, and the next read goes on.
        self._index += 1
        if self._first is not None:
            image, self._first = self._first, None
        else:
            image = _read_image(self._paths[index % len(self._paths)])
        t_ms = index * 1000.0 / self._fps if self._fps else 0.0
        frame = Frame(index, t_ms, image)
        if self._pacer is not None:
            self._pacer.wait(t_ms)
        return frame

    def close(self) -> None:
        self._closed = True
        self._first = None


# --- video files ---------------------------------------------------------------------------


def _open_video(path: Path, name: str) -> cv2.VideoCapture:
    # One decoder thread: inference keeps every core busy, and FFmpeg's frame threads cost
    # about 30% more CPU per frame for the same work (0.48 vs 0.33 ms on the demo video).
    cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    if not cap.isOpened():
        cap.release()
        raise SourceError(
            f"{name} is not a readable video (OpenCV cannot open it: not a video, no video "
            "track, or cut short): choose a video file OpenCV can decode"
        )
    return cap


def _read_first(cap: cv2.VideoCapture, name: str) -> np.ndarray:
    ok, image = cap.read()
    if ok and image is not None:
        return to_bgr8(_as_array(image))
    declared = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    cap.release()
    if declared <= 0:
        raise SourceError(f"{name} has no frames: choose another video")
    raise SourceError(
        f"{name} is not a readable video (its first frame does not decode): "
        "choose a video file OpenCV can decode"
    )


def _positive(value: float) -> float | None:
    return value if math.isfinite(value) and value > 0 else None


class _VideoFileSource(FrameSource):
    """Every frame of a video file, in order; optionally paced at native speed or looped."""

    def __init__(self, path: Path, name: str, *, realtime: bool, loop: bool) -> None:
        self._path, self._loop = path, loop
        self._cap: cv2.VideoCapture | None = _open_video(path, name)
        self._pending: np.ndarray | None = _read_first(self._cap, name)
        fps = _positive(self._cap.get(cv2.CAP_PROP_FPS))
        count = _positive(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._frame_count = int(count) if count else None
        self._period_ms = 1000.0 / fps if fps else 0.0
        self._pacer = _Pacer() if realtime else None
        self._index = 0
        self._pass_frames = 0
        self._t_offset = 0.0
        self._t_last: float | None = None
        self._truncated = False
        height, width = self._pending.shape[:2]
        self.info = SourceInfo("video", name, width, height, fps, self._frame_count, live=False)

    @property
    def truncated(self) -> bool:
        return self._truncated

    def read(self) -> Frame | None:
        image = self._next_image()
        if image is None:
            return None
        frame = Frame(self._index, self._media_ms(), image)
        self._index += 1
        self._pass_frames += 1
        if self._pacer is not None:
            self._pacer.wait(frame.t_ms)
        return frame

    def _next_image(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        if self._pending is not None:
            image, self._pending = self._pending, None
            return image
        ok, image = self._cap.read()
        if ok and image is not None:
            return to_bgr8(_as_array(image))
        self._end_of_pass()
        if not self._loop or not self._rewind():
            self._release()
            return None
        return self._next_image()

    def _end_of_pass(self) -> None:
        declared = self._frame_count
        if declared and self._pass_frames < declared * (1 - _TRUNCATION_TOLERANCE):
            self._truncated = True

    def _rewind(self) -> bool:
        if self._pass_frames == 0:  # nothing decodes any more; looping would spin
            return False
        # Reopening is the one rewind every backend supports; seeking to frame 0 is not.
        if self._cap is not None:
            self._cap.release()
        self._cap = cv2.VideoCapture(str(self._path))
        ok, image = self._cap.read()
        if not ok or image is None:
            return False
        self._pending = to_bgr8(_as_array(image))
        self._pass_frames = 0
        self._t_offset = (self._t_last or 0.0) + self._period_ms
        return True

    def _media_ms(self) -> float:
        assert self._cap is not None
        # POS_MSEC still describes the frame read last, including the one read during open.
        t = self._t_offset + self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if self._t_last is not None and (not math.isfinite(t) or t <= self._t_last):
            # Some containers report no timestamps; fall back to the nominal frame period.
            t = self._t_last + self._period_ms
        self._t_last = t
        return t

    def close(self) -> None:
        self._closed = True
        self._release()

    def _release(self) -> None:
        self._pending = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None


# --- live sources: cameras, streams, files read as if live ---------------------------------

_Opener = Callable[[], "cv2.VideoCapture | None"]


def _safe_open(opener: _Opener) -> cv2.VideoCapture | None:
    try:
        return opener()
    except cv2.error:
        return None


def _open_bounded(opener: _Opener, timeout_s: float) -> tuple[cv2.VideoCapture | None, bool]:
    """Run opener on a helper thread: (capture or None, whether it timed out).

    Some drivers block for a long time on a missing device; a capture that arrives after
    the timeout is released by the helper thread.
    """
    lock = threading.Lock()
    done = threading.Event()
    result: list[cv2.VideoCapture | None] = []
    abandoned = False

    def work() -> None:
        cap = _safe_open(opener)
        with lock:
            if abandoned:
                if cap is not None:
                    cap.release()
                return
            result.append(cap)
        done.set()

    threading.Thread(target=work, name="open source", daemon=True).start()
    done.wait(timeout_s)
    with lock:
        if result:
            return result[0], False
        abandoned = True
        return None, True


def _plausible_fps(cap: cv2.VideoCapture) -> float | None:
    # RTSP streams may report their 90 kHz clock as the frame rate.
    fps = _positive(cap.get(cv2.CAP_PROP_FPS))
    return fps if fps is not None and fps <= 1000 else None


def _camera_backend() -> int:
    if sys.platform.startswith("linux") and cv2.videoio_registry.hasBackend(cv2.CAP_V4L2):
        return cv2.CAP_V4L2
    return cv2.CAP_ANY


def _camera_opener(
    device: int | str, width: int | None, height: int | None, fps: float | None
) -> _Opener:
    backend = _camera_backend()

    def open_camera() -> cv2.VideoCapture | None:
        cap = cv2.VideoCapture(device, backend)
        if not cap.isOpened():
            cap.release()
            return None
        # A one-frame driver queue keeps latency at one frame; backends that cannot, ignore it.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, width),
            (cv2.CAP_PROP_FRAME_HEIGHT, height),
            (cv2.CAP_PROP_FPS, fps),
        ):
            if value:
                cap.set(prop, float(value))
        return cap

    return open_camera


def _open_camera(
    device: int | str,
    width: int | None,
    height: int | None,
    fps: float | None,
    timeout_s: float,
) -> FrameSource:
    label = f"camera {device}"
    opener = _camera_opener(device, width, height, fps)
    cap, timed_out = _open_bounded(opener, timeout_s)
    if cap is None:
        why = f" (no answer within {timeout_s:g} s)" if timed_out else ""
        raise SourceError(
            f"{label} is not available{why}: connect a camera or choose a video file with --source"
        )
    return _LiveSource(
        cap, opener, kind="camera", name=str(device), label=label, timeout_s=timeout_s
    )


def redact_url(url: str) -> str:
    """The URL without a password, for messages and titles."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.partition("@")
    if not at or "/" in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in userinfo else url


def _stream_opener(url: str, timeout_s: float) -> _Opener:
    params: list[int] = []
    for name in ("CAP_PROP_OPEN_TIMEOUT_MSEC", "CAP_PROP_READ_TIMEOUT_MSEC"):
        prop = getattr(cv2, name, None)
        if prop is not None:
            params += [prop, max(1, int(timeout_s * 1000))]

    def open_stream() -> cv2.VideoCapture | None:
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    return open_stream


def _open_stream(url: str, timeout_s: float) -> FrameSource:
    shown = redact_url(url)
    opener = _stream_opener(url, timeout_s)
    # The helper bound sits above FFmpeg's own timeout so that one normally answers first.
    cap, timed_out = _open_bounded(opener, timeout_s + 1.0)
    if cap is None:
        why = f"no answer within {timeout_s:g} s" if timed_out else "connection failed"
        raise SourceError(
            f"cannot open stream URL {shown} ({why}): check the address and that the server "
            "is running and reachable"
        )
    return _LiveSource(
        cap, opener, kind="stream", name=shown, label=f"stream {shown}", timeout_s=timeout_s
    )


def _open_live_file(path: Path, name: str, *, timeout_s: float, loop: bool) -> FrameSource:
    cap = _open_video(path, name)
    first = _read_first(cap, name)
    count = _positive(cap.get(cv2.CAP_PROP_FRAME_COUNT))

    def reopen() -> cv2.VideoCapture | None:
        again = cv2.VideoCapture(str(path))
        return again if again.isOpened() else None

    return _LiveSource(
        cap,
        reopen,
        kind="video",
        name=name,
        label=f"video {name}",
        timeout_s=timeout_s,
        frame_count=int(count) if count else None,
        loop=loop,
        first=first,
    )


class _LiveSource(FrameSource):
    """A capture thread reads continuously into a one-frame slot; read() takes the newest frame.

    Cameras and streams reconnect with backoff when reads fail. A file read this way is paced
    at its native rate and ends (or rewinds, with loop) at its last frame.
    """

    def __init__(
        self,
        cap: cv2.VideoCapture,
        opener: _Opener,
        *,
        kind: str,
        name: str,
        label: str,
        timeout_s: float,
        frame_count: int | None = None,
        loop: bool = False,
        first: np.ndarray | None = None,
    ) -> None:
        self._opener, self._label, self._timeout_s = opener, label, timeout_s
        self._is_file, self._loop = kind == "video", loop
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._slot: Frame | None = None
        self._last_read = -1
        self._next_index = 0
        self._dropped = 0
        self._state = "running"
        self._ended = False
        self._error = "no frame yet"
        self._failure: Exception | None = None
        self._t0 = time.monotonic()
        fps = _plausible_fps(cap)  # read before the capture thread owns cap
        self._period_ms = 1000.0 / (fps or _FALLBACK_FPS)
        if first is not None:
            self._publish(first)
        self._thread = threading.Thread(
            target=self._run, args=(cap,), name=f"capture {label}", daemon=True
        )
        self._thread.start()
        height, width = self._wait_first().image.shape[:2]
        self.info = SourceInfo(kind, name, width, height, fps, frame_count, live=True)

    @property
    def state(self) -> str:
        return self._state

    @property
    def dropped(self) -> int:
        return self._dropped

    def read(self) -> Frame | None:
        deadline = time.monotonic() + self._timeout_s
        with self._cond:
            while True:
                if self._closed:
                    return None
                slot = self._slot
                if slot is not None and slot.index > self._last_read:
                    self._last_read = slot.index
                    return slot
                if self._failure is not None:
                    raise SourceError(
                        f"{self._label} capture stopped ({_one_line(self._failure)}): "
                        "open the source again or choose another --source"
                    ) from self._failure
                if self._ended:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SourceLost(
                        f"source lost, retrying: {self._label} sent no frame for "
                        f"{self._timeout_s:g} s ({self._error}); check the camera, cable or "
                        "network, or choose another --source"
                    )
                self._cond.wait(remaining)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._state = "closed"
            self._slot = None
            self._cond.notify_all()
        self._stop.set()
        if self._thread is not threading.current_thread():
            # A read blocked in the driver can outlast this; the daemon thread then releases.
            self._thread.join(_JOIN_TIMEOUT_S)

    def _wait_first(self) -> Frame:
        with self._cond:
            self._cond.wait_for(lambda: self._slot is not None or self._ended, self._timeout_s)
            first = self._slot
        if first is None:
            self.close()
            raise SourceError(
                f"{self._label} opened but sent no frame within {self._timeout_s:g} s "
                f"({self._error}): check the device or choose another --source"
            )
        return first

    def _run(self, cap: cv2.VideoCapture | None) -> None:
        try:
            self._capture(cap)
        except Exception as error:  # reported by read(), not lost with the thread
            with self._cond:
                self._failure = error
                self._error = _one_line(error)
                self._ended = True
                self._cond.notify_all()

    def _capture(self, cap: cv2.VideoCapture | None) -> None:
        pacer = _Pacer(sleep=self._stop.wait) if self._is_file else None
        media_ms = 0.0
        if pacer is not None:
            pacer.wait(media_ms)  # the first frame was published at open
        backoff = _BACKOFF_FIRST_S
        frames_since_open = 1 if self._is_file else 0
        try:
            while not self._stop.is_set():
                if cap is None:
                    cap = self._reopen(backoff)
                    reopened = cap is not None
                    backoff = _BACKOFF_FIRST_S if reopened else min(backoff * 2, _BACKOFF_MAX_S)
                    frames_since_open = 0
                    continue
                image = self._grab(cap)
                if image is not None:
                    if pacer is not None:
                        media_ms += self._period_ms
                        pacer.wait(media_ms)
                    self._publish(image)
                    frames_since_open += 1
                    continue
                cap.release()
                cap = None
                if self._is_file:
                    # A file rewinds at once; one that no longer decodes ends rather than spins.
                    if self._loop and frames_since_open > 0:
                        cap = _safe_open(self._opener)
                        frames_since_open = 0
                    if cap is None:
                        self._finish()
                        return
                else:
                    self._set_state("reconnecting")
        finally:
            if cap is not None:
                cap.release()

    def _reopen(self, backoff: float) -> cv2.VideoCapture | None:
        if self._stop.wait(backoff):
            return None
        cap = _safe_open(self._opener)
        if cap is None:
            self._error = "reopen failed"
        return cap

    def _grab(self, cap: cv2.VideoCapture) -> np.ndarray | None:
        try:
            ok, image = cap.read()
            if ok and image is not None:
                return to_bgr8(_as_array(image))
            self._error = "end of stream" if self._is_file else "read failed"
        except (cv2.error, ValueError) as error:
            self._error = _one_line(error)
        return None

    def _publish(self, image: np.ndarray) -> None:
        t_ms = (time.monotonic() - self._t0) * 1000.0
        with self._cond:
            if self._closed:
                return
            if self._slot is not None and self._slot.index > self._last_read:
                self._dropped += 1
            self._slot = Frame(self._next_index, t_ms, image)
            self._next_index += 1
            self._state = "running"
            self._cond.notify_all()

    def _set_state(self, state: str) -> None:
        with self._cond:
            if not self._closed:
                self._state = state

    def _finish(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()
