"""Sources that cannot open, image folders, and videos that loop: what the window says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
