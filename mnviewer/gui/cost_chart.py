"""The benchmark panel's accuracy-against-cost chart (the MobileNet paper's Figures 4 and 5).

Top-1 against measured latency, MACs or parameters (log x, switchable), one point per variant,
one series per device with its Pareto front. The layout comes from mnviewer.chart, the same as
`mnviewer bench --plot`; this widget paints it with QPainter and exports PNG and SVG. Top-1 is
measured on a labelled folder when one is chosen, else each checkpoint's published figure,
drawn hollow and named as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from mnviewer import bench
from mnviewer.atomic import with_extension
from mnviewer.chart import ChartLayout, Rgb, layout_chart
from mnviewer.errors import MnviewerError, OutputError

AXIS_CHOICES = (("latency", "Latency (measured)"), ("macs", "MACs"), ("params", "Parameters"))
TITLES = {"latency": "ImageNet top-1 against measured latency",
          "macs": "ImageNet top-1 against mult-adds",
          "params": "ImageNet top-1 against parameters"}


def _qcolor(c: Rgb) -> QColor:
    return QColor(*c)


def paint_layout(painter: QPainter, layout: ChartLayout) -> None:
    """Draw mnviewer.chart's primitives (pixel coordinates of `layout`'s size)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillRect(QRectF(0, 0, layout.width, layout.height), QColor(255, 255, 255))
    for ln in layout.lines:
        pen = QPen(_qcolor(ln.color), ln.width)
        if ln.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(ln.x1, ln.y1), QPointF(ln.x2, ln.y2))
    for d in layout.dots:
        painter.setPen(QPen(_qcolor(d.color), 1.5))
        painter.setBrush(_qcolor(d.color) if d.filled else QColor(255, 255, 255))
        painter.drawEllipse(QPointF(d.x, d.y), d.r, d.r)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    font = QFont(painter.font())
    for t in layout.texts:
        font.setPixelSize(max(1, round(t.size)))
        painter.setFont(font)
        painter.setPen(_qcolor(t.color))
        width = painter.fontMetrics().horizontalAdvance(t.text)
        shift = {"start": 0.0, "middle": width / 2, "end": float(width)}[t.anchor]
        if t.vertical:
            painter.save()
            painter.translate(t.x, t.y)
            painter.rotate(-90)
            painter.drawText(QPointF(-shift, 0), t.text)
            painter.restore()
        else:
            painter.drawText(QPointF(t.x - shift, t.y), t.text)


class ChartCanvas(QWidget):
    """Lays the chart out at the widget's size and paints it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []
        self.axis = "latency"
        self.images: Path | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 100)  # the panel shares the window with the live view

    def sizeHint(self) -> QSize:
        return QSize(860, 520)

    def layout_for(self, width: int, height: int) -> ChartLayout:
        return layout_chart(bench.chart_points(self.rows), self.axis, width=width,
                            height=height, title=TITLES[self.axis],
                            footnote=bench.chart_footnote(self.rows, self.images))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            if not self.rows:
                painter.fillRect(QRectF(self.rect()), QColor(255, 255, 255))
                painter.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter,
                                 "Run the benchmark: top-1 against cost appears here")
                return
            paint_layout(painter, self.layout_for(max(480, self.width()),
                                                  max(300, self.height())))
        finally:
            painter.end()

    def render_image(self, width: int = 960, height: int = 620) -> QImage:
        image = QImage(width, height, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        try:
            paint_layout(painter, self.layout_for(width, height))
        finally:
            painter.end()
        return image


class CostChart(QWidget):
    """The chart with its axis switch, the labelled-folder choice and its exports."""

    notice = Signal(str, str)  # level, text
    images_changed = Signal(object)  # Path or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = ChartCanvas()
        self.axis = QComboBox()
        for key, text in AXIS_CHOICES:
            self.axis.addItem(text, key)
        self.folder_button = QPushButton("Top-1 from labelled images…")
        self.folder_button.setToolTip("A folder with index.csv lines 'file,imagenet_index': "
                                      "the next run measures each variant's top-1 on it")
        self.source = QLabel()
        self.exports = {kind: QPushButton(f"Export chart {kind.upper()}")
                        for kind in ("png", "svg")}
        bar = QHBoxLayout()
        bar.addWidget(QLabel("x axis"))
        bar.addWidget(self.axis)
        bar.addWidget(self.folder_button)
        bar.addWidget(self.source, 1)
        for button in self.exports.values():
            bar.addWidget(button)
            button.setEnabled(False)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(bar)
        column.addWidget(self.canvas, 1)
        self.axis.currentIndexChanged.connect(lambda _i: self.set_axis(self.axis.currentData()))
        self.folder_button.clicked.connect(self._ask_folder)
        for kind, button in self.exports.items():
            button.clicked.connect(lambda _=False, k=kind: self._ask_export(k))
        self._show_source()

    @property
    def images(self) -> Path | None:
        return self.canvas.images

    def set_images(self, folder: Path | None) -> None:
        """Measure top-1 on `folder` from the next run on (None: published figures)."""
        self.canvas.images = folder
        self._show_source()
        self.images_changed.emit(folder)

    def set_axis(self, axis: str) -> None:
        self.canvas.axis = axis
        self.axis.setCurrentIndex(self.axis.findData(axis))
        self.canvas.update()

    def set_rows(self, rows: list[Any]) -> None:
        self.canvas.rows = list(rows)
        for button in self.exports.values():
            button.setEnabled(bool(rows))
        self._show_source()
        self.canvas.update()

    def _show_source(self) -> None:
        folder = self.canvas.images
        if folder is not None:
            self.source.setText(f"top-1 measured on {folder} at the next run")
        else:
            self.source.setText("top-1: published figures (hollow points) until a labelled "
                                "folder is chosen")

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Labelled images (index.csv)")
        if folder:
            if not (Path(folder) / "index.csv").is_file():
                self.notice.emit("warning", f"{folder} has no index.csv (lines "
                                            "'file,imagenet_index'): choose another folder")
                return
            self.set_images(Path(folder))

    def _ask_export(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export chart {kind.upper()}",
                                              f"mnviewer-top1-vs-{self.canvas.axis}.{kind}",
                                              f"{kind.upper()} (*.{kind})")
        if path:
            chosen = with_extension(Path(path), kind)  # as the panel's other exports do
            try:
                self.export(chosen)
            except OutputError as exc:
                self.notice.emit("error", str(exc))
            else:
                self.notice.emit("info", f"saved {chosen}")

    def export(self, path: Path) -> None:
        """Write the chart as .png or .svg, as `mnviewer bench --plot` does; OutputError."""
        try:
            bench.write_chart(path, self.canvas.rows, self.canvas.axis, self.canvas.images)
        except OutputError:
            raise
        except (MnviewerError, OSError) as exc:
            raise OutputError(f"cannot write {path} ({exc}): choose another path") from exc
