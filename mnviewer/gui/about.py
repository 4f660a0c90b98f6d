"""About dialog: versions of what runs, and the licenses of the models and the demo video."""

from __future__ import annotations

import html
from pathlib import Path

import cv2
import openvino
import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from mnviewer import __version__, paths
from mnviewer.models.catalog import load_catalog

MODEL_ATTRIBUTION = "MobileNet V1/V2 TFLite files from google-coral/test_data, Apache-2.0"
VIDEO_ATTRIBUTION = "bottle-detection.mp4 from intel-iot-devkit/sample-videos, CC BY 4.0"
LICENSE_FILES = (
    ("Models: Apache License 2.0", Path("models") / "LICENSE-models-Apache-2.0.txt"),
    ("Demo video: Creative Commons Attribution 4.0",
     Path("resources") / "LICENSE-videos-CC-BY-4.0.txt"),
)


def versions() -> dict[str, str]:
    return {
        "mnviewer": __version__,
        "OpenVINO": openvino.get_version(),
        "Qt": f"{qVersion()} (PySide6 {PySide6.__version__})",
        "OpenCV": cv2.__version__,
    }


def _license_text(relative: Path) -> str:
    try:
        return (paths.data_root() / relative).read_text(encoding="utf-8")
    except OSError:
        return f"({relative} is missing from this installation)"


def about_html() -> str:
    """The dialog's text: versions, attributions, each source file's license, license texts."""
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                   for k, v in versions().items())
    files = "".join(
        f"<li>{html.escape(s.name)}: {html.escape(s.license)}"
        f"{' — ' + html.escape(s.description) if s.description else ''}</li>"
        for s in load_catalog().sources.values())
    texts = "".join(f"<h3>{html.escape(title)}</h3><pre>{html.escape(_license_text(rel))}</pre>"
                    for title, rel in LICENSE_FILES)
    return (
        "<h2>mnviewer</h2><p>Live MobileNet classification with OpenVINO, and what depthwise "
        "separable convolutions buy against full convolution on this machine.</p>"
        f"<table cellspacing='4'>{rows}</table>"
        f"<h3>Attributions</h3><ul><li>{MODEL_ATTRIBUTION}</li><li>{VIDEO_ATTRIBUTION}</li>"
        "<li>Each full-convolution twin is built here from its MobileNet's own weights "
        "(block-diagonal dense kernels): same predictions, full-convolution cost. Conv "
        "MobileNet gets seeded random weights: it measures speed, its labels mean nothing."
        "</li></ul>"
        f"<h3>Source files</h3><ul>{files}</ul>{texts}"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About mnviewer")
        self.resize(680, 560)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(about_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
