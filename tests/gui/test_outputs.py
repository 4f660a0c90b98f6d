"""Snapshots and recordings look like the screen; a source switch starts a new recording."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt

from mnviewer.gui.overlay import fit, image_to_bgr, render_annotated
from mnviewer.gui.recorder import Recording, Shown
from mnviewer.gui.session import PRIMARY

SMALL = "mobilenet-v1-0.25-128"


def first_frame(path: Path) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    ok, image = capture.read()
    capture.release()
    assert ok, f"{path} has no frame"
    return image


def screen_picture(window) -> np.ndarray:
    """The view's picture as painted on screen, at the frame's own size."""
    view = window.views[PRIMARY]
    image = view.result.frame.image
    grab = image_to_bgr(view.grab().toImage())
    rect = fit(image.shape[1], image.shape[0], view.rect().toRectF()).toRect()
    crop = grab[rect.top():rect.bottom() + 1, rect.left():rect.right() + 1]
    return cv2.resize(crop, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)


def differs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_a_recorded_frame_is_the_snapshot_of_that_frame(qtbot, open_window, wait_result,
                                                        tmp_path: Path) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    view = window.views[PRIMARY]
    shown = Shown(view.result, view.overlay, False, view.shown_height())
    done: list[str] = []
    recording = Recording(tmp_path / "r.mp4", 30.0, (640, 360), lambda _r, m: done.append(m))
    for _ in range(5):
        recording.add(shown)
    recording.stop()
    assert recording.written == 5 and not done
    recorded = first_frame(tmp_path / "r.mp4")
    snapshot = image_to_bgr(render_annotated(shown.result.frame.image, shown.overlay,
                                             mirror=False, shown_height=shown.shown_height))
    assert differs(recorded, snapshot) < 4.0  # what mp4 compression changes, nothing more
    frame = shown.result.frame.image
    # No black band across the top: beside the labels the picture shows through.
    assert differs(recorded[:60, 400:], frame[:60, 400:]) < 6.0


def test_a_snapshot_of_a_large_picture_looks_like_the_screen(qtbot, open_window, wait_result,
                                                             shared_dir: Path,
                                                             tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    photo = cv2.imread(str(shared_dir / "media" / "grace_hopper.bmp"))
    cv2.imwrite(str(big), cv2.resize(photo, (1600, 1200)))
    window = open_window(source=str(big), model=SMALL)
    window.resize(760, 560)
    wait_result(window, model=SMALL)
    window.set_paused(True)
    on_screen = screen_picture(window)  # no event runs between these two lines
    saved = window.snapshot(tmp_path / "shot.png")
    assert saved is not None
    snapshot = cv2.imread(str(saved))
    assert snapshot.shape[:2] == (1200, 1600)
    # The label panel covers the same part of the picture as on screen (dark pixels).
    dark_screen = (on_screen.max(axis=2) < 60).mean()
    dark_snapshot = (snapshot.max(axis=2) < 60).mean()
    assert abs(dark_screen - dark_snapshot) < 0.02, (dark_screen, dark_snapshot)
    assert differs(on_screen, snapshot) < 10.0  # 14 when drawn at a size of its own


def test_switching_source_while_recording_starts_a_new_file(qtbot, open_window, wait_result,
                                                            shared_dir: Path,
                                                            tmp_path: Path) -> None:
    window = open_window(model=SMALL)
    window.settings.snapshot_dir = str(tmp_path)
    wait_result(window, model=SMALL)
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_R)
    first = window.outputs.recording
    assert first is not None
    qtbot.waitUntil(lambda: first.written >= 5, timeout=10_000)
    window.open_source(str(shared_dir / "media" / "car-detection.mp4"))
    qtbot.waitUntil(lambda: window.outputs.recording is not first, timeout=10_000)
    second = window.outputs.recording
    assert second is not None and second.path != first.path
    assert any("the source changed" in t and str(second.path) in t
               for t in window.banner.texts())
    qtbot.waitUntil(lambda: second.written >= 5, timeout=10_000)
    window.set_recording(False)
    qtbot.waitUntil(lambda: second.path.is_file() and first.path.is_file(), timeout=10_000)
    assert first_frame(first.path).shape[:2] == (360, 640)
    assert first_frame(second.path).shape[:2] == (432, 768)
