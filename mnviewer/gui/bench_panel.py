"""Benchmark panel: runs mnviewer.bench over chosen variants and devices in the background,
then shows a table, a bar chart of latency and MACs, and the accuracy-against-cost chart (one
series per device); exportable as CSV, JSON, PNG and SVG."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mnviewer import bench
from mnviewer.atomic import with_extension, write_text_atomic
from mnviewer.engine import available_devices
from mnviewer.errors import OutputError
from mnviewer.gui.bench_chart import BenchChart
from mnviewer.gui.cost_chart import CostChart
from mnviewer.gui.models import build_all, si
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.models.catalog import PRECISIONS, load_catalog

DEFAULT_VARIANTS = ("mobilenet-v1-1.0-224", "mobilenet-v1-1.0-224-fullconv")
COLUMNS = ("Model", "Precision", "Device", "p50 ms", "p90 ms", "FPS", "MACs", "Params",
           "Top-1", "Speed-up vs full conv", "MAC ratio")


def _run(ids: list[str], precisions: list[str], devices: list[str], seconds: float,
         images: Path | None, task: Task) -> list[Any]:
    catalog = load_catalog()
    # Built first, under the GUI's build lock, so the benchmark never builds next to a switch.
    build_all([catalog.get(i) for i in ids], precisions,
              progress=lambda text: task.report(0, 0, text))
    return list(bench.run_benchmark(
        ids, precisions, devices, seconds=seconds, images=images,
        on_progress=lambda done, total, text: task.report(done, total, text),
        should_stop=lambda: task.cancelled))


def top1_cell(row: Any) -> str:
    """Measured top-1, else the checkpoint's published one, marked as such."""
    if row.top1 is not None:
        return f"{row.top1:.1%}"
    if row.published_top1 is not None:
        return f"{row.published_top1:.1%} (published)"
    return ""


def table_cells(row: Any) -> list[str]:
    def opt(value: float | None, fmt: str) -> str:
        return "" if value is None else format(value, fmt)

    return [row.id, row.precision, row.device, f"{row.latency_ms['p50']:.3f}",
            f"{row.latency_ms['p90']:.3f}", f"{row.throughput_fps:.1f}", si(row.macs),
            si(row.params), top1_cell(row), opt(row.speedup_vs_fullconv, ".2f"),
            opt(row.mac_ratio, ".2f")]


class BenchPanel(QWidget):
    """Pick variants, precisions and devices; Run; read the table and chart; export."""

    running_changed = Signal(bool)
    notice = Signal(str, str)  # level, text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []
        self.task: Task | None = None
        self.planned = 0  # measurements the current or last run was asked for
        self.variants = QListWidget()
        self.precisions = {p: QCheckBox(p) for p in PRECISIONS}
        self.devices = {d: QCheckBox(d) for d in available_devices()}
        self.seconds = QDoubleSpinBox()
        self.run_button = QPushButton("Run")
        self.stop_button = QPushButton("Stop")
        self.progress = QProgressBar()
        self.status = QLabel()
        self.table = QTableWidget(0, len(COLUMNS))
        self.chart = BenchChart()
        self.cost_chart = CostChart()
        self.exports = {kind: QPushButton(f"Export {kind.upper()}")
                        for kind in ("csv", "json", "png")}
        self._layout()
        self._fill_choices()
        self._set_running(False)

    def _layout(self) -> None:
        choices = QFormLayout()
        choices.addRow("Precisions", self._row(list(self.precisions.values())))
        choices.addRow("Devices", self._row(list(self.devices.values())))
        choices.addRow("Seconds each", self.seconds)
        left = QVBoxLayout()
        left.addWidget(QLabel("Variants"))
        left.addWidget(self.variants, 1)
        left.addLayout(choices)
        left.addLayout(self._row([self.run_button, self.stop_button]))
        left.addWidget(self.progress)
        left.addWidget(self.status)
        side = QWidget()
        side.setLayout(left)
        side.setMaximumWidth(360)
        results = QSplitter(Qt.Orientation.Vertical)
        results.addWidget(self.table)
        charts = QTabWidget()
        charts.addTab(self.cost_chart, "Top-1 against cost")
        charts.addTab(self.chart, "Latency and MACs")
        results.addWidget(charts)
        results.setSizes([160, 420])
        right = QVBoxLayout()
        right.addWidget(results, 1)
        right.addLayout(self._row(list(self.exports.values()), stretch=True))
        main = QHBoxLayout(self)
        main.addWidget(side)
        main.addLayout(right, 1)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.status.setWordWrap(True)
        self.cost_chart.notice.connect(self.notice)
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        for kind, button in self.exports.items():
            button.clicked.connect(lambda _=False, k=kind: self._ask_export(k))

    def sizeHint(self) -> QSize:
        # Compact: the panel opens below the video, which must stay the larger part.
        return QSize(1000, 300)

    @staticmethod
    def _row(widgets: list[QWidget], stretch: bool = False) -> QHBoxLayout:
        row = QHBoxLayout()
        if stretch:
            row.addStretch(1)
        for widget in widgets:
            row.addWidget(widget)
        return row

    def _fill_choices(self) -> None:
        for spec in load_catalog().models:
            item = QListWidgetItem(spec.id)
            checked = spec.id in DEFAULT_VARIANTS
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.variants.addItem(item)
        self.precisions["int8"].setChecked(True)
        if "CPU" in self.devices:
            self.devices["CPU"].setChecked(True)
        self.seconds.setRange(0.2, 30.0)
        self.seconds.setSingleStep(0.5)
        self.seconds.setValue(1.0)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)

    def choose(self, ids: list[str], precisions: list[str], devices: list[str],
               seconds: float) -> None:
        """Set the choices from code (tests, scripts)."""
        for i in range(self.variants.count()):
            item = self.variants.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in ids
                               else Qt.CheckState.Unchecked)
        for name, box in self.precisions.items():
            box.setChecked(name in precisions)
        for name, box in self.devices.items():
            box.setChecked(name in devices)
        self.seconds.setValue(seconds)

    def chosen(self) -> tuple[list[str], list[str], list[str]]:
        ids = [self.variants.item(i).text() for i in range(self.variants.count())
               if self.variants.item(i).checkState() == Qt.CheckState.Checked]
        precisions = [p for p, box in self.precisions.items() if box.isChecked()]
        devices = [d for d, box in self.devices.items() if box.isChecked()]
        return ids, precisions, devices

    # --- running -------------------------------------------------------------------------

    def start(self) -> None:
        ids, precisions, devices = self.chosen()
        if not (ids and precisions and devices) or self.task:
            self.status.setText("Choose at least one variant, precision and device.")
            return
        # Every argument is read here: the task's thread must not touch the widgets.
        self.task = Task(partial(_run, ids, precisions, devices, self.seconds.value(),
                                 self.cost_chart.images), "benchmark")
        self.task.progress.connect(self._on_progress, QUEUED)
        self.task.succeeded.connect(self._on_done, QUEUED)
        self.task.failed.connect(self._on_failed, QUEUED)
        self.planned = len(ids) * len(precisions) * len(devices)
        self.progress.setRange(0, 0)
        self.status.setText("Building the chosen variants…")
        self._set_running(True)
        self.task.start()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Stopping after the current variant…")

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.join(5.0)

    @property
    def running(self) -> bool:
        return self.task is not None

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for button in self.exports.values():
            button.setEnabled(bool(self.rows) and not running)
        self.running_changed.emit(running)

    def _on_progress(self, _task: Task, done: int, total: int, text: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(text)

    def _on_done(self, _task: Task, rows: list[Any]) -> None:
        self.task = None
        self.show_rows(rows)
        # After Stop the bar shows what was done, not a full bar.
        self.progress.setRange(0, max(self.planned, 1))
        self.progress.setValue(len(rows))
        self.status.setText(f"{len(rows)} variant(s) measured." if len(rows) >= self.planned
                            else f"Stopped: {len(rows)} of {self.planned} measured.")
        self._set_running(False)

    def _on_failed(self, _task: Task, message: str) -> None:
        self.task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(message)
        self.notice.emit("error", f"benchmark failed: {message}")
        self._set_running(False)

    def show_rows(self, rows: list[Any]) -> None:
        self.rows = list(rows)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate(table_cells(row)):
                cell = QTableWidgetItem(text)
                if c >= 3:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
        self.table.resizeColumnsToContents()
        self.chart.set_rows(self.rows)
        self.cost_chart.set_rows(self.rows)

    # --- export --------------------------------------------------------------------------

    def _ask_export(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {kind.upper()}",
                                              f"mnviewer-bench.{kind}",
                                              f"{kind.upper()} (*.{kind})")
        if path:
            try:
                saved = self.export(kind, Path(path))
            except OutputError as exc:
                self.notice.emit("error", str(exc))
            else:
                self.notice.emit("info", f"saved {saved}")

    def export(self, kind: str, path: Path) -> Path:
        """Write the rows as csv, json or a png of the chart; returns the path written (with
        the extension `kind` implies added if it lacks it). OutputError if that fails."""
        path = with_extension(path, kind)
        if kind == "png":
            if not self.chart.render_image().save(str(path)):
                raise OutputError(f"cannot write {path}: choose another path")
        elif kind == "csv":
            write_text_atomic(path, bench.rows_to_csv(self.rows))
        else:
            write_text_atomic(path, bench.rows_to_json(self.rows))
        return path
