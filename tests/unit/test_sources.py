"""Frame sources on small files made in tmp_path and on a fake camera; no shared media needed."""

from __future__ import annotations

import itertools
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from mnviewer.errors import SourceError, UsageError
from mnviewer.sources import (
    Frame,
    FrameSource,
    SourceEvent,
    SourceInfo,
    SourceLost,
    open_source,
    redact_url,
    to_bgr8,
)


def write_video(path: Path, *, frames: int, fps: float = 25.0, size: tuple[int, int] = (64, 48)):
    """An MJPG AVI whose frame i is flat grey level 20*i."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG AVI")
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()
    return path


def grey_level(frame: Frame) -> int:
    return round(float(frame.image.mean()) / 20)


def assert_bgr8(image: np.ndarray, height: int, width: int) -> None:
    assert image.shape == (height, width, 3)
    assert image.dtype == np.uint8
    assert image.flags.c_contiguous


# --- video files ---------------------------------------------------------------------------


def test_missing_video_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SourceError, match=r"video file .*nope\.mp4 not found: check the path"):
        open_source(str(missing))


def test_text_file_named_mp4_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are meeting notes, not a video\n" * 20)
    with pytest.raises(SourceError, match=r"notes\.mp4 is not a readable video .*choose a video"):
        open_source(str(fake))


def test_mp4_written_with_no_frames_is_not_readable(tmp_path: Path) -> None:
    # OpenCV writes an MP4 with a moov atom but no track; its FFmpeg reader refuses to open it.
    empty = tmp_path / "empty.mp4"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (64, 48))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write mp4v")
    writer.release()
    with pytest.raises(SourceError, match=r"empty\.mp4 is not a readable video"):
        open_source(str(empty))


def test_avi_written_with_no_frames_has_no_frames(tmp_path: Path) -> None:
    # An empty AVI does open (the header is complete) and declares zero frames.
    empty = write_video(tmp_path / "empty.avi", frames=0)
    with pytest.raises(SourceError, match=r"empty\.avi has no frames"):
        open_source(str(empty))


def test_video_yields_every_frame_in_order(tmp_path: Path) -> None:
    video = write_video(tmp_path / "ramp.avi", frames=12)
    with open_source(str(video)) as source:
        frames = list(source)
        assert source.read() is None
        assert not source.truncated
    assert source.info == SourceInfo("video", str(video), 64, 48, 25.0, 12, live=False)
    assert [f.index for f in frames] == list(range(12))
    assert [grey_level(f) for f in frames] == list(range(12))
    assert [f.t_ms for f in frames] == pytest.approx([i * 40.0 for i in range(12)])
    for frame in frames:
        assert_bgr8(frame.image, 48, 64)


def test_loop_rewinds_and_keeps_counting(tmp_path: Path) -> None:
    video = write_video(tmp_path / "ramp.avi", frames=12)
    with open_source(str(video), loop=True) as source:
        frames = [source.read() for _ in range(30)]
    assert all(f is not None for f in frames)
    got = [f for f in frames if f is not None]
    assert [f.index for f in got] == list(range(30))
    assert [grey_level(f) for f in got] == [i % 12 for i in range(30)]
    assert all(b.t_ms > a.t_ms for a, b in itertools.pairwise(got))


def test_live_file_ends_after_its_last_frame(tmp_path: Path) -> None:
    video = write_video(tmp_path / "ramp.avi", frames=12, fps=50.0)
    started = time.monotonic()
    with open_source(str(video), live=True, timeout_s=2.0) as source:
        assert source.info.live
        frames = list(source)
    assert 1 <= len(frames) <= 12
    assert [f.index for f in frames] == sorted({f.index for f in frames})
    assert time.monotonic() - started < 2.0


def test_live_file_with_loop_keeps_going(tmp_path: Path) -> None:
    video = write_video(tmp_path / "ramp.avi", frames=12, fps=50.0)
    with open_source(str(video), live=True, loop=True, timeout_s=2.0) as source:
        frames = [source.read() for _ in range(20)]
    assert all(f is not None for f in frames)
    indices = [f.index for f in frames if f is not None]
    assert indices == sorted(set(indices))
    assert indices[-1] >= 19


def test_empty_spec_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no source given"):
        open_source("  ")


def test_close_is_idempotent_and_ends_reads(tmp_path: Path) -> None:
    video = write_video(tmp_path / "ramp.avi", frames=3)
    for live in (False, True):
        source = open_source(str(video), live=live)
        source.close()
        source.close()
        assert source.state == "closed"
        assert source.read() is None


# --- images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pixels", "expected"),
    [
        (np.full((20, 30), 100, np.uint8), (100, 100, 100)),
        (np.full((20, 30, 4), (10, 20, 30, 40), np.uint8), (10, 20, 30)),
        (np.full((20, 30), 0x1234, np.uint16), (0x12, 0x12, 0x12)),
        (np.full((20, 30, 3), (0x1000, 0x2000, 0xFFFF), np.uint16), (0x10, 0x20, 0xFF)),
        (np.full((20, 30, 4), (0x1000, 0x2000, 0x3000, 0x100), np.uint16), (0x10, 0x20, 0x30)),
    ],
    ids=["gray", "bgra", "gray16", "bgr16", "bgra16"],
)
def test_png_comes_out_bgr8(tmp_path: Path, pixels: np.ndarray, expected: tuple[int, ...]) -> None:
    path = tmp_path / "image.png"
    assert cv2.imwrite(str(path), pixels)
    with open_source(str(path)) as source:
        frames = list(source)
    assert len(frames) == 1
    assert_bgr8(frames[0].image, 20, 30)
    assert tuple(frames[0].image[5, 5]) == expected
    assert source.info == SourceInfo("images", str(path), 30, 20, None, 1, live=False)


def test_folder_of_mixed_sizes_in_name_order(tmp_path: Path) -> None:
    sizes = {"a.png": (10, 20), "b.JPG": (30, 40), "c.bmp": (25, 15), "d.tif": (8, 8)}
    for name, (h, w) in sizes.items():
        assert cv2.imwrite(str(tmp_path / name), np.zeros((h, w, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "._a.png").write_bytes(b"\x00\x05\x16\x07 resource fork")
    with open_source(str(tmp_path), fps=10.0) as source:
        frames = list(source)
    assert [f.image.shape[:2] for f in frames] == list(sizes.values())
    assert [f.t_ms for f in frames] == [0.0, 100.0, 200.0, 300.0]
    assert source.info.frame_count == 4
    assert (source.info.width, source.info.height) == (20, 10)


def test_unreadable_image_in_folder_is_skipped_and_named(tmp_path: Path) -> None:
    assert cv2.imwrite(str(tmp_path / "a.png"), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    assert cv2.imwrite(str(tmp_path / "c.png"), np.full((4, 4, 3), 200, np.uint8))
    events: list[SourceEvent] = []
    with open_source(str(tmp_path)) as source:
        source.listen(events.append)
        frames = list(source)
    assert [(f.index, int(f.image[0, 0, 0])) for f in frames] == [(0, 0), (1, 200)]
    assert [e.kind for e in events] == ["skipped"]
    assert re.search(r"image .*b\.jpg is not readable", events[0].text), events[0].text


def test_folder_of_only_unreadable_images(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(SourceError, match="has no readable images"):
        open_source(str(tmp_path))


def test_unreadable_single_image_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"")
    with pytest.raises(SourceError, match=r"image .*broken\.png is not readable"):
        open_source(str(path))


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("no images here")
    with pytest.raises(SourceError, match="has no images"):
        open_source(str(tmp_path))


def test_image_cannot_be_live(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    assert cv2.imwrite(str(path), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(UsageError, match="live mode needs"):
        open_source(str(path), live=True)


def test_bgr8_input_is_passed_through_without_copy() -> None:
    image = np.zeros((4, 6, 3), np.uint8)
    assert to_bgr8(image) is image


# --- cameras and streams -------------------------------------------------------------------


@pytest.mark.parametrize("spec", [9, "9"])
def test_absent_camera_fails_within_timeout(spec: int | str) -> None:
    started = time.monotonic()
    expected = "camera 9 is not available: connect a camera or choose a video file"
    with pytest.raises(SourceError, match=expected):
        open_source(spec, timeout_s=3.0)
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize("url", ["rtsp://127.0.0.1:9/x", "http://127.0.0.1:9/x.mp4"])
def test_unreachable_stream_fails_within_bound(url: str) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"cannot open stream URL .*check the address"):
        open_source(url, timeout_s=5.0)
    assert time.monotonic() - started < 30.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local TCP port that accepts connections (the kernel does) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("scheme, path", [("rtsp", "x"), ("http", "x.mp4")])
def test_silent_stream_server_fails_within_the_timeout(silent_port: int, scheme: str,
                                                       path: str) -> None:
    # Port 9 above refuses at once; this server connects and then stays silent, so only the
    # timeout can end the open.
    url = f"{scheme}://127.0.0.1:{silent_port}/{path}"
    started = time.monotonic()
    with pytest.raises(SourceError, match=rf"cannot open stream URL {re.escape(url)} \(.*\): "
                                          "check the address and that the server is running"):
        open_source(url, timeout_s=2.0)
    assert time.monotonic() - started < 2.0 + 4


class FakeRig(SimpleNamespace):
    """Controls the fake cameras: plug state, whether they send frames, how long opening takes."""

    plugged: bool
    sends_frames: bool
    open_delay_s: float
    requests: list[tuple[int, float]]
    fault: Exception | None


@pytest.fixture
def camera(monkeypatch: pytest.MonkeyPatch) -> FakeRig:
    """Replace cv2.VideoCapture with a 64x48, 100 fps camera that can be unplugged."""
    rig = FakeRig(plugged=True, sends_frames=True, open_delay_s=0.0, requests=[], fault=None)

    class FakeCapture:
        def __init__(self, *args: Any) -> None:
            time.sleep(rig.open_delay_s)
            self._open = rig.plugged

        def isOpened(self) -> bool:
            return self._open

        def set(self, prop: int, value: float) -> bool:
            rig.requests.append((prop, value))
            return True

        def get(self, prop: int) -> float:
            return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

        def read(self) -> tuple[bool, np.ndarray | None]:
            time.sleep(0.01)
            if rig.fault is not None:
                raise rig.fault
            if self._open and rig.plugged and rig.sends_frames:
                return True, np.full((48, 64, 3), 7, np.uint8)
            return False, None

        def release(self) -> None:
            self._open = False

    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    return rig


def read_within(source: FrameSource, seconds: float) -> Frame | None:
    """Read, retrying through SourceLost until seconds have passed."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return source.read()
        except SourceLost:
            if time.monotonic() > deadline:
                raise


def test_camera_reports_what_it_delivers_and_gets_requests(camera: FakeRig) -> None:
    with open_source(0, width=1280, height=720, fps=60.0, timeout_s=1.0) as source:
        frame = source.read()
    assert frame is not None
    assert source.info == SourceInfo("camera", "0", 64, 48, 30.0, None, live=True)
    assert (cv2.CAP_PROP_BUFFERSIZE, 1) in camera.requests
    assert (cv2.CAP_PROP_FRAME_WIDTH, 1280.0) in camera.requests
    assert (cv2.CAP_PROP_FPS, 60.0) in camera.requests


def test_unplugged_camera_is_lost_then_comes_back(camera: FakeRig) -> None:
    events: list[SourceEvent] = []
    with open_source(0, timeout_s=0.5) as source:
        source.listen(events.append)
        first = source.read()
        assert first is not None
        camera.plugged = False
        started = time.monotonic()
        with pytest.raises(SourceLost, match="source lost, retrying: camera 0"):
            while True:  # at most one frame captured before the unplug is still unread
                source.read()
        assert time.monotonic() - started < 2.0
        assert source.state == "reconnecting"
        camera.plugged = True
        again = read_within(source, seconds=8.0)
        assert again is not None
        assert again.index > first.index
        assert source.state == "running"
    assert source.state == "closed"
    assert [e.kind for e in events] == ["lost", "back"]
    assert events[0].text.startswith("source lost, retrying: camera 0")
    assert events[1].gap_s is not None and events[1].gap_s > 0
    assert f"camera 0 is back after {events[1].gap_s:.1f} s" == events[1].text
    assert source.reconnects == 1 and source.lost_s == events[1].gap_s


def test_camera_that_sends_nothing_fails_at_open(camera: FakeRig) -> None:
    camera.sends_frames = False
    with pytest.raises(SourceError, match=r"camera 0 opened but sent no frame within 0\.3 s"):
        open_source(0, timeout_s=0.3)


def test_camera_open_that_hangs_is_bounded(camera: FakeRig) -> None:
    camera.open_delay_s = 2.0
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"camera 0 is not available \(no answer within 0\.3 s\)"):
        open_source(0, timeout_s=0.3)
    assert time.monotonic() - started < 1.0


def test_close_stops_a_live_source_promptly(camera: FakeRig) -> None:
    source = open_source(0, timeout_s=1.0)
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 0.5
    assert source.read() is None


def test_capture_thread_fault_reaches_the_reader(camera: FakeRig) -> None:
    with open_source(0, timeout_s=1.0) as source:
        assert source.read() is not None
        camera.fault = RuntimeError("driver fault")
        with pytest.raises(SourceError, match=r"camera 0 capture stopped \(driver fault\)"):
            while True:
                source.read()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:secret@127.0.0.1:554/live", "rtsp://admin:***@127.0.0.1:554/live"),
        ("rtsp://127.0.0.1:554/live", "rtsp://127.0.0.1:554/live"),
        ("http://127.0.0.1/a@b.mp4", "http://127.0.0.1/a@b.mp4"),
    ],
)
def test_stream_passwords_stay_out_of_messages(url: str, shown: str) -> None:
    assert redact_url(url) == shown
