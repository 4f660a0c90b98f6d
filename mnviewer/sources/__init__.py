"""One frame-source interface over cameras, video files, image files or folders and stream URLs.

`open_source` parses what the user gave and returns a `FrameSource`. File sources return every
frame in order; live sources (cameras, streams, or a file opened with ``live=True``) keep only
the newest frame, so a slow consumer skips frames instead of falling behind.
"""

from __future__ import annotations

from pathlib import Path

from mnviewer.errors import SourceError, UsageError
from mnviewer.sources.base import (
    IMAGE_EXTENSIONS,
    Frame,
    FrameSource,
    SourceEvent,
    SourceInfo,
    SourceLost,
    to_bgr8,
)
from mnviewer.sources.files import (
    ImageTooLarge,
    _folder_images,
    _ImageSource,
    _is_image,
    _read_image,
    _VideoFileSource,
)
from mnviewer.sources.live import _open_camera, _open_live_file, _open_stream, redact_url

__all__ = ["IMAGE_EXTENSIONS", "Frame", "FrameSource", "ImageTooLarge", "SourceEvent",
           "SourceInfo", "SourceLost", "open_source", "read_image", "redact_url", "to_bgr8"]

read_image = _read_image


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
        return _ImageSource(_folder_images(path), spec, fps=fps, realtime=realtime, loop=loop,
                            folder=path)
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


