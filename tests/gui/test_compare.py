"""Compare mode on the real demo video: any pair, agreement, what is saved, switching."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtGui import QImage

from mnviewer.gui.compare import DISAGREE
from mnviewer.gui.models import EngineRequest
from mnviewer.gui.pair_picker import PairPicker, SideChoice
from mnviewer.gui.pair_render import GAP
from mnviewer.gui.session import PARTNER, PRIMARY

SMALL = "mobilenet-v1-0.25-128"
OTHER = "mobilenet-v1-0.5-160"
CONV = "conv-mobilenet-1.0-224"  # random weights: its top-1 differs from a trained model's
W, H = 640, 360  # the demo video's frame size


def request(model: str, precision: str = "int8", device: str = "CPU") -> EngineRequest:
    return EngineRequest(model, precision, device)


def start_pair(qtbot, open_window, wait_result, a: EngineRequest, b: EngineRequest):
    window = open_window(model=a.model, precision=a.precision, device="CPU")
    wait_result(window, model=a.model)
    window.compare_pair(a, b)
    return window


def wait_figures(qtbot, window, frames: int = 5, timeout: int = 30_000):
    def ready() -> bool:
        tracker = window.compare_mode.tracker
        figures = tracker.figures() if tracker is not None else None
        return figures is not None and figures.frames >= frames \
            and "top-1 agreement" in window.header.plain_text

    qtbot.waitUntil(ready, timeout=timeout)
    return window.compare_mode.tracker.figures()


def test_any_pair_int8_against_fp32_shows_both_sides_and_their_agreement(
        qtbot, open_window, wait_result) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL),
                        request(SMALL, "fp32"))
    assert window.session.comparing and window.views[PARTNER].isVisible()
    figures = wait_figures(qtbot, window)
    assert (figures.a.precision, figures.b.precision) == ("int8", "fp32")
    assert figures.mac_ratio == 1.0 and figures.speedup > 0
    assert figures.latency_a["p90"] >= figures.latency_a["p50"] > 0
    text = window.header.plain_text
    for part in ("A  mobilenet-v1-0.25-128 int8", "B  mobilenet-v1-0.25-128 fp32", "p50",
                 "p90", "MACs", "params", "frames differ", "the same MACs"):
        assert part in text, part
    assert "faster than B" in text or "slower than B" in text
    # Both panes are given the same frames.
    qtbot.waitUntil(lambda: window.views[PRIMARY].result.frame
                    is window.views[PARTNER].result.frame, timeout=5_000)


def test_a_variant_compared_with_itself_agrees_on_every_frame(qtbot, open_window,
                                                              wait_result) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL), request(SMALL))
    assert any("with itself" in t for t in window.banner.texts())
    figures = wait_figures(qtbot, window, frames=10)
    assert figures.top1_agreement == 1.0 and figures.disagreed == 0
    assert "the same variant on both sides" in window.header.plain_text


def test_frames_where_the_two_disagree_are_counted_and_marked(qtbot, open_window,
                                                              wait_result) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL), request(CONV))
    figures = wait_figures(qtbot, window, frames=2, timeout=60_000)
    assert figures.disagreed >= 1
    qtbot.waitUntil(lambda: window.views[PRIMARY].marker == DISAGREE, timeout=10_000)
    assert window.views[PARTNER].marker == DISAGREE
    assert f"{figures.disagreed} of {figures.frames} frames differ" in \
        window.header.plain_text or "frames differ" in window.header.plain_text


def test_compare_snapshot_keeps_both_panes_and_the_header(qtbot, open_window, wait_result,
                                                          tmp_path: Path) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL), request(SMALL, "fp32"))
    wait_figures(qtbot, window)
    path = window.snapshot(tmp_path / "pair.png")
    assert path is not None
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert image.width() == 2 * W + GAP and image.height() > H
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rows = pixels.reshape(image.height(), image.bytesPerLine())[:, :image.width() * 3]
    rows = rows.reshape(image.height(), image.width(), 3)
    header, right = rows[:image.height() - H], rows[image.height() - H:, W + GAP:]
    assert header.std() > 5, "the header is missing"
    assert right.std() > 5, "the right pane is missing"


def test_compare_recording_keeps_both_panes_and_the_header(qtbot, open_window, wait_result,
                                                           tmp_path: Path) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL), request(SMALL, "fp32"))
    window.settings.snapshot_dir = str(tmp_path)
    wait_figures(qtbot, window)
    window.set_recording(True)
    recording = window.outputs.recording
    qtbot.waitUntil(lambda: recording.written >= 10, timeout=10_000)
    window.set_recording(False)
    qtbot.waitUntil(lambda: recording.path.is_file(), timeout=5_000)
    capture = cv2.VideoCapture(str(recording.path))
    ok, image = capture.read()
    capture.release()
    assert ok and image.shape[1] == 2 * W + GAP and image.shape[0] > H
    assert image[:image.shape[0] - H].std() > 5, "the header band is missing"
    assert image[image.shape[0] - H:, W + GAP:].std() > 5, "the right pane is missing"


def test_after_a_model_switch_the_header_measures_until_the_new_pair_runs(
        qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    window.commands.compare.setChecked(True)  # key C
    wait_figures(qtbot, window)
    shown: list[str] = []
    window.session.result_ready.connect(lambda _pane: shown.append(window.header.plain_text))
    window.request_engine(model=OTHER)
    assert window.header.plain_text.startswith("Measuring")
    wait_result(window, pane=PARTNER, model=OTHER + "-fullconv")
    wait_figures(qtbot, window)
    for text in shown:
        if not text.startswith("Measuring"):
            assert SMALL not in text, f"the header paired an old model: {text}"


def test_a_model_without_a_twin_is_compared_with_a_sensible_partner(
        qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    window.commands.compare.setChecked(True)  # key C
    window.request_engine(model=CONV)
    qtbot.waitUntil(lambda: any("without a twin" in t for t in window.banner.texts()),
                    timeout=5_000)
    assert window.session.comparing and window.commands.compare.isChecked()
    wait_result(window, pane=PARTNER, model="mobilenet-v1-1.0-224", timeout=60_000)


def test_a_side_that_cannot_compile_leaves_the_other_running(qtbot, open_window,
                                                             wait_result) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL),
                        request(SMALL, device="NPU.7"))
    qtbot.waitUntil(lambda: any("side B cannot run" in t for t in window.banner.texts()),
                    timeout=10_000)
    assert window.session.comparing
    assert "cannot run" in window.header.plain_text
    seen = window.session.frames(PRIMARY)
    qtbot.waitUntil(lambda: window.session.frames(PRIMARY) > seen + 5, timeout=5_000)


def test_pair_picker_offers_every_model_precision_and_device(qtbot) -> None:
    picker = PairPicker(request(SMALL), request(SMALL, "fp32"))
    qtbot.addWidget(picker)
    a, b = picker.sides
    models = [a.model.itemText(i) for i in range(a.model.count())]
    assert SMALL + "-fullconv" in models and CONV in models
    assert "CPU" in [a.device.itemText(i) for i in range(a.device.count())]
    b.model.setCurrentText(OTHER)
    b.precision.setCurrentText("fp16")
    assert picker.chosen() == (request(SMALL), request(OTHER, "fp16"))


def test_a_chosen_side_b_stays_when_the_main_model_changes(qtbot, open_window,
                                                           wait_result) -> None:
    window = start_pair(qtbot, open_window, wait_result, request(SMALL), request(SMALL, "fp32"))
    wait_figures(qtbot, window)
    window.request_engine(model=OTHER)
    wait_result(window, model=OTHER)
    figures = wait_figures(qtbot, window)
    assert (figures.a.model, figures.a.precision) == (OTHER, "int8")
    assert (figures.b.model, figures.b.precision) == (SMALL, "fp32")


def test_compare_any_pair_is_in_the_view_menu(qtbot, open_window) -> None:
    window = open_window(model=SMALL)
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    pair = next(a for a in view.actions() if a.text() == "Compare any &pair…")
    assert pair.shortcut().toString() == "Shift+C"


def test_pair_picker_offers_only_the_precisions_a_model_has(qtbot) -> None:
    # An imported float model without calibration images has no int8.
    side = SideChoice({SMALL: ("int8", "fp16", "fp32"), "float-net": ("fp16", "fp32")},
                      ["CPU"], request(SMALL))
    qtbot.addWidget(side.precision)
    side.model.setCurrentText("float-net")
    offered = [side.precision.itemText(i) for i in range(side.precision.count())]
    assert offered == ["fp16", "fp32"] and side.request().precision == "fp16"
