"""Menus, tool-bar buttons and keyboard shortcuts of the main window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from mnviewer.gui.add_model import remove_user_model, show_add_model

if TYPE_CHECKING:
    from mnviewer.gui.main_window import MainWindow


@dataclass
class Actions:
    pause: QAction
    snapshot: QAction
    snapshot_as: QAction
    record: QAction
    fullscreen: QAction
    mirror: QAction
    overlay: QAction
    compare: QAction
    plot: QAction
    bench: QAction


def _action(window: MainWindow, text: str, slot: Callable, shortcut: str = "",
            checkable: bool = False, tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    action.setStatusTip(tip or text)
    (action.toggled if checkable else action.triggered).connect(slot)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden (fullscreen)
    return action


def create_actions(window: MainWindow) -> Actions:
    """Create the actions, fill the menu bar, and add the main buttons to a tool bar."""
    w = window
    a = Actions(
        pause=_action(w, "&Pause", w.set_paused, "Space", True, "Freeze the picture (Space)"),
        snapshot=_action(w, "&Snapshot", lambda: w.snapshot(), "S",
                         tip="Save the view with its overlay as PNG (S)"),
        snapshot_as=_action(w, "Snapshot &as…", w.snapshot_as, "Ctrl+Shift+S"),
        record=_action(w, "&Record video", w.set_recording, "R", True,
                       "Record the annotated video to a file (R)"),
        fullscreen=_action(w, "&Fullscreen", w.set_fullscreen, "F", True, "Fullscreen (F)"),
        mirror=_action(w, "&Mirror", w.set_mirror, "M", True,
                       "Flip the picture horizontally, as in a mirror (M)"),
        overlay=_action(w, "&Overlay", w.set_overlay, "O", True, "Labels and timings (O)"),
        compare=_action(w, "&Compare with full convolution", w.set_compare, "C", True,
                        "Run the model's full-convolution twin on the same frames (C)"),
        plot=_action(w, "&Latency plot", w.set_plot, "L", True),
        bench=_action(w, "&Benchmark panel", w.set_bench, "B", True),
    )
    bar = w.menuBar()
    file = bar.addMenu("&File")
    file.addAction(_action(w, "Open video or image &file…", lambda: w.ask_source("file"),
                           "Ctrl+O"))
    file.addAction(_action(w, "Open image f&older…", lambda: w.ask_source("folder")))
    file.addAction(_action(w, "Open stream &URL…", lambda: w.ask_source("url")))
    file.addAction(_action(w, "Rescan &cameras", w.rescan_cameras))
    file.addSeparator()
    for action in (a.snapshot, a.snapshot_as, a.record):
        file.addAction(action)
    file.addSeparator()
    file.addAction(_action(w, "&Quit", w.close, "Ctrl+Q"))
    view = bar.addMenu("&View")
    for action in (a.pause, a.overlay, a.mirror, a.fullscreen, a.compare, a.plot, a.bench):
        view.addAction(action)
    models = bar.addMenu("&Models")
    models.addAction(_action(w, "&Download and build all models…", w.show_build_dialog))
    models.addSeparator()
    models.addAction(_action(w, "&Add model…", lambda: show_add_model(w),
                             tip="Import your own classifier (.tflite, .onnx, OpenVINO IR)"))
    models.addAction(_action(w, "&Remove model…", lambda: remove_user_model(w)))
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(_action(w, "&About mnviewer", w.show_about))
    _action(w, "Leave fullscreen", lambda: a.fullscreen.setChecked(False), "Esc")
    return a


def fill_toolbar(bar: QToolBar, actions: Actions) -> None:
    for action in (actions.pause, actions.snapshot, actions.record, actions.compare,
                   actions.bench):
        bar.addAction(action)
