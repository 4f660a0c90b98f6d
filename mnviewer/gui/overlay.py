"""The overlay: what it says (a plain model that tests read) and how it is painted.

The view, snapshots and compare panes all paint through these functions, so a snapshot shows
exactly what the window shows.
"""

from __future__ import annotations

from collections.abc import Callable
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
MIN_PX = 9.0  # the overlay shrinks to fit a narrow picture, down to this text size
MIN_FONT_PX = 7


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
    font.setPixelSize(max(MIN_FONT_PX, round(pixels)))
    font.setBold(bold)
    return font


def overlay_px(shown_height: float) -> float:
    """The overlay's text size for a picture shown this many pixels high."""
    return min(22.0, max(11.0, shown_height / 26))


def paint_overlay(painter: QPainter, area: QRectF, overlay: Overlay,
                  px: float | None = None) -> None:
    """Labels with score bars at the top left, model and timings at the bottom left.

    `px` is the text size (default: from the area's height); it shrinks until both panels fit
    the area's width, so a portrait picture keeps its labels whole and inside the picture.
    """
    labels_px, footer_px = overlay_sizes(overlay, area, px)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    _paint_labels(painter, area, overlay.labels, labels_px)
    _paint_footer(painter, area, overlay, footer_px)
    painter.restore()


def overlay_sizes(overlay: Overlay, area: QRectF, px: float | None = None) -> tuple[float,
                                                                                    float]:
    """Text sizes of the label panel and the footer: `px` (default: from the area's height),
    less where a panel would not fit the area's width whole."""
    px = px or overlay_px(area.height())
    return (_fit_width(lambda p: _labels_width(overlay.labels, p), px, area.width()),
            _fit_width(lambda p: _footer_width(overlay, p), px, area.width()))


def panel_width(overlay: Overlay, px: float, *, footer: bool = False) -> float:
    """How wide the label panel (or the footer) is at text size `px`, margins included."""
    return _footer_width(overlay, px) if footer else _labels_width(overlay.labels, px)


def _labels_width(labels: tuple[tuple[str, float], ...], px: float) -> float:
    if not labels:
        return 0.0
    metrics = QFontMetricsF(_font(px))
    text_w = max(metrics.horizontalAdvance(label) for label, _ in labels)
    # pad*5: both margins, the gaps between bar, percentage and label, and slack for rounding
    return px * 0.5 * 5 + px * 6 + metrics.horizontalAdvance("100%") + text_w


def _footer_lines(overlay: Overlay, px: float) -> list[tuple[str, QFont, QColor]]:
    small = px * 0.85
    lines = [(overlay.title, _font(small, bold=True), TEXT), (overlay.stats, _font(small), TEXT)]
    if overlay.note:
        lines.append((overlay.note, _font(small), NOTE))
    return lines


def _footer_width(overlay: Overlay, px: float) -> float:
    return _lines_width(_footer_lines(overlay, px), px)


def _lines_width(lines: list[tuple[str, QFont, QColor]], px: float) -> float:
    widths = [QFontMetricsF(font).horizontalAdvance(text) for text, font, _ in lines]
    return max(widths) + px * 0.5 * 3


def _fit_width(width_at: Callable[[float], float], px: float, width: float) -> float:
    """The largest size up to `px` at which a panel fits `width` (not below MIN_PX)."""
    # Text width is nearly proportional to size, fonts come in whole pixels: a few rounds.
    for _ in range(8):
        needed = width_at(px) + px
        if needed <= width or px <= MIN_PX:
            break
        px = max(MIN_PX, min(px - 0.5, px * width / needed))
    return px


def _paint_labels(painter: QPainter, area: QRectF, labels: tuple[tuple[str, float], ...],
                  px: float) -> None:
    if not labels:
        return
    font = _font(px)
    metrics = QFontMetricsF(font)
    row = px * 1.55
    pad = px * 0.5
    bar_w = px * 6
    pct_w = metrics.horizontalAdvance("100%")
    width = min(area.width() - 2 * pad, _labels_width(labels, px))
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
    lines = _footer_lines(overlay, px)
    pad = px * 0.5
    row = small * 1.5
    width = min(area.width() - 2 * pad, _lines_width(lines, px))
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


def render_annotated(image: np.ndarray, overlay: Overlay | None, *, mirror: bool,
                     shown_height: float | None = None) -> QImage:
    """The frame at its own size with the overlay painted on: what a snapshot saves.

    With `shown_height` (how high the view shows the picture), the overlay is the view's one
    scaled to the frame, so the file looks like the screen at any resolution.
    """
    height, width = image.shape[:2]
    out = QImage(width, height, QImage.Format.Format_RGB32)
    painter = QPainter(out)
    try:
        target = QRectF(0, 0, width, height)
        paint_frame(painter, target, frame_image(image), mirror=mirror)
        if overlay is not None:
            px = overlay_px(shown_height) * height / shown_height if shown_height else None
            paint_overlay(painter, target, overlay, px)
    finally:
        painter.end()
    return out


def image_to_bgr(image: QImage) -> np.ndarray:
    """An RGB32 QImage as a BGR uint8 array (a copy), as OpenCV writes it."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    # RGB32 is stored as B, G, R, 255 per pixel on little-endian machines.
    return rows.reshape(height, image.bytesPerLine() // 4, 4)[:, :width, :3].copy()
