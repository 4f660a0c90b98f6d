"""Application setup and the GUI entry point used by `mnviewer gui` (and plain `mnviewer`)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow

from mnviewer import __version__, paths
from mnviewer.gui.main_window import GuiOptions, MainWindow
from mnviewer.gui.workers import Task

__all__ = ["GuiOptions", "application", "run_app"]
# A model build can take ~10 s; past that, exiting matters more than a clean end.
TASK_JOIN_S = 15.0


def icon_path() -> Path:
    return paths.resources_dir() / "mnviewer.png"


def application() -> QApplication:
    """The process's QApplication, created and named on first use."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0]])
    app.setApplicationName("mnviewer")
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")  # the same look on every platform, and in screenshots
    if icon_path().is_file():
        app.setWindowIcon(QIcon(str(icon_path())))
    return app


@contextlib.contextmanager
def _ctrl_c_closes(app: QApplication) -> Iterator[None]:
    """Ctrl+C in the terminal closes the window (so settings are saved) instead of being lost
    inside Qt's event loop, which never gives Python a chance to run its signal handler."""
    # Through the event loop: a Ctrl+C during start-up then closes the window once it shows.
    # The main windows only: closeAllWindows stops at the models dialog, which only hides.
    def close_main_windows() -> None:
        for widget in app.topLevelWidgets():
            if isinstance(widget, QMainWindow):
                widget.close()

    previous = signal.signal(signal.SIGINT,
                             lambda *_: QTimer.singleShot(0, close_main_windows))
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    try:
        yield
    finally:
        ticker.stop()
        signal.signal(signal.SIGINT, previous)


def run_app(options: GuiOptions) -> int:
    """Open the window and run until it closes; raise the error that stopped an automated run."""
    logging.basicConfig(level=logging.WARNING, format="mnviewer: %(message)s")
    # Probing absent cameras makes OpenCV log a warning each; the window shows what matters.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    app = application()
    with _ctrl_c_closes(app):  # from the start: the window begins its work as it is made
        window = MainWindow(options)
        window.finished.connect(app.exit)
        window.show()
        code = app.exec()
    Task.join_all(TASK_JOIN_S)
    if window.fatal is not None:
        raise window.fatal
    return code
