"""The main window: selectors, the live view (two panes in compare mode), the latency plot,
the benchmark panel, notices and the status bar. It paints and forwards choices; the
LiveSession does the work on other threads."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QMainWindow,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from mnviewer.engine import Engine
from mnviewer.errors import MnviewerError, OutputError, SourceError
from mnviewer.gui import pair_picker, profile_panel
from mnviewer.gui import settings as settings_io
from mnviewer.gui.about import AboutDialog
from mnviewer.gui.actions import create_actions, fill_toolbar
from mnviewer.gui.bench_panel import BenchPanel
from mnviewer.gui.compare import CompareHeader, CompareMode
from mnviewer.gui.first_run import FAILED, READY, BuildDialog, unbuilt_models
from mnviewer.gui.keys import install_single_keys
from mnviewer.gui.models import EngineRequest, any_built, is_trained
from mnviewer.gui.notices import NoticeBanner
from mnviewer.gui.opening import describe, is_camera, probe_cameras
from mnviewer.gui.outputs import Outputs
from mnviewer.gui.overlay import overlay_for
from mnviewer.gui.pair_render import draw_pair, render_pair
from mnviewer.gui.plot import LatencyPlot
from mnviewer.gui.profile_panel import ProfilePanel
from mnviewer.gui.selectors import ControlBar
from mnviewer.gui.session import PARTNER, PRIMARY, LiveSession
from mnviewer.gui.settings_dialog import SettingsDialog, apply_fetch_mirror
from mnviewer.gui.status import StatusLine
from mnviewer.gui.view import VideoView
from mnviewer.gui.workers import QUEUED, Task
from mnviewer.models import fetch
from mnviewer.pipeline import FrameResult
from mnviewer.sources import SourceInfo

log = logging.getLogger(__name__)
STATUS_MS = 500
QUIT_AFTER_TIMEOUT_S = 180
DEFAULT_SIZE = (1280, 860)
STATUS_MESSAGE_MS = 5000
BENCH_SHARE = 0.4  # of the window's height, at most, when the panel opens
VIDEO_SHARE = 0.35  # of the window's height, at least, left to the video beside the panel


@dataclass(frozen=True)
class GuiOptions:
    """What the command line asks of the window; None means "as remembered"."""

    source: str | None = None
    model: str | None = None
    precision: str | None = None
    device: str | None = None
    quit_after: int | None = None  # process this many frames, then close
    screenshot: Path | None = None  # with quit_after: save the window there first
    offer_build: bool = True  # on a first run, offer to build every model

    @property
    def automated(self) -> bool:
        return self.quit_after is not None


class MainWindow(QMainWindow):
    """The desktop app's one window."""

    finished = Signal(int)  # exit code, after --quit-after

    def __init__(self, options: GuiOptions | None = None) -> None:
        super().__init__()
        self.options = options or GuiOptions()
        self.settings = self._load_settings()
        self.fatal: MnviewerError | None = None
        self._pending_source: str | None = None
        self._fallback: SourceError | None = None  # to be said once the default source runs
        self._source_error: SourceError | None = None  # the exit code of an automated run
        self._paused_for_bench = False
        self._done = False
        self.session = LiveSession(top_k=self.settings.top_k, parent=self)
        self.session.image_seconds = self.settings.image_seconds
        self.banner = NoticeBanner()
        self.header = CompareHeader()
        self.views = [VideoView(), VideoView()]
        self.plot = LatencyPlot()
        self.controls = ControlBar()
        self.bench = BenchPanel()
        self.build_dialog: BuildDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.outputs = Outputs(self.views[PRIMARY], self.settings, self)
        self.commands = create_actions(self)
        self.commands.next_picture.setEnabled(False)
        self.commands.previous_picture.setEnabled(False)
        self.compare_mode = CompareMode(self.session, self.views, self.header, self)
        self._layout()
        self._connect()
        self._setup_compare()
        self._setup_profile()
        self.single_keys = install_single_keys(self)
        self._apply_settings()
        self._status_timer = QTimer(self)
        self._status_timer.timeout.connect(self._update_status)
        self._status_timer.start(STATUS_MS)
        self._start()

    # --- setup ---------------------------------------------------------------------------

    def _load_settings(self) -> settings_io.Settings:
        self._first_start = not settings_io.settings_path().exists()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", settings_io.SettingsWarning)
            loaded = settings_io.load_settings()
        self._settings_warnings = [str(w.message) for w in caught]
        self.mirror_from_environment = fetch.MIRROR_ENV in os.environ
        apply_fetch_mirror(loaded, from_environment=self.mirror_from_environment)
        o = self.options
        for key, value in (("source", o.source), ("model", o.model),
                           ("precision", o.precision), ("device", o.device)):
            if value is not None:
                setattr(loaded, key, value)
        return loaded

    def _layout(self) -> None:
        self.setWindowTitle("mnviewer")
        panes = QHBoxLayout()
        panes.setSpacing(2)
        for view in self.views:
            panes.addWidget(view, 1)
        self.views[PARTNER].hide()
        self.header.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        for widget in (self.banner, self.header):
            column.addWidget(widget)
        column.addLayout(panes, 1)
        self._column = column
        column.addWidget(self.plot)
        self.setCentralWidget(central)
        self.addToolBar(self.controls)
        self.addToolBarBreak()
        buttons = QToolBar("Actions")
        buttons.setObjectName("actions")
        fill_toolbar(buttons, self.commands)
        self.addToolBar(buttons)
        dock = QDockWidget("Benchmark", self)
        dock.setObjectName("benchmark")
        dock.setWidget(self.bench)
        dock.hide()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.bench_dock = dock
        self.status = StatusLine(self.statusBar())
        self.views[PRIMARY].setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _connect(self) -> None:
        s = self.session
        s.notice.connect(self.notify)
        s.capture_event.connect(self.banner.show_capture_event, QUEUED)
        s.source_opened.connect(self._on_source_opened)
        s.source_failed.connect(self._on_source_failed)
        s.engine_ready.connect(self._on_engine_ready)
        s.engine_failed.connect(self._on_engine_failed)
        s.result_ready.connect(self._on_result)
        s.paused_changed.connect(self._on_paused_changed)
        c = self.controls
        c.source_chosen.connect(self.open_source)
        c.model_chosen.connect(lambda m: self.request_engine(model=m))
        c.precision_chosen.connect(lambda p: self.request_engine(precision=p))
        c.device_chosen.connect(lambda d: self.request_engine(device=d))
        c.top_k_changed.connect(self._on_top_k)
        self.bench.running_changed.connect(self._on_bench_running)
        self.bench.notice.connect(self.notify)
        self.bench_dock.visibilityChanged.connect(self.commands.bench.setChecked)
        self.outputs.notice.connect(self.notify)
        self.outputs.recording_changed.connect(self._on_recording_changed)

    def _apply_settings(self) -> None:
        st = self.settings
        self.controls.set_model(st.model)
        self.controls.set_precision(st.precision)
        self.controls.set_device(st.device)
        self.controls.set_top_k(st.top_k)
        self.commands.overlay.setChecked(st.overlay)
        self.commands.mirror.setChecked(st.mirror)
        self.commands.plot.setChecked(st.plot)
        self.set_plot(st.plot)
        if st.geometry:
            self.restoreGeometry(QByteArray.fromBase64(st.geometry.encode()))
        else:
            # The default size, or the whole screen where that is smaller (a laptop, Xvfb).
            screen = self.screen().availableGeometry()
            self.resize(min(DEFAULT_SIZE[0], screen.width()), min(DEFAULT_SIZE[1],
                                                                   screen.height()))

    def _start(self) -> None:
        for message in self._settings_warnings:
            self.notify("warning", message)
        first_run = self._first_start or not any_built()
        self.open_source(self.settings.source or None)
        st = self.settings
        request = EngineRequest(st.model, st.precision, st.device)
        self.session.load(PRIMARY, request)
        if (first_run and self.options.offer_build and not self.options.automated
                and unbuilt_models()):
            self.show_build_dialog(default=request)
        if self.options.automated:
            QTimer.singleShot(QUIT_AFTER_TIMEOUT_S * 1000, self._quit_after_timeout)

    # --- notices and session events ------------------------------------------------------

    def notify(self, level: str, text: str) -> None:
        """The banner; a notice that would hide a graver one goes to the status bar instead."""
        if not self.banner.show_notice(level, text):
            self.statusBar().showMessage(text, STATUS_MESSAGE_MS)

    def open_source(self, spec: str | None) -> None:
        """Switch to `spec` (None: the default source); the current one runs until it opens."""
        self._pending_source = spec
        self.session.open(spec)
        if spec is not None:
            self.notify("info", f"opening {describe(spec)}…")

    def ask_source(self, action: str) -> None:
        chosen = self.controls.ask_for_source(action)
        if chosen:
            self.open_source(chosen)

    def _on_source_opened(self, spec: str, info: SourceInfo) -> None:
        first = self.controls.source.currentIndex() < 0
        if self._pending_source is not None:
            self.settings.source = spec
        self.controls.set_source(spec)
        self.outputs.source_changed(info)
        slides = self.session.slides is not None
        self.commands.next_picture.setEnabled(slides)
        self.commands.previous_picture.setEnabled(slides)
        self.views[PRIMARY].placeholder = "Loading the model…"
        self._update_title()
        if self._fallback is not None:
            self._say_fallback(self._fallback, spec)
            self._fallback = None
        if first:
            self.rescan_cameras()

    def _on_source_failed(self, spec: str, message: str) -> None:
        if self.session.capture is not None:
            self.notify("error", message)
            return  # the running source goes on
        if spec and self._source_error is None:
            # The source asked for (on the command line or remembered) cannot open: show the
            # default one instead, and say so once it runs.
            self._fallback = self._source_error = SourceError(message)
            if self.settings.source == spec:
                self.settings.source = ""  # not tried again at the next start
            self.open_source(None)
            return
        self.notify("error", message)
        if self.options.automated:
            self._fail(SourceError(message))
        else:
            self.views[PRIMARY].clear(f"No source: {message}")

    def _say_fallback(self, error: SourceError, spec: str) -> None:
        text = f"{error} (showing {describe(spec)} instead)"
        log.warning("%s", text)  # the one line on stderr
        self.notify("error", text)

    def rescan_cameras(self) -> None:
        spec = self.session.spec or ""
        skip = frozenset({int(spec)}) if is_camera(spec) else frozenset()
        task = Task(lambda _t: probe_cameras(skip), "probe cameras")
        task.succeeded.connect(lambda _t, cams: self.controls.set_cameras(cams), QUEUED)
        task.start()

    # --- engines -------------------------------------------------------------------------

    def request_engine(self, *, model: str | None = None, precision: str | None = None,
                       device: str | None = None) -> None:
        """Switch model, precision or device; the running engine goes on until the new one."""
        # Built on the newest request, so a quick model-then-precision change keeps both.
        base = self._newest_request()
        request = EngineRequest(model or base.model, precision or base.precision,
                                device or base.device)
        if request == self.session.requested(PRIMARY):
            return  # the same entry picked again
        self.notify("info", f"loading {request.label}…")
        self.session.load(PRIMARY, request)
        if self.session.comparing:
            self.compare_mode.follow(request)

    def _newest_request(self) -> EngineRequest:
        """The main pane's newest request, else what the settings ask for."""
        st = self.settings
        return self.session.requested(PRIMARY) or EngineRequest(st.model, st.precision,
                                                                 st.device)

    def _on_engine_ready(self, pane: int, engine: Engine) -> None:
        self.plot.clear(pane)
        self.compare_mode.engines_changed()
        if pane == PARTNER:
            return
        self.controls.show_engine(engine)
        self._tell_build_dialog(READY)
        st = self.settings
        st.model, st.precision, st.device = engine.model_id, engine.precision, engine.device
        self.notify("info", f"running {engine.model_id} {engine.precision} on "
                            f"{engine.executing_device}")
        self._update_title()

    def _on_engine_failed(self, pane: int, message: str) -> None:
        self.notify("error", message)
        if pane == PRIMARY and self.session.engine(PRIMARY) is None:
            self._tell_build_dialog(FAILED, message)
        if pane == PARTNER:
            if self.session.comparing:
                self.compare_mode.partner_failed(message)
            return
        running = self.session.engine(PRIMARY)
        if running is not None:
            self.controls.show_engine(running)
            request = self.session.requested(PRIMARY)
            if self.session.comparing and request is not None:
                self.compare_mode.follow(request)  # a twin switched along: switch it back
        elif self.options.automated:
            self._fail(MnviewerError(message))

    def _on_top_k(self, k: int) -> None:
        self.settings.top_k = k
        self.session.set_top_k(k)

    # --- results -------------------------------------------------------------------------

    def _on_result(self, pane: int) -> None:
        result = self.session.take(pane)
        if result is None:
            return
        overlay = overlay_for(result, source_fps=self.session.source_fps,
                              trained=is_trained(result.model_id),
                              losses=self.session.source_losses)
        self.views[pane].show_result(result, overlay)
        self.plot.add(pane, result.infer_ms, result.model_id)
        if self.session.comparing:
            self.compare_mode.result_shown()
            self._record_pair(pane, result)
        elif pane == PRIMARY:
            self.outputs.add(result)
        if self.options.quit_after and self.session.frames(PRIMARY) >= self.options.quit_after:
            self._finish()

    def overlay_text(self, pane: int = PRIMARY) -> str:
        """What the overlay of `pane` says now (for tests and accessibility)."""
        overlay = self.views[pane].overlay
        return overlay.text if overlay is not None else ""

    # --- view toggles --------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        self.session.set_paused(paused)

    def _on_paused_changed(self, paused: bool) -> None:
        self.commands.pause.setChecked(paused)
        self._update_badges()

    def _update_badges(self) -> None:
        badge = " · ".join(b for b, on in (("PAUSED", self.session.paused),
                                           ("● REC", self.outputs.recording is not None))
                            if on)
        for view in self.views:
            view.badge = badge
            view.update()

    def step_picture(self, delta: int) -> None:
        """Next (1) or previous (-1) picture of an image folder, at once, paused or not."""
        self.session.step(delta)

    def set_overlay(self, on: bool) -> None:
        self.settings.overlay = on
        for view in self.views:
            view.show_overlay = on
            view.update()

    def set_mirror(self, on: bool) -> None:
        self.settings.mirror = on
        for view in self.views:
            view.mirror = on
            view.update()

    def set_plot(self, on: bool) -> None:
        self.settings.plot = on
        self.plot.setVisible(on)

    def set_fullscreen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()

    def set_bench(self, on: bool) -> None:
        """Show the benchmark panel below the video, never taking more than its share."""
        if on == self.bench_dock.isVisible():
            return
        self.bench_dock.setVisible(on)
        if not on:
            self.plot.setVisible(self.settings.plot)  # back, if it gave way to the panel
            return
        share = round(self.height() * BENCH_SHARE)
        self.resizeDocks([self.bench_dock], [min(self.bench.sizeHint().height(), share)],
                         Qt.Orientation.Vertical)
        # In a short window the latency plot gives way while the panel is open.
        for layout in (self.layout(), self._column):  # apply the new sizes now
            if layout is not None:
                layout.activate()
        if self.plot.isVisible() and self.views[PRIMARY].height() < self.height() * VIDEO_SHARE:
            self.plot.hide()

    def set_compare(self, on: bool) -> None:
        """Compare mode: the model's full-convolution twin on the same frames, side by side."""
        if on == self.session.comparing:
            return
        if on:
            self.compare_mode.start_twin(self._newest_request())
        else:
            self.compare_mode.stop()
            self.plot.clear(PARTNER)
        self._show_compare(on)

    def _on_bench_running(self, running: bool) -> None:
        # Live inference would compete with the benchmark for the same cores.
        if running and not self.session.paused:
            self._paused_for_bench = True
            self.session.set_paused(True)
            self.notify("info", "live view paused while the benchmark runs")
        elif not running and self._paused_for_bench:
            self._paused_for_bench = False
            self.session.set_paused(False)

    # --- compare any pair ----------------------------------------------------------------

    def _setup_compare(self) -> None:
        self.compare_mode.notice.connect(self.notify)
        self.outputs.compose = self._compose_pair
        self.commands_pair = pair_picker.install_action(self)

    def _compose_pair(self) -> QImage | None:
        """What a snapshot saves in compare mode: the header above both panes."""
        if not self.session.comparing:
            return None
        self.compare_mode.refresh_header()
        return render_pair(self.views, self.header)

    def _show_compare(self, on: bool) -> None:
        self.header.setVisible(on)
        self.views[PARTNER].setVisible(on)

    def compare_pair(self, a: EngineRequest, b: EngineRequest) -> None:
        """Compare mode with `a` in the main pane and `b` beside it, on the same frames."""
        self.compare_mode.start_pair(a, b)
        self._show_compare(True)
        self.commands.compare.blockSignals(True)  # checked without restarting as the twin
        self.commands.compare.setChecked(True)
        self.commands.compare.blockSignals(False)

    def ask_compare_pair(self) -> None:
        a = self._newest_request()
        b = self.session.requested(PARTNER) if self.session.comparing else None
        picker = pair_picker.PairPicker(a, b or a, self)
        if picker.exec():
            self.compare_pair(*picker.chosen())

    def _record_pair(self, pane: int, result: FrameResult) -> None:
        """In compare mode a recording gets both panes and the header once both showed a frame."""
        if self.outputs.recording is None:
            return
        a, b = (view.result for view in self.views)
        if b is None or self.compare_mode.failed:  # side B does not run: side A alone
            if pane == PRIMARY:
                self.outputs.add(result)
            return
        if a is None or a.frame is not b.frame:
            return
        lines = self.header.plain_text.splitlines()
        marker = self.views[PRIMARY].marker
        self.outputs.add(lambda: draw_pair(a, b, lines, marker))

    # --- profile panel -------------------------------------------------------------------

    def _setup_profile(self) -> None:
        self.profile_panel = ProfilePanel()
        self.profile_panel.notice.connect(self.notify)
        self.profile_dock = profile_panel.install(self, self.profile_panel)
        self.session.engine_ready.connect(self._follow_profile)

    def _follow_profile(self, pane: int, engine: Engine) -> None:
        if pane == PRIMARY:
            self.profile_panel.follow(EngineRequest(engine.model_id, engine.precision,
                                                    engine.device))

    # --- snapshot and recording ----------------------------------------------------------

    def snapshot(self, path: Path | None = None) -> Path | None:
        """Save the main view's frame with its overlay as PNG; returns the path or None."""
        return self.outputs.snapshot(path)

    def snapshot_as(self) -> None:
        self.outputs.ask_snapshot(self)

    def set_recording(self, on: bool) -> None:
        if on:
            self.outputs.start_recording(self.session.source_info)
        else:
            self.outputs.stop_recording()

    def _on_recording_changed(self, on: bool) -> None:
        self.commands.record.setChecked(on)
        self._update_badges()

    # --- dialogs -------------------------------------------------------------------------

    def show_build_dialog(self, default: EngineRequest | None = None) -> None:
        """The fetch-and-build dialog; on a first run it also says how the default model is."""
        if self.build_dialog is None:
            self.build_dialog = BuildDialog(self, default=default)
            self.build_dialog.built.connect(self.controls.refresh_models)
            self.build_dialog.finished_all.connect(
                lambda: self.notify("info", "every model is built"))
        elif self.build_dialog.task is None:
            self.build_dialog.refresh()
        if self.build_dialog.task is None and not unbuilt_models():
            self.notify("info", "every model is built already")
            return
        self.build_dialog.show()
        self.build_dialog.raise_()

    def _tell_build_dialog(self, state: str, error: str = "") -> None:
        """How the default model's load went; any model built meanwhile is one less to offer."""
        dialog = self.build_dialog
        if dialog is None:
            return
        if dialog.default is not None and dialog.default_state != READY:
            dialog.set_default_state(state, error)
        elif dialog.isVisible():
            dialog.refresh()

    def show_settings(self) -> None:
        """The Settings dialog (non-blocking); OK applies its values at once."""
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()  # each opening shows the settings as they are
        dialog = SettingsDialog(self.settings, self,
                                mirror_from_environment=self.mirror_from_environment)
        dialog.accepted.connect(lambda: self._apply_settings_dialog(dialog))
        self.settings_dialog = dialog
        dialog.open()

    def _apply_settings_dialog(self, dialog: SettingsDialog) -> None:
        chosen = dialog.result_settings
        if chosen is None:
            return
        for field in fields(chosen):  # in place: Outputs holds the same object
            setattr(self.settings, field.name, getattr(chosen, field.name))
        self.session.set_image_seconds(chosen.image_seconds)
        self.notify("info", "settings saved")
        if not self.options.automated:
            self._save_settings()

    def show_about(self) -> None:
        AboutDialog(self).exec()

    # --- status, title, end --------------------------------------------------------------

    def _update_status(self) -> None:
        view = self.views[PRIMARY]
        self.status.refresh(self.session, view.displayed_fps(), view.result)

    def _update_title(self) -> None:
        engine = self.session.engine(PRIMARY)
        parts = ["mnviewer", describe(self.session.spec) if self.session.spec else "",
                 engine.model_id if engine else ""]
        self.setWindowTitle(" — ".join(p for p in parts if p))

    def _finish(self) -> None:
        """--quit-after: save the screenshot, close, and end the event loop."""
        if self._done:
            return
        self._done = True
        shot = self.options.screenshot
        if shot is not None and not self.grab().save(str(shot), "PNG"):
            self.fatal = OutputError(f"cannot write screenshot {shot}: choose another path")
        self.close()
        # A source that fell back has been reported already (stderr): only its code is left.
        failed = self.fatal or self._source_error
        self.finished.emit(failed.exit_code if failed else 0)

    def _fail(self, error: MnviewerError) -> None:
        if not self._done:
            self.fatal = error
            self._done = True
            self.close()
            self.finished.emit(error.exit_code)

    def _quit_after_timeout(self) -> None:
        n = self.session.frames(PRIMARY)
        self._fail(SourceError(f"only {n} of {self.options.quit_after} frames processed in "
                               f"{QUIT_AFTER_TIMEOUT_S} s: check the source and the model"))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._status_timer.stop()
        self.outputs.close()
        self.bench.shutdown()
        self.profile_panel.shutdown()
        if self.build_dialog is not None:
            self.build_dialog.shutdown()
        self.session.shutdown()
        if not self.options.automated:
            self._save_settings()
        super().closeEvent(event)

    def _save_settings(self) -> None:
        self.settings.geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        try:
            settings_io.save_settings(self.settings)
        except MnviewerError as exc:
            # The window is closing: the log is the only place left to say it.
            log.warning("%s", exc)
