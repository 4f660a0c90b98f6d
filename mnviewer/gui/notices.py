"""Non-blocking notices: a banner at the top of the window that hides itself after a while.

Every background error reaches the user here, never as a modal box that would stop the view.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QWidget

log = logging.getLogger(__name__)

# level -> (background, text colour, milliseconds on screen)
STYLES = {
    "info": ("#24466b", "#f0f0f0", 4000),
    "warning": ("#7a5a12", "#ffffff", 9000),
    "error": ("#7d2020", "#ffffff", 12000),
}
HISTORY = 200


class NoticeBanner(QLabel):
    """Shows the newest notice; a sticky one stays until cleared (e.g. a lost source)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history: list[tuple[str, str]] = []  # (level, text), oldest first
        self.sticky = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)
        self.setWordWrap(True)
        self.setToolTip("Click to dismiss")
        self.hide()

    def show_notice(self, level: str, text: str, *, sticky: bool = False) -> None:
        background, color, ms = STYLES.get(level, STYLES["info"])
        self.history = [*self.history[-HISTORY + 1:], (level, text)]
        log.info("%s: %s", level, text)  # for debugging: the banner is where users look
        self.sticky = sticky
        self.setStyleSheet(f"QLabel {{ background: {background}; color: {color}; "
                           "padding: 6px 10px; }")
        self.setText(text)
        self.show()
        if sticky:
            self._timer.stop()
        else:
            self._timer.start(ms)

    def show_capture_event(self, kind: str, text: str) -> None:
        """A lost source stays on screen until it is back (it keeps reconnecting meanwhile)."""
        if kind == "lost":
            self.show_notice("warning", text, sticky=True)
        elif kind in ("damaged", "skipped"):
            self.show_notice("warning", text)
        elif kind == "back":
            self.clear_sticky()
            self.show_notice("info", text)
        else:
            self.show_notice("error", text)

    def clear_sticky(self) -> None:
        if self.sticky:
            self.sticky = False
            self.hide()

    def texts(self) -> list[str]:
        return [text for _, text in self.history]

    def _expire(self) -> None:
        if not self.sticky:
            self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.sticky = False
        self.hide()
