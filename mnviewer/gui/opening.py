"""What the app can show: the demo video, cameras, video or image files, image folders, URLs.

A source is named by a spec string, which is what the settings remember: "demo", a camera
index ("0"), a path or a URL. Qt-free: opening can block, so the GUI calls this off its thread.
"""

from __future__ import annotations

import glob
import sys
from dataclasses import dataclass
from pathlib import Path

from mnviewer.errors import SourceError
from mnviewer.gui.slides import LoopingVideo, SlideShow, list_images
from mnviewer.models import fetch
from mnviewer.models.catalog import load_catalog
from mnviewer.sources import IMAGE_EXTENSIONS, FrameSource, open_source, redact_url

DEMO = "demo"
# Each picture of a folder stays this long on screen unless Settings say otherwise.
DEFAULT_IMAGE_SECONDS = 2.0
CAMERA_INDICES = range(4)
CAMERA_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class CameraInfo:
    """A camera that opened while probing, with the resolution it delivers."""

    index: int
    width: int
    height: int

    @property
    def spec(self) -> str:
        return str(self.index)

    @property
    def label(self) -> str:
        return f"Camera {self.index} ({self.width}×{self.height})"


def is_camera(spec: str) -> bool:
    return spec.strip().isdigit()


def is_live(spec: str) -> bool:
    """Cameras and streams: they cannot be paused or rewound."""
    return is_camera(spec) or "://" in spec


def open_spec(spec: str, *, timeout_s: float = 10.0,
              image_seconds: float = DEFAULT_IMAGE_SECONDS) -> FrameSource:
    """Open a source for viewing: videos loop at their native rate (counting their passes),
    pictures are a slide show of `image_seconds` each."""
    if spec == DEMO:
        # From the cache, the bundle, a mirror or its pinned URL.
        return LoopingVideo(str(fetch.demo_video()), _one_pass)
    if is_live(spec):
        return open_source(spec, timeout_s=timeout_s)
    path = Path(spec).expanduser()
    if path.is_dir():
        return SlideShow(list_images(path), spec, image_seconds)
    if not path.exists():
        return open_source(spec)  # raises the error that names what is missing
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return SlideShow([path], spec, image_seconds)
    return LoopingVideo(spec, _one_pass)


def _one_pass(spec: str) -> FrameSource:
    return open_source(spec, realtime=True)


def open_default() -> tuple[str, FrameSource]:
    """The first camera if one opens, else the demo video."""
    for index in _camera_candidates():
        try:
            return str(index), open_source(index, timeout_s=CAMERA_TIMEOUT_S)
        except SourceError:
            continue
    return DEMO, open_spec(DEMO)


def probe_cameras(skip: frozenset[int] = frozenset()) -> list[CameraInfo]:
    """Cameras that open now, each opened and closed again; `skip` lists ones in use."""
    found = []
    for index in _camera_candidates():
        if index in skip:
            continue
        try:
            with open_source(index, timeout_s=CAMERA_TIMEOUT_S) as source:
                found.append(CameraInfo(index, source.info.width, source.info.height))
        except SourceError:
            continue
    return found


def _camera_candidates() -> list[int]:
    if sys.platform.startswith("linux"):
        # Without a /dev/video node no index can open; asking costs a driver round trip each.
        nodes = glob.glob("/dev/video*")
        return [i for i in CAMERA_INDICES if f"/dev/video{i}" in nodes]
    return list(CAMERA_INDICES)


def describe(spec: str) -> str:
    """A short name for menus and titles (a URL without its password)."""
    if spec == DEMO:
        return f"Demo video ({load_catalog().demo_video})"
    if is_camera(spec):
        return f"Camera {spec.strip()}"
    if "://" in spec:
        return redact_url(spec)
    path = Path(spec)
    return f"{path.name}/" if path.is_dir() else path.name
