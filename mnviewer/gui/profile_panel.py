"""Profile panel: where one request of the running model spends its time.

Per kind of layer (stem, depthwise, 1x1, dense 3x3, classifier, other) the share of MACs and
the share of time side by side, and every executed layer in a sortable table. Profiling runs
mnviewer.profiling on a Task thread with a second compile of the model (performance counters
on); the live engine never pays for the counters, and nothing runs while the panel is closed.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QHeaderView,
    QLabel,
    QMenu,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mnviewer.gui.models import EngineRequest, si
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.profiling import KIND_TITLES, KINDS, METHOD, Profile, profile_model

if TYPE_CHECKING:
    from mnviewer.gui.main_window import MainWindow

SHORTCUT = "Shift+P"
MACS_COLOR = QColor(70, 130, 200)
TIME_COLOR = QColor(230, 130, 50)
INK = QColor(40, 40, 40)
COLUMNS = ("Layer", "Kind", "MACs", "ms", "Share of time", "Kernel", "Precision")


def _run(request: EngineRequest, task: Task) -> Profile:
    return profile_model(request.model, request.precision, request.device,
                         should_stop=lambda: task.cancelled)


class KindBars(QWidget):
    """Two bars per kind: share of MACs and share of time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profile: Profile | None = None
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(520, 240)

    def set_profile(self, profile: Profile | None) -> None:
        self.profile = profile
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self.paint(painter, QRectF(self.rect()))
        finally:
            painter.end()

    def paint(self, painter: QPainter, area: QRectF) -> None:
        painter.fillRect(area, QColor(255, 255, 255))
        painter.setPen(INK)
        profile = self.profile
        if profile is None:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "Profiling…")
            return
        fm = painter.fontMetrics()
        line = fm.height()
        legend_y = area.top() + 6
        for i, (color, text) in enumerate(((MACS_COLOR, "share of MACs"),
                                           (TIME_COLOR, "share of time"))):
            x = area.left() + 110 + i * 150
            painter.fillRect(QRectF(x, legend_y + 2, 14, line - 4), color)
            painter.setPen(INK)
            painter.drawText(QRectF(x + 20, legend_y, 130, line), Qt.AlignmentFlag.AlignLeft,
                             text)
        top = legend_y + line + 8
        row_h = max(2.0 * line, (area.bottom() - top - 4) / len(KINDS))
        label_w = 100.0
        bar_w = max(40.0, area.width() - label_w - 70)
        for i, kind in enumerate(KINDS):
            k = profile.kinds[kind]
            y = top + i * row_h
            painter.setPen(INK)
            painter.drawText(QRectF(area.left() + 4, y, label_w - 10, row_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             KIND_TITLES[kind])
            for j, (share, color) in enumerate(((k.share_macs, MACS_COLOR),
                                                (k.share_time, TIME_COLOR))):
                h = row_h / 2 - 3
                bar = QRectF(area.left() + label_w, y + 2 + j * (h + 2), max(1.0, share * bar_w),
                             h)
                painter.fillRect(bar, color)
                painter.setPen(INK)
                painter.drawText(QRectF(bar.right() + 4, bar.top(), 64, h),
                                 Qt.AlignmentFlag.AlignVCenter, f"{share:.1%}")

    def render_image(self, width: int = 720, height: int = 300) -> QImage:
        image = QImage(width, height, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        try:
            self.paint(painter, QRectF(0, 0, width, height))
        finally:
            painter.end()
        return image


class NumberItem(QTableWidgetItem):
    """A table cell shown as text and sorted by its number."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, NumberItem):
            return self.value < other.value
        return super().__lt__(other)


class ProfilePanel(QWidget):
    """Follows the main pane's model while shown; idle while hidden."""

    notice = Signal(str, str)  # level, text
    profiled = Signal(object)  # Profile

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.active = False
        self.wanted: EngineRequest | None = None  # the running model's variant
        self.shown: EngineRequest | None = None  # what the panel shows (or is profiling)
        self.profile: Profile | None = None
        self.task: Task | None = None
        self.runs = 0  # profiles started, for the record of what the panel cost
        self.title = QLabel("Open a model to profile it.")
        self.title.setWordWrap(True)
        self.bars = KindBars()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setToolTip(METHOD)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.bars)
        split.addWidget(self.table)
        split.setSizes([240, 300])
        column = QVBoxLayout(self)
        column.addWidget(self.title)
        column.addWidget(split, 1)

    def follow(self, request: EngineRequest) -> None:
        """The main pane now runs `request`: profile it if the panel is shown."""
        self.wanted = request
        self._refresh()

    def set_active(self, on: bool) -> None:
        self.active = on
        if not on and self.task is not None:
            self.task.cancel()  # nothing of the panel runs while it is closed
            self.task = None
            self.shown = None if self.profile is None else self.shown
        self._refresh()

    def _refresh(self) -> None:
        if not self.active or self.wanted is None or self.wanted == self.shown:
            return
        if self.task is not None:
            self.task.cancel()
        request = self.shown = self.wanted
        self.runs += 1
        self.profile = None
        self.bars.set_profile(None)
        self.title.setText(f"Profiling {request.label}: {METHOD.split(': ', 1)[1]}")
        task = Task(partial(_run, request), f"profile {request.label}", context=request)
        task.succeeded.connect(self._on_done, QUEUED)
        task.failed.connect(self._on_failed, QUEUED)
        self.task = task
        task.start()

    def _on_done(self, task: Task, profile: Profile) -> None:
        if task is not self.task:
            return
        self.task = None
        self.show_profile(profile)
        self.profiled.emit(profile)

    def _on_failed(self, task: Task, message: str) -> None:
        if task is not self.task:
            return
        self.task = None
        self.title.setText(f"Cannot profile {task.context.label}: {message}")
        self.notice.emit("warning", f"profile: {message}")

    def show_profile(self, profile: Profile) -> None:
        self.profile = profile
        pointwise = profile.kinds["pointwise"]
        self.title.setText(
            f"<b>{profile.model} {profile.precision} on {profile.device}</b>: "
            f"{profile.total_ms:.3f} ms in layers per request (median of {profile.requests} "
            f"requests after {profile.warmup} warm-up) · 1x1 convolutions: "
            f"{pointwise.share_macs:.1%} of MACs, {pointwise.share_time:.1%} of time")
        self.bars.set_profile(profile)
        table = self.table
        table.setSortingEnabled(False)
        table.setRowCount(len(profile.layers))
        total = profile.total_ms or 1.0
        for r, layer in enumerate(profile.layers):
            cells: list[QTableWidgetItem] = [
                QTableWidgetItem(layer.name), QTableWidgetItem(KIND_TITLES[layer.kind]),
                NumberItem(layer.macs, si(layer.macs) if layer.macs else ""),
                NumberItem(layer.ms, f"{layer.ms:.4f}"),
                NumberItem(layer.ms / total, f"{layer.ms / total:.1%}"),
                QTableWidgetItem(layer.exec_type), QTableWidgetItem(layer.precision)]
            for c, cell in enumerate(cells):
                table.setItem(r, c, cell)
        table.setSortingEnabled(True)
        table.sortItems(COLUMNS.index("ms"), Qt.SortOrder.DescendingOrder)
        table.resizeColumnsToContents()

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.join(5.0)


def install(window: MainWindow, panel: ProfilePanel) -> QDockWidget:
    """View ▸ Profile panel (Shift+P): a dock beside the live view, hidden at first."""
    dock = QDockWidget("Profile", window)
    dock.setObjectName("profile")
    dock.setWidget(panel)
    dock.hide()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    action = dock.toggleViewAction()
    action.setText("P&rofile panel")
    action.setShortcut(QKeySequence(SHORTCUT))
    action.setStatusTip("Time and MACs per layer kind of the running model (Shift+P)")
    window.addAction(action)
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if isinstance(menu, QMenu) and menu_action.text().replace("&", "") == "View":
            menu.addAction(action)
    dock.visibilityChanged.connect(panel.set_active)
    return dock
