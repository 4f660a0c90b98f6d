"""Live sources (cameras, streams, files read as if live): only the newest frame is kept."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from mnviewer.errors import SourceError
from mnviewer.sources.base import (
    _BACKOFF_FIRST_S,
    _BACKOFF_MAX_S,
    _FALLBACK_FPS,
    _JOIN_TIMEOUT_S,
    Frame,
    FrameSource,
    SourceEvent,
    SourceInfo,
    SourceLost,
    _one_line,
    _Pacer,
    to_bgr8,
)
from mnviewer.sources.files import _open_video, _positive, _read_first, _reopen_video

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

    return _LiveSource(
        cap,
        lambda: _reopen_video(path),
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
        self._lost_since: float | None = None  # when the last frame came before a loss
        self._last_frame_at: float | None = None
        self._lost_total = 0.0
        self._reconnects = 0
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

    @property
    def reconnects(self) -> int:
        return self._reconnects

    @property
    def lost_s(self) -> float:
        with self._cond:
            since = self._lost_since
            return self._lost_total + (time.monotonic() - since if since is not None else 0.0)

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
            self._closed = True
            self._state = "closed"
            self._slot = None
            self._cond.notify_all()
        self._stop.set()
        # Every caller waits for the capture thread, a second one too: a source closed from
        # aside must still be released before the owner goes on (or the process exits).
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
                    self._lost()
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
                return to_bgr8(image)
            self._error = "end of stream" if self._is_file else "read failed"
        except (cv2.error, ValueError) as error:
            self._error = _one_line(error)
        return None

    def _publish(self, image: np.ndarray) -> None:
        now = time.monotonic()
        t_ms = (now - self._t0) * 1000.0
        with self._cond:
            if self._closed:
                return
            if self._slot is not None and self._slot.index > self._last_read:
                self._dropped += 1
            self._slot = Frame(self._next_index, t_ms, image)
            self._next_index += 1
            self._state = "running"
            self._last_frame_at = now
            since, self._lost_since = self._lost_since, None
            if since is not None:
                self._reconnects += 1
                self._lost_total += now - since
            self._cond.notify_all()
        if since is not None:
            gap = now - since
            self._emit(SourceEvent("back", f"{self._label} is back after {gap:.1f} s", gap))

    def _lost(self) -> None:
        """The capture failed: say so once, and reconnect (with backoff) until it is back."""
        with self._cond:
            if self._closed or self._lost_since is not None:
                return
            self._state = "reconnecting"
            # The gap runs from the last frame: a stalled stream fails only after its timeout.
            self._lost_since = self._last_frame_at or time.monotonic()
        self._emit(SourceEvent("lost", f"source lost, retrying: {self._label} ({self._error})"))

    def _finish(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()

