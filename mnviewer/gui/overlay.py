"""The overlay: what it says (a plain model that tests read) and how it is painted.

The view, snapshots and compare panes all paint through these functions, so a snapshot shows
exactly what the window shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter

from mnviewer.pipeline import FrameResult

PANEL = QColor(0, 0, 0, 150)
TOP_BAR = QColor(80, 200, 120)
BAR = QColor(110, 150, 210)
TEXT = QColor(255, 255, 255)
NOTE = QColor(255, 190, 80)


@dataclass(frozen=True)
class Overlay:
    """Everything the overlay says about one result."""

    labels: tuple[tuple[str, float], ...]  # short label, score; best first
    title: str  # model · precision · executing device
    stats: str  # source and inference FPS, latency
    note: str = ""  # a warning worth more than the labels

    @property
    def text(self) -> str:
        lines = [f"{label} {score:.0%}" for label, score in self.labels]
        return "\n".join([*lines, self.title, self.stats, self.note]).strip()


def short_label(label: str) -> str:
    """ImageNet labels list synonyms ("tench, Tinca tinca"): the first one is enough."""
    return label.split(",", 1)[0]


def overlay_for(result: FrameResult, *, source_fps: float, trained: bool = True,
                losses: tuple[int, float] = (0, 0.0)) -> Overlay:
    """The overlay of one result; latency is the median over the pipeline's last second.

    losses: how often a live source came back after being lost, and the seconds it was lost.
    """
    labels = tuple((short_label(p.label), p.score) for p in result.top)
    stats = (f"source {source_fps:.1f} fps · inference {result.fps:.1f} fps · "
             f"latency p50 {result.infer_p50_ms:.2f} ms")
    reconnects, lost_s = losses
    if reconnects or lost_s:
        stats += f" · reconnected {reconnects}× · lost {lost_s:.1f} s"
    note = "" if trained else "random weights: a speed reference, its labels mean nothing"
    return Overlay(labels, f"{result.model_id} · {result.precision} · {result.device}", stats,
                   note)


def frame_image(image: np.ndarray) -> QImage:
    """The BGR frame as an RGB32 QImage owning its own copy of the pixels.

    Qt's raster engine paints RGB32 as it is but converts BGR888 inside every scaled
    drawImage; converting once here makes each paint faster, and `image` need not outlive it.
    """
    height, width = image.shape[:2]
    return QImage(image.data, width, height, image.strides[0],
                  QImage.Format.Format_BGR888).convertToFormat(QImage.Format.Format_RGB32)


def fit(width: int, height: int, area: QRectF) -> QRectF:
    """The largest rectangle of that aspect ratio centred in `area`."""
    if width <= 0 or height <= 0:
        return QRectF(area)
    scale = min(area.width() / width, area.height() / height)
    w, h = width * scale, height * scale
    return QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)


def paint_frame(painter: QPainter, target: QRectF, image: QImage, *, mirror: bool) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    if mirror:
        painter.translate(target.left() + target.right(), 0)
        painter.scale(-1, 1)
    painter.drawImage(target, image)
    painter.restore()


def _font(pixels: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(9, round(pixels)))
    font.setBold(bold)
    return font


def paint_overlay(painter: QPainter, area: QRectF, overlay: Overlay) -> None:
    """Labels with score bars at the top left, model and timings at the bottom left."""
    px = min(22.0, max(11.0, area.height() / 26))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    _paint_labels(painter, area, overlay.labels, px)
    _paint_footer(painter, area, overlay, px)
    painter.restore()


def _paint_labels(painter: QPainter, area: QRectF, labels: tuple[tuple[str, float], ...],
                  px: float) -> None:
    if not labels:
        return
    font = _font(px)
    metrics = QFontMetricsF(font)
    row = px * 1.55
    pad = px * 0.5
    bar_w = px * 6
    text_w = max(metrics.horizontalAdvance(label) for label, _ in labels)
    pct_w = metrics.horizontalAdvance("100%")
    width = min(area.width() - 2 * pad, pad * 4 + text_w + bar_w + pct_w)
    panel = QRectF(area.left() + pad, area.top() + pad, width, row * len(labels) + pad)
    painter.fillRect(panel, PANEL)
    painter.setFont(font)
    for i, (label, score) in enumerate(labels):
        y = panel.top() + pad / 2 + i * row
        bar = QRectF(panel.left() + pad, y + row * 0.2, bar_w * max(0.0, min(1.0, score)),
                     row * 0.6)
        painter.fillRect(bar, TOP_BAR if i == 0 else BAR)
        painter.setPen(TEXT)
        pct = QRectF(panel.left() + pad + bar_w + pad, y, pct_w, row)
        painter.drawText(pct, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         f"{score:.0%}")
        text = QRectF(pct.right() + pad, y, panel.right() - pct.right() - 2 * pad, row)
        elided = metrics.elidedText(label, Qt.TextElideMode.ElideRight, text.width())
        painter.drawText(text, Qt.AlignmentFlag.AlignVCenter, elided)


def _paint_footer(painter: QPainter, area: QRectF, overlay: Overlay, px: float) -> None:
    small = px * 0.85
    lines = [(overlay.title, _font(small, bold=True), TEXT),
             (overlay.stats, _font(small), TEXT)]
    if overlay.note:
        lines.append((overlay.note, _font(small), NOTE))
    pad = px * 0.5
    row = small * 1.5
    widths = [QFontMetricsF(font).horizontalAdvance(text) for text, font, _ in lines]
    width = min(area.width() - 2 * pad, max(widths) + 2 * pad)
    panel = QRectF(area.left() + pad, area.bottom() - pad - row * len(lines) - pad, width,
                   row * len(lines) + pad)
    painter.fillRect(panel, PANEL)
    for i, (text, font, color) in enumerate(lines):
        painter.setFont(font)
        painter.setPen(color)
        metrics = QFontMetricsF(font)
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width - 2 * pad)
        baseline = panel.top() + pad / 2 + i * row + (row + metrics.ascent()
                                                      - metrics.descent()) / 2
        painter.drawText(QPointF(panel.left() + pad, baseline), elided)


def render_annotated(image: np.ndarray, overlay: Overlay | None, *, mirror: bool) -> QImage:
    """The frame at its own size with the overlay painted on: what a snapshot saves."""
    height, width = image.shape[:2]
    out = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(out)
    try:
        target = QRectF(0, 0, width, height)
        paint_frame(painter, target, frame_image(image), mirror=mirror)
        if overlay is not None:
            paint_overlay(painter, target, overlay)
    finally:
        painter.end()
    return out
