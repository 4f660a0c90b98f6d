"""The download-and-build dialog (background, cancelable) and the About dialog."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from mnviewer.gui.about import AboutDialog
from mnviewer.gui.first_run import BuildDialog


def test_build_dialog_reports_progress_and_cancels(qtbot, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MNVIEWER_HOME", str(home))  # nothing fetched or built yet
    dialog = BuildDialog(first_run=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "No model is built yet" in dialog.message.text()
    dialog.start()
    assert dialog.task is not None and not dialog.start_button.isEnabled()
    # Polled, not waitSignal: connecting to and disconnecting from a signal that a worker
    # thread is emitting at that moment can crash PySide.
    qtbot.waitUntil(lambda: dialog.status.text().startswith("fetching"), timeout=10_000)
    with qtbot.waitSignal(dialog.built, timeout=30_000):
        dialog.cancel()
    assert dialog.status.text() == "Cancelled."
    assert dialog.start_button.isEnabled() and dialog.task is None
    assert not (home / "models").exists(), "a cancelled run went on to build"


def test_about_names_versions_licenses_and_attributions(qtbot) -> None:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.browser.toPlainText()
    # The installed OpenVINO (pyproject allows any 2026.x from 2026.4), not a pinned number.
    for needle in ("OpenVINO", "Qt", "OpenCV", version("openvino"),
                   "MobileNet V1/V2 TFLite files from google-coral/test_data, Apache-2.0",
                   "bottle-detection.mp4 from intel-iot-devkit/sample-videos, CC BY 4.0",
                   "Apache License", "Attribution 4.0 International"):
        assert needle in text, needle
