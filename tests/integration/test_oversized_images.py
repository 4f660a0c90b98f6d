"""`mnviewer run` on images far larger than the model input, and on images over the pixel limit."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np

from mnviewer import MAX_PIXELS_ENV
from mnviewer.engine import Engine
from mnviewer.evaluate import LabelledImage, evaluate
from tests.integration.conftest import one_error_line, run_cli

MODEL = "mobilenet-v1-1.0-224"


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares width x height but holds no pixel data: decoding it would fail, so
    a refusal that names its size shows the header alone was read."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
                     + struct.pack(">I", zlib.crc32(chunk)))


def test_large_jpeg_is_classified_like_the_photo_it_shows(shared_dir: Path,
                                                          tmp_path: Path) -> None:
    photo = cv2.imread(str(shared_dir / "media" / "parrot.jpg"))
    big = tmp_path / "parrot-big.jpg"
    assert cv2.imwrite(str(big), cv2.resize(photo, (4000, 3000), interpolation=cv2.INTER_CUBIC))
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = run_cli("run", "--source", str(big), "--out", str(out), "--summary", str(summary))
    assert proc.returncode == 0, proc.stderr
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert "macaw" in row["top"][0]["label"], row
    source = json.loads(summary.read_text())["source"]
    assert (source["width"], source["height"]) == (4000, 3000)


def test_image_over_the_default_limit_is_refused_unread(tmp_path: Path) -> None:
    png_header_only(tmp_path / "panorama.png", 20000, 20000)
    proc = run_cli("run", "--source", str(tmp_path / "panorama.png"))
    one_error_line(proc, 3, "panorama.png is 20000x20000 (400 MP)", "limit of 100 MP",
                   MAX_PIXELS_ENV)


def test_pixel_limit_is_configurable(shared_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    assert cv2.imwrite(str(path), cv2.imread(str(shared_dir / "media" / "cat.bmp")))
    height, width = cv2.imread(str(path)).shape[:2]
    proc = run_cli("run", "--source", str(path), env={MAX_PIXELS_ENV: str(width * height - 1)})
    one_error_line(proc, 3, f"cat.png is {width}x{height}")
    proc = run_cli("run", "--source", str(path), "--quiet",
                   env={MAX_PIXELS_ENV: str(width * height)})
    assert proc.returncode == 0, proc.stderr
    one_error_line(run_cli("run", "--source", str(path), env={MAX_PIXELS_ENV: "many"}), 2,
                   MAX_PIXELS_ENV)


def test_image_over_the_limit_in_a_folder_is_skipped(shared_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a-cat.bmp").write_bytes((shared_dir / "media" / "cat.bmp").read_bytes())
    png_header_only(folder / "b-panorama.png", 20000, 20000)
    (folder / "c-owl.jpg").write_bytes((shared_dir / "media" / "owl.jpg").read_bytes())
    out = tmp_path / "r.jsonl"
    proc = run_cli("run", "--source", str(folder), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    (warning,) = proc.stderr.strip().splitlines()
    assert "warning: skipped image" in warning and "b-panorama.png is 20000x20000" in warning
    assert len(out.read_text().splitlines()) == 2


def test_top1_on_the_sample_unchanged_by_reduced_decoding(
        imagenet_sample: list[LabelledImage], tmp_path: Path) -> None:
    """Each sample image enlarged 4x as a JPEG (decoded back at 1/4 scale and reduced by the
    engine) gets the same top-1 as the original image at full resolution, within one image."""
    engine = Engine(MODEL, "int8", "CPU")
    originals = evaluate(engine, imagenet_sample)
    folder = tmp_path / "enlarged"
    folder.mkdir()
    for item in imagenet_sample:
        h, w = item.image.shape[:2]
        big = cv2.resize(item.image, (4 * w, 4 * h), interpolation=cv2.INTER_CUBIC)
        assert cv2.imwrite(str(folder / item.name), big, [cv2.IMWRITE_JPEG_QUALITY, 95])
    out = tmp_path / "r.jsonl"
    proc = run_cli("run", "--source", str(folder), "--model", MODEL, "--out", str(out),
                   "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_name = dict(zip(sorted(item.name for item in imagenet_sample),
                       (r["top"][0]["index"] for r in rows), strict=True))
    enlarged = [by_name[item.name] for item in imagenet_sample]
    differ = [item.name for item, a, b in zip(imagenet_sample, originals.predictions, enlarged,
                                              strict=True) if a != b]
    assert len(differ) <= 1, differ
    labels = np.array([item.label for item in imagenet_sample])
    assert abs(int((np.array(enlarged) == labels).sum()) - round(originals.top1 * 100)) <= 1
