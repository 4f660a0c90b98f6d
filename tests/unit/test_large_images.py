"""Oversized images: header sizes, the pixel limit, reduced JPEG decoding and frame reduction."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mnviewer import MAX_PIXELS_ENV
from mnviewer.engine import reduce_frame, source_side
from mnviewer.errors import SourceError, UsageError
from mnviewer.sources import ImageTooLarge, SourceEvent, open_source, read_image
from mnviewer.sources.imagesize import header_size, max_image_pixels


def gradient(height: int, width: int) -> np.ndarray:
    """A smooth picture, so a JPEG of it decodes at any scale to nearly the same colours."""
    y, x = np.mgrid[0:height, 0:width]
    return np.dstack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1),
                      np.full_like(x, 128)]).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp", ".tif"])
@pytest.mark.parametrize("size", [(37, 23), (640, 480)])
def test_header_size_matches_decoded_size(tmp_path: Path, suffix: str,
                                          size: tuple[int, int]) -> None:
    path = tmp_path / f"image{suffix}"
    assert cv2.imwrite(str(path), gradient(size[1], size[0]))
    with path.open("rb") as fh:
        assert header_size(fh) == size
    assert cv2.imread(str(path)).shape[:2] == (size[1], size[0])


def test_header_of_a_jpeg_after_large_exif_segments(tmp_path: Path) -> None:
    data = cv2.imencode(".jpg", gradient(30, 50))[1].tobytes()
    app1 = b"\xff\xe1" + (65535).to_bytes(2, "big") + b"\x00" * 65533  # a full APP1 segment
    path = tmp_path / "exif.jpg"
    path.write_bytes(data[:2] + app1 + app1 + data[2:])
    with path.open("rb") as fh:
        assert header_size(fh) == (50, 30)


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an APP1 EXIF segment holding only the Orientation tag."""
    tiff = (b"MM\x00*" + struct.pack(">IH", 8, 1)
            + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0))
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


@pytest.mark.parametrize(("orientation", "upright"), [(1, (400, 300)), (3, (400, 300)),
                                                      (6, (300, 400)), (8, (300, 400))])
def test_jpeg_is_sized_and_decoded_upright(tmp_path: Path, orientation: int,
                                           upright: tuple[int, int]) -> None:
    path = tmp_path / "phone.jpg"
    path.write_bytes(with_exif_orientation(cv2.imencode(".jpg", gradient(300, 400))[1].tobytes(),
                                           orientation))
    with path.open("rb") as fh:
        assert header_size(fh) == upright
    assert read_image(path).shape[1::-1] == upright
    assert read_image(path, 100).shape[1::-1] == (upright[0] // 2, upright[1] // 2)
    with open_source(str(path)) as source:
        assert (source.info.width, source.info.height) == upright


def test_unknown_header_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"GIF89a not a png at all, long enough to read 32 bytes")
    with path.open("rb") as fh:
        assert header_size(fh) is None


@pytest.mark.parametrize(("min_side", "expected"), [(None, 480), (300, 480), (240, 240),
                                                    (120, 120), (59, 60), (10, 60)])
def test_jpeg_decodes_at_the_smallest_scale_that_covers_min_side(
        tmp_path: Path, min_side: int | None, expected: int) -> None:
    path = tmp_path / "big.jpg"
    assert cv2.imwrite(str(path), gradient(480, 640))
    image = read_image(path, min_side)
    assert image.shape == (expected, expected * 640 // 480, 3)
    assert min(image.shape[:2]) >= (min_side or 0)
    full = cv2.resize(read_image(path), image.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(int) - full).mean() < 3


def test_png_is_decoded_whole_whatever_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    assert cv2.imwrite(str(path), gradient(480, 640))
    assert read_image(path, 60).shape == (480, 640, 3)


def test_image_source_decodes_at_the_hinted_size(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    assert cv2.imwrite(str(path), gradient(800, 1200))
    with open_source(str(path)) as source:
        assert (source.info.width, source.info.height) == (1200, 800)
        source.prefer_min_side(source_side(224, 0.875))
        (frame,) = list(source)
    assert frame.image.shape == (400, 600, 3)


def test_image_over_the_limit_is_refused_naming_size_and_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "panorama.png"
    assert cv2.imwrite(str(path), gradient(100, 300))
    monkeypatch.setenv(MAX_PIXELS_ENV, "20000")
    with pytest.raises(ImageTooLarge) as caught:
        open_source(str(path))
    text = str(caught.value)
    assert "panorama.png is 300x100" in text and "limit of 0.02 MP" in text
    assert MAX_PIXELS_ENV in text and "\n" not in text
    monkeypatch.setenv(MAX_PIXELS_ENV, "30000")
    with open_source(str(path)) as source:
        assert len(list(source)) == 1


def test_image_over_the_limit_in_a_folder_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cv2.imwrite(str(tmp_path / "a-big.png"), gradient(200, 200))
    assert cv2.imwrite(str(tmp_path / "b-small.png"), gradient(50, 50))
    assert cv2.imwrite(str(tmp_path / "c-big.jpg"), gradient(200, 200))
    assert cv2.imwrite(str(tmp_path / "d-small.jpg"), gradient(60, 60))
    monkeypatch.setenv(MAX_PIXELS_ENV, "10000")
    events: list[SourceEvent] = []
    with open_source(str(tmp_path)) as source:
        source.listen(events.append)
        sizes = [f.image.shape[:2] for f in source]
    assert sizes == [(50, 50), (60, 60)]
    assert [e.kind for e in events] == ["skipped", "skipped"]
    assert "a-big.png is 200x200" in events[0].text and "c-big.jpg" in events[1].text


def test_bad_limit_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(UsageError, match=MAX_PIXELS_ENV):
        max_image_pixels()
    monkeypatch.delenv(MAX_PIXELS_ENV)
    assert max_image_pixels() == 100_000_000


def test_opencv_guard_refuses_a_file_mnviewer_cannot_size(tmp_path: Path) -> None:
    """Formats whose header mnviewer does not read are stopped by OpenCV's own guard, which
    mnviewer sets before cv2 loads: such a file is refused without being decoded."""
    path = tmp_path / "big.pgm"  # not an IMAGE_EXTENSIONS type: read_image only
    assert cv2.imwrite(str(path), gradient(100, 300)[:, :, 0])
    code = ("import sys; from pathlib import Path; import mnviewer.sources as s\n"
            "try:\n s.read_image(Path(sys.argv[1]))\n"
            "except s.ImageTooLarge as e: print(e); sys.exit(3)\n")
    env = {**os.environ, MAX_PIXELS_ENV: "20000"}
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert "big.pgm is too large, over the limit of 0.02 MP" in proc.stdout


def test_unreadable_header_still_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    path.write_bytes(cv2.imencode(".jpg", gradient(40, 40))[1].tobytes()[:40])
    with pytest.raises(SourceError, match=r"cut\.jpg"):
        list(open_source(str(path)))


@pytest.mark.parametrize(("shape", "crop", "expected"), [
    ((360, 640), 0.875, (360, 640)),  # small frames pass through untouched
    ((1080, 1920), 0.875, (540, 540)),
    ((6000, 8000), 0.875, (545, 545)),
    ((6000, 8000), None, (461, 470)),  # each axis by its own integer factor
    ((1080, 1920), None, (540, 480)),
])
def test_reduce_frame(shape: tuple[int, int], crop: float | None,
                      expected: tuple[int, int]) -> None:
    image = np.zeros((*shape, 3), np.uint8)
    out = reduce_frame(image, 224, crop)
    assert out.shape[:2] == expected
    if out.shape[:2] == shape:
        assert out is image
    if crop is not None:
        assert int(min(out.shape[:2]) * crop) >= 224


def test_reduce_frame_keeps_the_centre() -> None:
    image = np.zeros((3000, 5000, 3), np.uint8)
    image[1400:1600, 2400:2600] = 255  # a white square in the middle
    image[:, :1000] = 255  # white outside the central square: cropped away
    out = reduce_frame(image, 224, 0.875)
    h, w = out.shape[:2]
    assert out[h // 2, w // 2].tolist() == [255, 255, 255]
    assert out[:, :5].max() == 0 and out[h // 2, w // 2 - 40].max() == 0
