"""Bar chart of benchmark rows, drawn with QPainter: latency p50 beside MACs for each variant.

Full-convolution variants are drawn in another colour, so each MobileNet stands next to what
its twin costs. Both axes go logarithmic when the values span more than LOG_SPAN, which they
do as soon as a full-convolution model is in the set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from mnviewer.gui.models import si

LOG_SPAN = 20.0
MOBILENET = QColor(80, 170, 110)
FULLCONV = QColor(225, 130, 60)
BACKGROUND = QColor(255, 255, 255)
INK = QColor(40, 40, 40)
GRID = QColor(225, 225, 225)


def row_label(row: Any) -> str:
    return f"{row.id} · {row.precision} · {row.device}"


def _is_fullconv(row: Any) -> bool:
    return row.id.endswith("-fullconv") or row.id.startswith("conv-")


class Axis:
    """Maps values to 0..1 on a linear or log scale that starts at a round number."""

    def __init__(self, values: Sequence[float], log: bool | None) -> None:
        positive = [v for v in values if v > 0] or [1.0]
        low, high = min(positive), max(positive)
        self.log = high / low > LOG_SPAN if log is None else log
        if self.log:
            self.low = 10 ** math.floor(math.log10(low))
            self.high = 10 ** math.ceil(math.log10(high * 1.0001))
        else:
            self.low, self.high = 0.0, high * 1.1

    def __call__(self, value: float) -> float:
        if self.log:
            value = max(value, self.low)
            return math.log10(value / self.low) / math.log10(self.high / self.low)
        return value / self.high if self.high > 0 else 0.0

    def ticks(self) -> list[float]:
        if self.log:
            n = round(math.log10(self.high / self.low))
            return [self.low * 10 ** i for i in range(n + 1)]
        return [self.high * i / 4 for i in range(5)]


class BenchChart(QWidget):
    """Paints the rows it was given; render_image() paints the same at any size for export."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(100)

    def sizeHint(self) -> QSize:
        return QSize(700, 300)

    def set_rows(self, rows: list[Any]) -> None:
        self.rows = list(rows)
        self.update()

    def render_image(self, width: int = 1400) -> QImage:
        height = 90 + 30 * max(1, len(self.rows))
        image = QImage(width, height, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        try:
            self._paint(painter, QRectF(0, 0, width, height))
        finally:
            painter.end()
        return image

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter, QRectF(self.rect()))
        finally:
            painter.end()

    def _paint(self, painter: QPainter, area: QRectF) -> None:
        painter.fillRect(area, BACKGROUND)
        painter.setPen(INK)
        if not self.rows:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter,
                             "Choose variants and press Run: latency and MACs appear here")
            return
        fm = painter.fontMetrics()
        labels = [row_label(r) for r in self.rows]
        label_w = min(area.width() * 0.4, max(fm.horizontalAdvance(t) for t in labels) + 20)
        top, bottom = area.top() + fm.height() * 2 + 8, area.bottom() - fm.height() - 12
        row_h = min(30.0, (bottom - top) / len(self.rows))
        for i, text in enumerate(labels):
            cell = QRectF(area.left() + 6, top + i * row_h, label_w - 12, row_h)
            painter.drawText(cell, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             fm.elidedText(text, Qt.TextElideMode.ElideLeft, int(cell.width())))
        panel_w = (area.right() - area.left() - label_w - 24) / 2
        left = area.left() + label_w
        self._panel(painter, QRectF(left, top, panel_w, row_h * len(self.rows)),
                    "latency p50 (ms)", [r.latency_ms["p50"] for r in self.rows],
                    lambda v: f"{v:.3g}")
        self._panel(painter, QRectF(left + panel_w + 24, top, panel_w, row_h * len(self.rows)),
                    "MACs per image", [float(r.macs) for r in self.rows], si)

    def _panel(self, painter: QPainter, rect: QRectF, title: str, values: list[float],
               fmt: Callable[[float], str]) -> None:
        axis = Axis(values, None)  # the scale follows the data
        fm = painter.fontMetrics()
        painter.setPen(INK)
        scale = "log scale" if axis.log else "linear"
        painter.drawText(QRectF(rect.left(), rect.top() - fm.height() * 2 - 4, rect.width(),
                                fm.height() + 4), Qt.AlignmentFlag.AlignLeft,
                         f"{title} · {scale}")
        for tick in axis.ticks():
            x = rect.left() + axis(tick) * rect.width() * 0.82
            painter.setPen(GRID)
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            painter.setPen(INK)
            painter.drawText(QRectF(x - 40, rect.bottom() + 2, 80, fm.height() + 4),
                             Qt.AlignmentFlag.AlignHCenter, fmt(tick))
        row_h = rect.height() / len(values)
        for i, (row, value) in enumerate(zip(self.rows, values, strict=True)):
            width = max(1.0, axis(value) * rect.width() * 0.82)
            bar = QRectF(rect.left(), rect.top() + i * row_h + row_h * 0.18, width, row_h * 0.64)
            painter.fillRect(bar, FULLCONV if _is_fullconv(row) else MOBILENET)
            painter.setPen(INK)
            painter.drawText(QRectF(bar.right() + 4, bar.top() - 4, 90, bar.height() + 8),
                             Qt.AlignmentFlag.AlignVCenter, fmt(value))
