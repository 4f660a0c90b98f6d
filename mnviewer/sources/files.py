"""Sources that give every frame in order: image files and folders, video files."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from mnviewer import MAX_PIXELS_ENV
from mnviewer.errors import SourceError
from mnviewer.sources.base import (
    _TRUNCATION_TOLERANCE,
    IMAGE_EXTENSIONS,
    Frame,
    FrameSource,
    SourceEvent,
    SourceInfo,
    _one_line,
    _Pacer,
    to_bgr8,
)
from mnviewer.sources.imagesize import header_size, is_jpeg, max_image_pixels

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


class ImageTooLarge(SourceError):
    """An image over the pixel limit: refused from its header, never decoded."""


# JPEG decodes at 1/2, 1/4 or 1/8 of its size almost for free (scaled inverse DCT).
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2))


def _too_large(path: Path, size: tuple[int, int] | None, limit: int) -> ImageTooLarge:
    what = f"{size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.0f} MP)" if size else "too large"
    return ImageTooLarge(
        f"image {path} is {what}, over the limit of {limit / 1e6:g} MP: scale it down, or "
        f"raise {MAX_PIXELS_ENV} to allow it"
    )


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, refusing an image over the pixel limit;
    None when the header is not one mnviewer reads (the decoder's own guard still holds)."""
    limit = max_image_pixels()
    try:
        with open(path, "rb") as fh:
            size = header_size(fh)
    except OSError as error:
        raise SourceError(
            f"image {path} is not readable ({_one_line(error)}): replace or remove it"
        ) from None
    if size is not None and size[0] * size[1] > limit:
        raise _too_large(path, size, limit)
    return size


def _decode_flags(data: np.ndarray, size: tuple[int, int] | None, min_side: int | None) -> int:
    if not is_jpeg(data[:3].tobytes()):
        return cv2.IMREAD_UNCHANGED
    if size and min_side:
        short = min(size)
        for factor, flag in _REDUCED:
            if short // factor >= min_side:
                return flag
    # Colour decoding, reduced or not, turns the picture upright as its EXIF tag says.
    return cv2.IMREAD_COLOR


def _read_image(path: Path, min_side: int | None = None) -> np.ndarray:
    """Decode an image as BGR uint8; a JPEG at the smallest scale whose short side is still at
    least min_side. Over the pixel limit it is refused without being decoded."""
    size = image_size(path)
    # imdecode from bytes, not imread: imread cannot open non-ASCII paths on Windows.
    try:
        data = np.fromfile(path, dtype=np.uint8)
        image = cv2.imdecode(data, _decode_flags(data, size, min_side)) if data.size else None
        if image is None:
            raise ValueError("OpenCV cannot decode it")
        return to_bgr8(image)
    except cv2.error as error:
        if "MAX_IMAGE_PIXELS" in str(error):
            raise _too_large(path, size, max_image_pixels()) from None
        raise _unreadable(path, error) from None
    except (OSError, ValueError) as error:
        raise _unreadable(path, error) from None


def _unreadable(path: Path, error: Exception) -> SourceError:
    return SourceError(f"image {path} is not readable ({_one_line(error)}): replace or remove it")


class _ImageSource(FrameSource):
    """Image files, one frame each, in sorted order.

    A single image that cannot be read (or is over the pixel limit) raises SourceError; in a
    folder such an image is skipped with a "skipped" SourceEvent.
    """

    def __init__(
        self, paths: list[Path], name: str, *, fps: float | None, realtime: bool, loop: bool,
        folder: Path | None = None,
    ) -> None:
        self._paths = list(paths)
        self._folder = folder
        self._loop = loop
        self._fps = fps if fps and fps > 0 else None
        self._pacer = _Pacer() if realtime and self._fps else None
        self._min_side: int | None = None
        self._index = 0  # frames given
        self._position = 0  # next path to try
        self._first: np.ndarray | None = None
        width, height = self._open_first()
        count = None if loop else len(self._paths)
        self.info = SourceInfo("images", name, width, height, self._fps, count, live=False)

    def _open_first(self) -> tuple[int, int]:
        """The first usable image's size, from its header (decoded only when it has none)."""
        while self._paths:
            path = self._paths[0]
            try:
                size = image_size(path)
                if size is None:
                    self._first = _read_image(path)
                    return self._first.shape[1], self._first.shape[0]
                return size
            except SourceError as error:
                if self._folder is None:
                    raise
                self._skip(0, error)
        raise SourceError(f"folder {self._folder} has no readable images: add or replace some")

    def _skip(self, position: int, error: SourceError) -> None:
        del self._paths[position]
        self._emit(SourceEvent("skipped", f"skipped {error}"))

    def prefer_min_side(self, side: int | None) -> None:
        self._min_side = side

    def read(self) -> Frame | None:
        while not self._closed and self._paths:
            if self._position >= len(self._paths):
                if not self._loop:
                    return None
                self._position = 0
            position = self._position
            try:
                if self._first is not None:
                    image, self._first = self._first, None
                else:
                    image = _read_image(self._paths[position], self._min_side)
            except SourceError as error:
                if self._folder is None:
                    self._position += 1  # an unreadable image raises once
                    raise
                self._skip(position, error)
                continue
            self._position += 1
            return self._frame(image)
        if self._paths or self._closed:
            return None
        raise SourceError(f"folder {self._folder} has no readable images left: "
                          "add or replace some")

    def _frame(self, image: np.ndarray) -> Frame:
        index = self._index
        self._index += 1
        t_ms = index * 1000.0 / self._fps if self._fps else 0.0
        if self._pacer is not None:
            self._pacer.wait(t_ms)
        return Frame(index, t_ms, image)

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


