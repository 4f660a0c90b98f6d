"""Frame sources on the real recorded videos and photos in the shared test-data folder."""

from __future__ import annotations

import hashlib
import itertools
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mnviewer.errors import SourceError
from mnviewer.sources import Frame, SourceInfo, open_source
from tests.conftest import find_shared_dir

# Where the `shared_dir` fixture looks; that fixture fails every test here when it is missing.
MEDIA = find_shared_dir() / "media"
BOTTLE = MEDIA / "bottle-detection.mp4"  # 640x360, 29.83 fps, 1189 frames, moov atom at the end
CARS = MEDIA / "car-detection.mp4"  # 768x432, 12.5 fps, 377 frames, moov atom at the start
BOTTLE_FRAMES = 1189
LOOP_EXTRA = 20
# Frames whose digests the full pass keeps, for the determinism and loop checks.
DIGESTED = frozenset({*range(LOOP_EXTRA), 600, BOTTLE_FRAMES - 1})


def digest(frame: Frame) -> str:
    return hashlib.sha1(frame.image.data).hexdigest()


@pytest.fixture(scope="module")
def bottle_pass(shared_dir: Path) -> tuple[SourceInfo, list[int], list[float], dict[int, str]]:
    """One full read of the bottle video: info, indices, timestamps and some frame digests."""
    # Asks for shared_dir, which fails loudly without the data: this module-scoped fixture
    # is set up before the autouse (function-scoped) one that also asks for it.
    indices: list[int] = []
    stamps: list[float] = []
    digests: dict[int, str] = {}
    with open_source(str(BOTTLE)) as source:
        for frame in source:
            assert frame.image.shape == (360, 640, 3)
            assert frame.image.dtype == np.uint8
            assert frame.image.flags.c_contiguous
            indices.append(frame.index)
            stamps.append(frame.t_ms)
            if frame.index in DIGESTED:
                digests[frame.index] = digest(frame)
        assert not source.truncated
        return source.info, indices, stamps, digests


def test_every_bottle_frame_in_order(bottle_pass) -> None:
    info, indices, stamps, _ = bottle_pass
    assert info.fps == pytest.approx(29.83, abs=0.01)
    assert info == SourceInfo("video", str(BOTTLE), 640, 360, info.fps, BOTTLE_FRAMES, live=False)
    assert indices == list(range(BOTTLE_FRAMES))
    assert stamps[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert stamps[-1] == pytest.approx((BOTTLE_FRAMES - 1) * 1000 / 29.8333, abs=1.0)


def test_reading_is_deterministic(bottle_pass) -> None:
    _, _, _, digests = bottle_pass
    picked = (0, 1, 2, 600, BOTTLE_FRAMES - 1)
    again: dict[int, str] = {}
    with open_source(str(BOTTLE)) as source:
        for frame in source:
            if frame.index in picked:
                again[frame.index] = digest(frame)
    assert again == {i: digests[i] for i in picked}
    assert len(set(again.values())) == len(picked)


def test_realtime_is_never_faster_than_native() -> None:
    with open_source(str(BOTTLE), realtime=True) as source:
        fps = source.info.fps
        assert fps is not None
        started = time.monotonic()
        for _ in range(15):
            assert source.read() is not None
        elapsed = time.monotonic() - started
    assert elapsed >= 14 / fps
    assert elapsed < 14 / fps + 0.5


def test_truncated_video_ends_cleanly_and_says_so(tmp_path: Path) -> None:
    data = CARS.read_bytes()
    cut = tmp_path / "cars-cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.4)])
    with open_source(str(cut)) as source:
        frames = sum(1 for _ in source)
        assert source.read() is None
        assert source.truncated
    assert 0 < frames < 377


def test_truncated_video_without_index_is_not_readable(tmp_path: Path) -> None:
    # The bottle MP4 keeps its moov atom (the index) at the end: cut short, nothing can decode.
    data = BOTTLE.read_bytes()
    cut = tmp_path / "bottle-cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.4)])
    with pytest.raises(SourceError, match=r"bottle-cut\.mp4 is not a readable video"):
        open_source(str(cut))


def test_loop_continues_past_the_end(bottle_pass) -> None:
    _, _, _, digests = bottle_pass
    with open_source(str(BOTTLE), loop=True) as source:
        assert source.info.frame_count == BOTTLE_FRAMES
        last_t = -1.0
        for expected in range(BOTTLE_FRAMES + LOOP_EXTRA):
            frame = source.read()
            assert frame is not None
            assert frame.index == expected
            assert frame.t_ms > last_t
            last_t = frame.t_ms
            if expected >= BOTTLE_FRAMES:
                assert digest(frame) == digests[expected - BOTTLE_FRAMES]


def test_live_file_keeps_only_the_newest_frame() -> None:
    tracemalloc.start()
    try:
        with open_source(str(BOTTLE), live=True, timeout_s=5.0) as source:
            assert source.info.live
            indices: list[int] = []
            memory: list[int] = []
            for _ in range(10):
                time.sleep(0.2)  # a slow consumer: about 6 frames arrive per read
                frame = source.read()
                assert frame is not None
                indices.append(frame.index)
                del frame
                memory.append(tracemalloc.get_traced_memory()[0])
            dropped = source.dropped
    finally:
        tracemalloc.stop()
    assert dropped > 0
    steps = [b - a for a, b in itertools.pairwise(indices)]
    assert all(step > 0 for step in steps)
    assert max(steps) > 1
    # A frame is 640x360x3 = 691 kB. The slot plus one frame being decoded stay under 2 MB;
    # a queue would have grown by about 6 frames per read, some 29 MB over these reads.
    assert memory[-1] - memory[2] < 2_000_000


def test_shared_photo_folder_mixed_sizes() -> None:
    with open_source(str(MEDIA)) as source:
        frames = list(source)
    assert len(frames) == 8  # the .mp4 and .txt files beside the photos are not images
    assert len({f.image.shape for f in frames}) > 1
    for frame in frames:
        assert frame.image.ndim == 3 and frame.image.shape[2] == 3
        assert frame.image.dtype == np.uint8
