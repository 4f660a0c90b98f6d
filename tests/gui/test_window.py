"""The main window on the real demo video and real models."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from mnviewer.gui.session import PARTNER, PRIMARY
from mnviewer.gui.workers import Task

SMALL = "mobilenet-v1-0.25-128"
DEFAULT = "mobilenet-v1-1.0-224"


def image_is_blank(path: Path) -> bool:
    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not an image"
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return float(pixels.std()) < 5.0


def test_overlay_says_water_bottle(qtbot, open_window, wait_result) -> None:
    window = open_window(model=DEFAULT, precision="int8", device="CPU")
    wait_result(window, model=DEFAULT)
    qtbot.waitUntil(lambda: window.views[PRIMARY].result.top[0].label == "water bottle",
                    timeout=10_000)
    overlay = window.views[PRIMARY].overlay
    assert overlay is not None and overlay.labels[0][0] == "water bottle"
    assert "water bottle" in window.overlay_text()
    assert f"{DEFAULT} · int8 · CPU" in overlay.title
    assert "latency p50" in overlay.stats


def test_live_model_switch_keeps_the_source_running(qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    capture = window.session.capture
    before = window.views[PRIMARY].result.frame.index
    processed = window.session.frames(PRIMARY)
    window.controls.model.setCurrentIndex(window.controls.model.findData(DEFAULT, Qt.UserRole))
    window.controls.model.activated.emit(window.controls.model.currentIndex())
    wait_result(window, model=DEFAULT)
    after = window.views[PRIMARY].result
    assert window.session.capture is capture, "the source was reopened"
    assert window.session.frames(PRIMARY) > processed, "the pipeline was restarted"
    assert after.frame.index > before
    assert window.settings.model == DEFAULT


def test_compare_mode_shows_both_panes_and_the_speedup(qtbot, open_window,
                                                       wait_result) -> None:
    window = open_window(model=DEFAULT)
    wait_result(window, model=DEFAULT)
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_C)
    assert window.session.comparing
    wait_result(window, pane=PARTNER, model=DEFAULT + "-fullconv")
    qtbot.waitUntil(lambda: "faster" in window.header.plain_text
                    or "slower" in window.header.plain_text, timeout=10_000)
    for pane in (PRIMARY, PARTNER):
        assert window.views[pane].isVisible()
        assert window.views[pane].result.infer_p50_ms > 0
        assert "latency p50" in window.overlay_text(pane)
    assert "fewer MACs" in window.header.plain_text
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_C)
    assert not window.session.comparing and not window.views[PARTNER].isVisible()


def test_snapshot_is_written_and_not_blank(qtbot, open_window, wait_result,
                                           tmp_path: Path) -> None:
    window = open_window()
    window.settings.snapshot_dir = str(tmp_path / "pictures")
    wait_result(window)
    chosen = window.snapshot(tmp_path / "chosen.png")
    assert chosen is not None and not image_is_blank(chosen)
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_S)
    shots = list((tmp_path / "pictures").glob("mnviewer-*.png"))
    assert len(shots) == 1 and not image_is_blank(shots[0])


def test_settings_are_restored_in_the_next_window(qtbot, open_window, wait_result,
                                                  video: Path) -> None:
    first = open_window(model=SMALL, source=None)
    first.open_source(str(video))
    qtbot.waitUntil(lambda: first.session.spec == str(video), timeout=10_000)
    wait_result(first, model=SMALL)
    first.controls.top_k.setValue(3)
    first.commands.mirror.setChecked(True)
    first.resize(760, 560)  # inside the offscreen screen (800x600)
    first.close()
    second = open_window(source=None, model=None)
    assert second.settings.source == str(video)
    assert second.controls.current_model() == SMALL
    assert second.controls.top_k.value() == 3
    assert second.commands.mirror.isChecked() and second.views[PRIMARY].mirror
    assert (second.width(), second.height()) == (760, 560)
    wait_result(second, model=SMALL)
    assert len(second.views[PRIMARY].result.top) == 3


def test_bad_file_gives_a_notice_and_nothing_else_changes(qtbot, open_window, wait_result,
                                                          tmp_path: Path,
                                                          monkeypatch) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    spec = window.session.spec
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(bad), "")))
    window.ask_source("file")
    qtbot.waitUntil(lambda: any("broken.mp4" in t and "not a readable video" in t
                                for t in window.banner.texts()), timeout=10_000)
    assert window.banner.isVisible()
    assert window.session.spec == spec and window.controls.source.currentData(Qt.UserRole) == spec
    seen = window.session.frames(PRIMARY)
    qtbot.waitUntil(lambda: window.session.frames(PRIMARY) > seen + 5, timeout=5_000)


def test_absent_device_gives_a_notice_and_the_model_keeps_running(qtbot, open_window,
                                                                  wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    window.request_engine(device="NPU.7")
    qtbot.waitUntil(lambda: any("NPU.7" in t and "not present" in t
                                for t in window.banner.texts()), timeout=10_000)
    assert window.controls.current_device() == "CPU"
    seen = window.session.frames(PRIMARY)
    qtbot.waitUntil(lambda: window.session.frames(PRIMARY) > seen + 5, timeout=5_000)
    assert window.views[PRIMARY].result.model_id == SMALL


def test_paused_frame_is_classified_again_with_a_new_top_k(qtbot, open_window,
                                                           wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_Space)
    assert window.session.paused and window.views[PRIMARY].badge == "PAUSED"
    # A frame read before the pause may still be in flight: wait until the newest frame the
    # capture published is the one on screen.
    hub = window.session.hub
    qtbot.waitUntil(lambda: hub.latest is not None
                    and window.views[PRIMARY].result.frame.index == hub.latest.index,
                    timeout=5_000)
    frozen = window.views[PRIMARY].result.frame.index
    window.controls.top_k.setValue(2)
    qtbot.waitUntil(lambda: len(window.views[PRIMARY].result.top) == 2, timeout=5_000)
    assert window.views[PRIMARY].result.frame.index == frozen


def test_lost_source_notice_stays_until_the_source_is_back(qtbot, open_window) -> None:
    window = open_window(model=SMALL)
    window.session.capture_event.emit("lost", "source lost, retrying: camera 0 sent no frame")
    qtbot.waitUntil(lambda: window.banner.sticky and window.banner.isVisible(), timeout=2_000)
    assert window.banner.text().startswith("source lost, retrying")
    window.session.capture_event.emit("back", "camera 0 is back")
    qtbot.waitUntil(lambda: not window.banner.sticky, timeout=2_000)
    assert window.banner.text() == "camera 0 is back"


def test_quick_model_then_precision_change_keeps_both(qtbot, open_window,
                                                      wait_result) -> None:
    window = open_window(model=DEFAULT)
    wait_result(window, model=DEFAULT)
    window.request_engine(model=SMALL)
    window.request_engine(precision="fp32")  # before the first switch has finished
    qtbot.waitUntil(lambda: window.views[PRIMARY].result.model_id == SMALL
                    and window.views[PRIMARY].result.precision == "fp32", timeout=30_000)
    assert (window.settings.model, window.settings.precision) == (SMALL, "fp32")


def test_mirror_field_sets_the_variable_for_this_process(qtbot, open_window,
                                                         tmp_path: Path) -> None:
    window = open_window(model=SMALL)
    window.mirror_bar.field.setText(str(tmp_path / "absent"))
    window.mirror_bar.field.editingFinished.emit()
    assert os.environ["MNVIEWER_MIRROR"] == str(tmp_path / "absent")
    assert "does not exist" in window.banner.texts()[-1]


def test_recording_writes_an_annotated_video(qtbot, open_window, wait_result,
                                             tmp_path: Path) -> None:
    window = open_window(model=SMALL)
    window.settings.snapshot_dir = str(tmp_path)
    wait_result(window, model=SMALL)
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_R)
    assert window.outputs.recording is not None and "REC" in window.views[PRIMARY].badge
    recording = window.outputs.recording
    qtbot.waitUntil(lambda: recording.written >= 10, timeout=5_000)
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_R)
    assert window.outputs.recording is None
    qtbot.waitUntil(lambda: recording.path.is_file(), timeout=5_000)
    capture = cv2.VideoCapture(str(recording.path))
    ok, image = capture.read()
    capture.release()
    assert ok and image.shape[:2] == (360, 640) and image.std() > 5


def test_a_recording_that_cannot_be_finished_is_reported_not_announced(
        qtbot, open_window, wait_result, tmp_path: Path) -> None:
    window = open_window(model=SMALL)
    window.settings.snapshot_dir = str(tmp_path)
    wait_result(window, model=SMALL)
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_R)
    recording = window.outputs.recording
    qtbot.waitUntil(lambda: recording.written >= 5, timeout=5_000)
    # The file being encoded disappears (as on a removed drive): it cannot be finished.
    for partial in tmp_path.glob(".*partial*"):
        partial.unlink()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_R)
    qtbot.waitUntil(lambda: any("cannot write video" in t for t in window.banner.texts()),
                    timeout=5_000)
    # Until the finishing task has delivered its signals, a wrong "saved" could still come.
    qtbot.waitUntil(lambda: not any(t.name == "finish recording" for t in Task._running),
                    timeout=5_000)
    assert not any(t.startswith("saved") for t in window.banner.texts())
    assert not recording.path.exists()


def test_a_cut_short_video_plays_with_a_warning(qtbot, open_window, wait_result,
                                                shared_dir: Path, tmp_path: Path) -> None:
    data = (shared_dir / "media" / "car-detection.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 20])
    window = open_window(source=str(cut), model=SMALL)
    wait_result(window, model=SMALL)
    qtbot.waitUntil(lambda: any("cut short or damaged" in t for t in window.banner.texts()),
                    timeout=10_000)
    frames = window.session.frames(PRIMARY)
    qtbot.waitUntil(lambda: window.session.frames(PRIMARY) > frames, timeout=5_000)
