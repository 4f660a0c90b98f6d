"""Sources that cannot open, image folders, and videos that loop: what the window says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
from PySide6.QtCore import Qt

from mnviewer.gui.session import PRIMARY
from mnviewer.gui.settings import Settings, load_settings, save_settings
from tests.gui.test_window import image_is_blank

REPO = Path(__file__).resolve().parents[2]
SMALL = "mobilenet-v1-0.25-128"


def run_gui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "MNVIEWER_CONFIG_DIR": str(tmp_path / "config")}
    return subprocess.run([sys.executable, "-m", "mnviewer", "gui", "--model", SMALL, *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def said(stderr: str) -> list[str]:
    """mnviewer's own lines on stderr (Qt may add its own warnings)."""
    return [line for line in stderr.splitlines() if line.startswith("mnviewer")]


def test_a_missing_file_shows_the_demo_says_why_and_exits_3(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = run_gui(tmp_path, "--source", str(tmp_path / "missing.mp4"), "--quit-after", "10",
                   "--screenshot", str(shot))
    assert proc.returncode == 3, proc.stderr
    lines = said(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert "missing.mp4 not found" in lines[0] and "showing Demo video" in lines[0]
    assert shot.is_file() and not image_is_blank(shot), "the demo video was not shown"


def test_a_text_file_named_mp4_is_said_and_replaced_by_the_demo(qtbot, open_window,
                                                                wait_result,
                                                                tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are notes, not a video\n")
    window = open_window(source=str(fake), model=SMALL)
    wait_result(window, model=SMALL)
    assert window.session.spec == "demo"
    qtbot.waitUntil(lambda: window.banner.isVisible() and "notes.mp4" in window.banner.text(),
                    timeout=10_000)
    assert "not a readable video" in window.banner.text()
    assert "showing Demo video" in window.banner.text()
    assert window.banner.level == "error"
    # The notices that follow (the model running) do not push it off the banner.
    assert any(t.startswith("running") for t in window.banner.texts())
    assert "notes.mp4" in window.banner.text()


def test_a_remembered_source_that_was_deleted_is_said_and_forgotten(
        qtbot, open_window, wait_result, video: Path, tmp_path: Path) -> None:
    copy = tmp_path / "last.mp4"
    shutil.copy(video, copy)
    save_settings(Settings(source=str(copy), model=SMALL))
    copy.unlink()
    window = open_window(source=None, model=None)
    wait_result(window, model=SMALL)
    qtbot.waitUntil(lambda: "last.mp4 not found" in window.banner.text(), timeout=10_000)
    assert window.session.spec == "demo" and window.settings.source == ""
    window.close()
    assert load_settings().source == ""


def test_a_source_that_opens_exits_0_and_says_nothing(tmp_path: Path) -> None:
    proc = run_gui(tmp_path, "--source", "demo", "--quit-after", "3")
    assert proc.returncode == 0, proc.stderr
    assert said(proc.stderr) == []


def make_folder(folder: Path, shared_dir: Path, sizes: list[tuple[int, int]]) -> list[Path]:
    folder.mkdir()
    photo = cv2.imread(str(shared_dir / "media" / "parrot.jpg"))
    paths = []
    for i, size in enumerate(sizes):
        path = folder / f"{chr(ord('a') + i)}.png"
        cv2.imwrite(str(path), cv2.resize(photo, size))
        paths.append(path)
    return paths


def shown_size(window) -> tuple[int, int]:
    height, width = window.views[PRIMARY].result.frame.image.shape[:2]
    return width, height


def status_text(window) -> str:
    window._update_status()
    return window.status.labels["source"].text()


def test_an_image_folder_shows_place_and_size_and_steps_with_keys(
        qtbot, open_window, wait_result, shared_dir: Path, tmp_path: Path) -> None:
    make_folder(tmp_path / "pics", shared_dir, [(320, 240), (640, 480), (200, 300)])
    save_settings(Settings(image_seconds=600.0))  # no picture changes by itself here
    window = open_window(source=str(tmp_path / "pics"), model=SMALL)
    wait_result(window, model=SMALL)
    assert "1/3 · a.png · 320×240" in status_text(window)
    view = window.views[PRIMARY]
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: shown_size(window) == (640, 480), timeout=10_000)
    assert "2/3 · b.png · 640×480" in status_text(window)
    qtbot.keyClick(view, Qt.Key.Key_Space)  # paused, the keys still step
    assert window.session.paused
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: shown_size(window) == (200, 300), timeout=10_000)
    assert "3/3 · c.png · 200×300" in status_text(window)
    qtbot.keyClick(view, Qt.Key.Key_Right)  # past the last: the first again, and it says so
    qtbot.waitUntil(lambda: shown_size(window) == (320, 240), timeout=10_000)
    qtbot.waitUntil(lambda: any("pics played to its end" in t for t in window.banner.texts()),
                    timeout=5_000)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: shown_size(window) == (200, 300), timeout=10_000)
    assert window.session.paused


def test_the_dwell_time_comes_from_settings(qtbot, open_window, wait_result,
                                            shared_dir: Path, tmp_path: Path) -> None:
    make_folder(tmp_path / "pics", shared_dir, [(320, 240), (640, 480)])
    save_settings(Settings(image_seconds=600.0))
    window = open_window(source=str(tmp_path / "pics"), model=SMALL)
    wait_result(window, model=SMALL)
    assert shown_size(window) == (320, 240)
    window.show_settings()
    window.settings_dialog.image_seconds.setValue(0.5)
    window.settings_dialog.accept()
    assert window.session.slides is not None and window.session.slides.seconds == 0.5
    qtbot.waitUntil(lambda: shown_size(window) == (640, 480), timeout=10_000)


def test_an_unreadable_picture_is_skipped_with_a_warning(qtbot, open_window, wait_result,
                                                         shared_dir: Path,
                                                         tmp_path: Path) -> None:
    make_folder(tmp_path / "pics", shared_dir, [(320, 240), (640, 480), (200, 300)])
    (tmp_path / "pics" / "b.png").write_text("not a picture")
    save_settings(Settings(image_seconds=600.0))
    window = open_window(source=str(tmp_path / "pics"), model=SMALL)
    wait_result(window, model=SMALL)
    window.step_picture(1)
    qtbot.waitUntil(lambda: shown_size(window) == (200, 300), timeout=10_000)
    assert any("b.png" in t and "not readable" in t for t in window.banner.texts())


def test_a_folder_whose_first_picture_is_unreadable_still_opens(
        qtbot, open_window, wait_result, shared_dir: Path, tmp_path: Path) -> None:
    make_folder(tmp_path / "pics", shared_dir, [(320, 240), (640, 480)])
    (tmp_path / "pics" / "0-broken.png").write_text("not a picture")
    save_settings(Settings(image_seconds=600.0))
    window = open_window(source=str(tmp_path / "pics"), model=SMALL)
    wait_result(window, model=SMALL)
    assert shown_size(window) == (320, 240)
    qtbot.waitUntil(lambda: any("0-broken.png" in t for t in window.banner.texts()),
                    timeout=10_000)


def test_a_video_that_loops_says_so(qtbot, open_window, wait_result, video: Path,
                                    tmp_path: Path) -> None:
    short = tmp_path / "short.mp4"
    capture = cv2.VideoCapture(str(video))
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 360))
    for _ in range(15):  # half a second
        ok, image = capture.read()
        assert ok
        writer.write(image)
    writer.release()
    capture.release()
    window = open_window(source=str(short), model=SMALL)
    wait_result(window, model=SMALL)
    qtbot.waitUntil(lambda: any("short.mp4 played to its end: from the start again (pass 2)"
                                in t for t in window.banner.texts()), timeout=10_000)
    qtbot.waitUntil(lambda: "pass " in status_text(window), timeout=5_000)
