"""`mnviewer run` on real video and images, and every kind of bad input."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.integration.conftest import one_error_line, run_cli


def _jsonl(path: Path) -> list[dict]:
    text = path.read_text()
    assert text == "" or text.endswith("\n"), "last JSONL line is incomplete"
    return [json.loads(line) for line in text.splitlines()]


def test_bottle_video_every_frame_in_order(built_all: float, shared_dir: Path,
                                           tmp_path: Path) -> None:
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = run_cli("run", "--source", str(shared_dir / "media" / "bottle-detection.mp4"),
                   "--out", str(out), "--summary", str(summary))
    assert proc.returncode == 0, proc.stderr
    rows = _jsonl(out)
    assert [r["frame"] for r in rows] == list(range(1189))
    assert all(len(r["top"]) == 5 and r["infer_ms"] > 0 for r in rows)
    assert rows[1]["t_ms"] > rows[0]["t_ms"]
    top1 = Counter(r["top"][0]["label"] for r in rows)
    assert top1["water bottle"] / len(rows) >= 0.7, top1.most_common(3)
    assert all(r["top"][0]["index"] == 898 for r in rows if r["top"][0]["label"] ==
               "water bottle")
    s = json.loads(summary.read_text())
    assert s["frames"] == 1189 and s["model"] == "mobilenet-v1-1.0-224"
    assert s["precision"] == "int8" and s["device"] == "CPU"
    assert set(s["infer_ms"]) == {"p50", "p90", "p99"} and s["fps"] > 0
    assert s["top1_counts"]["water bottle"] == top1["water bottle"]
    assert "FPS" in proc.stderr


def test_save_video_and_stdout(built_all: float, shared_dir: Path, tmp_path: Path) -> None:
    video = tmp_path / "annotated.mp4"
    proc = run_cli("run", "--source", str(shared_dir / "media" / "bottle-detection.mp4"),
                   "--max-frames", "20", "--out", "-", "--top-k", "3",
                   "--save-video", str(video), "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 20 and all(len(r["top"]) == 3 for r in rows)
    cap = cv2.VideoCapture(str(video))
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, first = cap.read()
    cap.release()
    assert ok and frames == 20 and first.shape == (360, 640, 3)
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("kind", ["gray", "rgba", "16bit"])
def test_unusual_images_are_classified(built_all: float, shared_dir: Path, tmp_path: Path,
                                       kind: str) -> None:
    bgr = cv2.imread(str(shared_dir / "media" / "cat.bmp"))
    image = {"gray": cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY),
             "rgba": cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA),
             "16bit": bgr.astype(np.uint16) * 257}[kind]
    path = tmp_path / f"cat-{kind}.png"
    cv2.imwrite(str(path), image)
    proc = run_cli("run", "--source", str(path), "--out", "-", "--quiet")
    assert proc.returncode == 0, proc.stderr
    label = json.loads(proc.stdout)["top"][0]["label"]
    assert "cat" in label, label


def test_frames_whose_size_changes(built_all: float, shared_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("cat.bmp", "parrot.jpg", "grace_hopper.bmp"):
        (folder / name).write_bytes((shared_dir / "media" / name).read_bytes())
    proc = run_cli("run", "--source", str(folder), "--out", "-", "--quiet")
    assert proc.returncode == 0, proc.stderr
    labels = [json.loads(line)["top"][0]["label"] for line in proc.stdout.splitlines()]
    assert len(labels) == 3 and "cat" in labels[0] and "macaw" in labels[2]


def test_missing_file(tmp_path: Path) -> None:
    one_error_line(run_cli("run", "--source", str(tmp_path / "nope.mp4")), 3, "nope.mp4",
                   "not found")


def test_text_file_named_mp4(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    one_error_line(run_cli("run", "--source", str(fake)), 3, "notes.mp4")


def test_zero_frame_video(tmp_path: Path) -> None:
    path = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 64))
    writer.release()
    assert path.is_file()
    one_error_line(run_cli("run", "--source", str(path)), 3, "empty.avi", "has no frames")


def test_truncated_video_keeps_valid_output(built_all: float, shared_dir: Path,
                                            tmp_path: Path) -> None:
    data = (shared_dir / "media" / "car-detection.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 4 // 10])
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = run_cli("run", "--source", str(cut), "--out", str(out), "--summary", str(summary),
                   "--model", "mobilenet-v1-0.25-128")
    assert proc.returncode == 0, proc.stderr
    rows = _jsonl(out)
    assert 0 < len(rows) < 377
    assert json.loads(summary.read_text())["source"]["truncated"] is True
    warnings = [ln for ln in proc.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "cut.mp4" in warnings[0], proc.stderr
    assert f"after {len(rows)} of its 377 frames" in warnings[0]
    assert "replace the file" in warnings[0]


def test_absent_camera_and_unreachable_url() -> None:
    one_error_line(run_cli("run", "--source", "7"), 3, "camera 7")
    start = time.monotonic()
    one_error_line(run_cli("run", "--source", "rtsp://127.0.0.1:9/live"), 3, "127.0.0.1")
    assert time.monotonic() - start < 60


def test_unwritable_output_path(shared_dir: Path, tmp_path: Path) -> None:
    video = str(shared_dir / "media" / "bottle-detection.mp4")
    one_error_line(run_cli("run", "--source", video, "--out",
                           str(tmp_path / "no" / "such" / "r.jsonl")), 2, "r.jsonl")
    one_error_line(run_cli("run", "--source", video, "--summary", str(tmp_path)), 2,
                   "folder")


def test_bad_arguments(tmp_path: Path) -> None:
    one_error_line(run_cli("run", "--source", "x", "--top-k", "0"), 2, "top-k")
    one_error_line(run_cli("run", "--source", "x", "--save-video", str(tmp_path / "v.xyz")),
                   2, "v.xyz")


def _limit_file_size() -> None:
    # Writes past 4 KiB fail with EFBIG, as on a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_full_disk_keeps_whole_lines(built_all: float, shared_dir: Path,
                                     tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    video = str(shared_dir / "media" / "bottle-detection.mp4")
    # The same run once without the limit, so that the compiled-model cache (files far
    # over 4 KiB) is already written: only the JSONL may meet the "full disk".
    assert run_cli("run", "--source", video, "--max-frames", "2", "--quiet").returncode == 0
    proc = subprocess.run(
        [sys.executable, "-m", "mnviewer", "run", "--source", video, "--out", str(out)],
        capture_output=True, text=True, timeout=300, preexec_fn=_limit_file_size,
        env=dict(os.environ))
    one_error_line(proc, 6, "r.jsonl")
    rows = _jsonl(out)
    assert 0 < len(rows) < 1189
    assert [r["frame"] for r in rows] == list(range(len(rows)))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_writes_the_summary(built_all: float, shared_dir: Path, tmp_path: Path,
                                   signum: int, code: int) -> None:
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnviewer", "run", "--source",
         str(shared_dir / "media" / "bottle-detection.mp4"), "--realtime",
         "--out", str(out), "--summary", str(summary)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 1000):
        time.sleep(0.1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    s = json.loads(summary.read_text())
    assert s["interrupted"] == signal.Signals(signum).name
    rows = _jsonl(out)
    assert s["frames"] == len(rows) and 0 < len(rows) < 1189


def test_devices_lists_the_cpu() -> None:
    proc = run_cli("devices", "--json")
    devices = json.loads(proc.stdout)
    cpu = next(d for d in devices if d["id"] == "CPU")
    assert cpu["name"] and cpu["threads"] >= 1
    assert "FP32" in cpu["capabilities"]


@pytest.mark.parametrize("device", ["NPU", "TPU"])
def test_absent_device_lists_present_ones(shared_dir: Path, device: str) -> None:
    proc = run_cli("run", "--source", str(shared_dir / "media" / "cat.bmp"), "--device", device)
    one_error_line(proc, 4, device, "CPU")


def test_headless_never_imports_qt(built_all: float, shared_dir: Path) -> None:
    code = ("import sys; from mnviewer.cli import main; "
            f"rc = main(['run', '--source', {str(shared_dir / 'media' / 'cat.bmp')!r}, "
            "'--quiet']); assert 'PySide6' not in sys.modules, 'Qt was imported'; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr


def test_unreadable_image_in_a_folder(built_all: float, shared_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a-cat.bmp").write_bytes((shared_dir / "media" / "cat.bmp").read_bytes())
    (folder / "b-broken.jpg").write_text("not a jpeg")
    (folder / "c-parrot.jpg").write_bytes((shared_dir / "media" / "parrot.jpg").read_bytes())
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = run_cli("run", "--source", str(folder), "--out", str(out), "--summary", str(summary),
                   "--quiet")
    assert proc.returncode == 0, proc.stderr
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 1 and "warning: skipped image" in warnings[0], proc.stderr
    assert "b-broken.jpg is not readable" in warnings[0]
    assert [r["frame"] for r in _jsonl(out)] == [0, 1]
    assert json.loads(summary.read_text())["source"]["skipped"] == 1
