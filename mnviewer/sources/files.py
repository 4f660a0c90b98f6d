"""Sources that give every frame in order: image files and folders, video files."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from mnviewer.errors import SourceError
from mnviewer.sources.base import (
    _TRUNCATION_TOLERANCE,
    IMAGE_EXTENSIONS,
    Frame,
    FrameSource,
    SourceInfo,
    _one_line,
    _Pacer,
    to_bgr8,
)

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
        return to_bgr8(image)
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


def _reopen_video(path: Path) -> cv2.VideoCapture | None:
    """A capture of the file from its start, or None if OpenCV cannot open it."""
    # One decoder thread: inference keeps every core busy, and FFmpeg's frame threads cost
    # about 30% more CPU per frame for the same work (0.48 vs 0.33 ms on the demo video).
    cap = cv2.VideoCapture(str(path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1])
    if cap.isOpened():
        return cap
    cap.release()
    return None


def _open_video(path: Path, name: str) -> cv2.VideoCapture:
    cap = _reopen_video(path)
    if cap is None:
        raise SourceError(
            f"{name} is not a readable video (OpenCV cannot open it: not a video, no video "
            "track, or cut short): choose a video file OpenCV can decode"
        )
    return cap


def _read_first(cap: cv2.VideoCapture, name: str) -> np.ndarray:
    ok, image = cap.read()
    if ok and image is not None:
        return to_bgr8(image)
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
            return to_bgr8(image)
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
        self._cap = _reopen_video(self._path)
        if self._cap is None:
            return False
        ok, image = self._cap.read()
        if not ok or image is None:
            return False
        self._pending = to_bgr8(image)
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


