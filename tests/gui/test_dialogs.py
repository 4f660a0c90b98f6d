"""The About dialog (the build dialog is tested in test_first_run.py)."""

from __future__ import annotations

from importlib.metadata import version

from mnviewer.gui.about import AboutDialog


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
