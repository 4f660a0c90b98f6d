"""What compare mode saves: both panes and the header, as on screen.

Snapshots are painted with Qt at the frames' own size; recordings are composed with OpenCV on
the recording thread, like the single-pane recording.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPoint, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QWidget

from mnviewer.gui.overlay import render_annotated
from mnviewer.gui.view import VideoView, paint_marker
from mnviewer.headless import draw_overlay
from mnviewer.pipeline import FrameResult

GAP = 4
MARKER_BGR = (0, 170, 255)
# The header's typography does not survive OpenCV's Hershey fonts, which are ASCII only.
ASCII = str.maketrans({"×": "x", "→": "->", "·": "-", "…": "..."})


def render_pair(views: list[VideoView], header: QWidget) -> QImage | None:
    """Header above both annotated panes, at the frames' resolution; None if a pane is empty."""
    panes = []
    for view in views:
        if view.result is None:
            return None
        overlay = view.overlay if view.show_overlay else None
        panes.append(render_annotated(view.result.frame.image, overlay, mirror=view.mirror))
    height = max(p.height() for p in panes)
    widths = [round(p.width() * height / p.height()) for p in panes]
    width = sum(widths) + GAP * (len(panes) - 1)
    scale = width / max(1, header.width())
    head_h = round(header.height() * scale)
    out = QImage(width, head_h + height, QImage.Format.Format_RGB32)
    out.fill(QColor(18, 18, 18))
    painter = QPainter(out)
    try:
        painter.save()
        painter.scale(scale, scale)  # the header's text is drawn at this size, not stretched
        header.render(painter, QPoint(0, 0))
        painter.restore()
        x = 0
        for view, pane, w in zip(views, panes, widths, strict=True):
            target = QRectF(x, head_h, w, height)
            painter.drawImage(target, pane)
            if view.marker:
                font = painter.font()
                font.setPixelSize(max(12, height // 30))
                painter.setFont(font)
                paint_marker(painter, target, view.marker, at_top=True)  # clear of the labels
            x += w + GAP
    finally:
        painter.end()
    return out


def draw_pair(a: FrameResult, b: FrameResult, lines: list[str], marker: str) -> np.ndarray:
    """One recorded frame: the header lines above both panes drawn as headless mode does."""
    left, right = draw_overlay(a.frame.image, a), draw_overlay(b.frame.image, b)
    h = left.shape[0]
    if right.shape[0] != h:
        right = cv2.resize(right, (round(right.shape[1] * h / right.shape[0]), h))
    if marker:
        for pane in (left, right):
            cv2.rectangle(pane, (2, 2), (pane.shape[1] - 3, pane.shape[0] - 3), MARKER_BGR, 4)
            cv2.putText(pane, marker, (12, pane.shape[0] - 14), cv2.FONT_HERSHEY_SIMPLEX,
                        max(0.5, h / 900), MARKER_BGR, 2, cv2.LINE_AA)
    gap = np.zeros((h, GAP, 3), np.uint8)
    body = np.hstack([left, gap, right])
    scale = max(0.45, body.shape[1] / 2600)
    step = int(28 * scale) + 6
    band = np.full((step * len(lines) + 10, body.shape[1], 3), (42, 36, 32), np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(band, line.translate(ASCII), (10, step * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.7 * scale, (232, 232, 232), 1, cv2.LINE_AA)
    return np.vstack([band, body])
