"""A live plot of inference latency over the last seconds, one line per pane."""

from __future__ import annotations

import math
import time
from collections import deque

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

SECONDS = 10.0
# Wider antialiased lines take Qt's stroker, about 50 times slower than a 1-pixel line (4 ms
# against 0.1 ms for 300 points here): with two panes at 30 FPS that was a third of a core.
LINE_WIDTH = 1.0
REPAINT_MS = 50  # the plot scrolls smoothly at 20 repaints a second, whatever the frame rate
COLORS = (QColor(80, 200, 120), QColor(240, 150, 60))
BACKGROUND = QColor(28, 28, 30)
GRID = QColor(70, 70, 74)
LABEL = QColor(190, 190, 190)


def nice_ceiling(value: float) -> float:
    """The next of 1, 2, 5 × 10^n at or above value: an axis top that reads well."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


class LatencyPlot(QWidget):
    """Latency (ms) against time, the newest at the right edge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[int, deque[tuple[float, float]]] = {}
        self._names: dict[int, str] = {}
        self._repaint_due = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(110)

    def sizeHint(self) -> QSize:
        return QSize(600, 120)

    def add(self, pane: int, latency_ms: float, name: str) -> None:
        now = time.monotonic()
        points = self._series.setdefault(pane, deque())
        points.append((now, latency_ms))
        while points and points[0][0] < now - SECONDS:
            points.popleft()
        self._names[pane] = name
        if not self._repaint_due:
            self._repaint_due = True
            QTimer.singleShot(REPAINT_MS, self, self._repaint)  # dropped if the plot is gone

    def _repaint(self) -> None:
        self._repaint_due = False
        self.update()

    def clear(self, pane: int | None = None) -> None:
        """Forget one pane's history (or all): after a model switch the old line misleads."""
        if pane is None:
            self._series.clear()
        else:
            self._series.pop(pane, None)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), BACKGROUND)
            fm = painter.fontMetrics()
            plot = QRectF(self.rect()).adjusted(fm.horizontalAdvance("000 ms") + 10, 8, -10,
                                                -fm.height() - 6)
            top = nice_ceiling(1.1 * max((v for s in self._series.values() for _, v in s),
                                         default=1.0))
            self._paint_axes(painter, plot, top)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            now = time.monotonic()
            for pane, points in sorted(self._series.items()):
                self._paint_line(painter, plot, top, now, points, COLORS[pane % len(COLORS)])
            self._paint_legend(painter, plot)
        finally:
            painter.end()

    @staticmethod
    def _paint_axes(painter: QPainter, plot: QRectF, top: float) -> None:
        fm = painter.fontMetrics()
        for i in range(5):
            y = plot.bottom() - plot.height() * i / 4
            painter.setPen(GRID)
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(LABEL)
            value = top * i / 4
            text = f"{value:.3g} ms"
            painter.drawText(QRectF(0, y - fm.height() / 2, plot.left() - 6, fm.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        for seconds in range(0, int(SECONDS) + 1, 2):
            x = plot.right() - plot.width() * seconds / SECONDS
            text = "now" if seconds == 0 else f"-{seconds} s"
            painter.drawText(QRectF(x - 30, plot.bottom() + 2, 60, fm.height() + 4),
                             Qt.AlignmentFlag.AlignCenter, text)

    @staticmethod
    def _paint_line(painter: QPainter, plot: QRectF, top: float, now: float,
                    points: deque[tuple[float, float]], color: QColor) -> None:
        right, bottom, width, height = plot.right(), plot.bottom(), plot.width(), plot.height()
        # Built from a list in one go: QPolygonF.append corrupts a reference count in PySide6.
        line = QPolygonF([
            QPointF(max(right - width * (now - t) / SECONDS, plot.left()),
                    bottom - height * min(value / top, 1.0))
            for t, value in points])
        painter.setPen(QPen(color, LINE_WIDTH))
        painter.drawPolyline(line)

    def _paint_legend(self, painter: QPainter, plot: QRectF) -> None:
        fm = painter.fontMetrics()
        x = plot.left() + 8
        for pane, points in sorted(self._series.items()):
            if not points:
                continue
            text = f"{self._names.get(pane, '')}: {points[-1][1]:.2f} ms"
            painter.fillRect(QRectF(x, plot.top() + 4, 10, 10), COLORS[pane % len(COLORS)])
            painter.setPen(LABEL)
            painter.drawText(QPointF(x + 14, plot.top() + 4 + fm.ascent() - 1), text)
            x += fm.horizontalAdvance(text) + 34
