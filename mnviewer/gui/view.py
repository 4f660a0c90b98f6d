"""The live view: the newest frame scaled keeping its aspect ratio, with the overlay on top."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from mnviewer.gui.overlay import Overlay, fit, frame_image, paint_frame, paint_overlay
from mnviewer.pipeline import FrameResult, MovingWindow

BACKGROUND = QColor(18, 18, 18)
PLACEHOLDER = QColor(170, 170, 170)
BADGE = QColor(220, 60, 60)
MARKER = QColor(255, 170, 0)


class VideoView(QWidget):
    """Paints the one result it holds; setting a new one replaces it, nothing queues."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.show_overlay = True
        self.mirror = False
        self.badge = ""  # e.g. "PAUSED", shown at the top right
        self.marker = ""  # e.g. "top-1 differs" in compare mode: a frame and a note at the bottom
        self.placeholder = "Opening the source…"
        self.displayed = MovingWindow(1.0)  # new frames painted, for the displayed FPS
        self.displayed_total = 0
        self._result: FrameResult | None = None
        self._overlay: Overlay | None = None
        self._painted: FrameResult | None = None
        self._last_new = 0.0
        # Every pixel is painted each time, so Qt need not clear the background first.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 135)

    @property
    def result(self) -> FrameResult | None:
        return self._result

    @property
    def overlay(self) -> Overlay | None:
        return self._overlay

    def shown_height(self) -> float | None:
        """How many pixels high the picture is shown now (None before the first one)."""
        if self._result is None:
            return None
        image = self._result.frame.image
        return fit(image.shape[1], image.shape[0], QRectF(self.rect())).height()

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    def show_result(self, result: FrameResult, overlay: Overlay) -> None:
        """Hold `result` until the next one; schedule a paint."""
        self._result = result
        self._overlay = overlay
        self.update()

    def clear(self, placeholder: str) -> None:
        self._result = self._overlay = None
        self.placeholder = placeholder
        self.update()

    def displayed_fps(self) -> float:
        """New frames painted per second over the last second (0 once they stop coming)."""
        if time.perf_counter() - self._last_new > self.displayed.seconds:
            return 0.0
        return self.displayed.rate()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            area = QRectF(self.rect())
            painter.fillRect(area, BACKGROUND)
            result = self._result
            if result is None:
                painter.setPen(PLACEHOLDER)
                painter.drawText(area, Qt.AlignmentFlag.AlignCenter, self.placeholder)
            else:
                self._paint_result(painter, area, result)
            if self.badge:
                self._paint_badge(painter, area)
            if self.marker and result is not None:
                paint_marker(painter, area, self.marker)
        finally:
            painter.end()

    def _paint_result(self, painter: QPainter, area: QRectF, result: FrameResult) -> None:
        image = result.frame.image
        target = fit(image.shape[1], image.shape[0], area)
        paint_frame(painter, target, frame_image(image), mirror=self.mirror)
        if self.show_overlay and self._overlay is not None:
            paint_overlay(painter, target, self._overlay)
        if result is not self._painted:
            self._painted = result
            self._last_new = time.perf_counter()
            self.displayed.add(self._last_new, 1.0)
            self.displayed_total += 1

    def _paint_badge(self, painter: QPainter, area: QRectF) -> None:
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(self.badge) + 16
        badge = QRectF(area.right() - width - 8, area.top() + 8, width, metrics.height() + 8)
        painter.fillRect(badge, BADGE)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.badge)


def paint_marker(painter: QPainter, area: QRectF, text: str, *, at_top: bool = False) -> None:
    """A coloured frame around `area` with `text` at its bottom or top (a disagreement in
    compare mode)."""
    painter.setPen(QPen(MARKER, 4))
    painter.drawRect(area.adjusted(2, 2, -2, -2))
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(text) + 16
    y = area.top() + 10 if at_top else area.bottom() - metrics.height() - 16
    note = QRectF(area.center().x() - width / 2, y, width, metrics.height() + 8)
    painter.fillRect(note, MARKER)
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(note, Qt.AlignmentFlag.AlignCenter, text)
