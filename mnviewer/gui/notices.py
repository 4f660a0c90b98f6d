"""Non-blocking notices: a banner at the top of the window that hides itself after a while.

Every background error reaches the user here, never as a modal box that would stop the view.
"""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

log = logging.getLogger(__name__)

# level -> (background, text colour, milliseconds on screen)
STYLES = {
    "info": ("#24466b", "#f0f0f0", 4000),
    "warning": ("#7a5a12", "#ffffff", 9000),
    "error": ("#7d2020", "#ffffff", 12000),
}
LEVELS = {"info": 0, "warning": 1, "error": 2}  # how grave
HISTORY = 200
# A line may break after these inside a long word (a URL, a path): Qt breaks lines only at
# spaces and at a zero-width space, so one is put after each of them.
_BREAK_AFTER = re.compile(r"([/\\_.:?&=-])(?=\S)")
_LONG_WORD = re.compile(r"\S{24,}")
ZWSP = "\u200b"


def wrappable(text: str) -> str:
    """`text` with break opportunities inside long words, so a label can wrap it anywhere."""
    return _LONG_WORD.sub(lambda m: _BREAK_AFTER.sub(r"\1" + ZWSP, m.group(0)), text)


class WrapLabel(QLabel):
    """A label that wraps any text to the width it is given and never widens its window."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        # Ignored: the layout's width wins over the text's; the height follows the wrapping.
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._plain = text
        super().setText(wrappable(text))

    def text(self) -> str:  # the text as given, without the added break opportunities
        return self._plain


class NoticeBanner(WrapLabel):
    """Shows the newest notice; a sticky one stays until cleared (e.g. a lost source)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.history: list[tuple[str, str]] = []  # (level, text), oldest first
        self.sticky = False
        self.level = "info"  # of the notice on screen
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)
        self.setToolTip("Click to dismiss")
        self.hide()

    def show_notice(self, level: str, text: str, *, sticky: bool = False) -> bool:
        """Show `text`; False if a graver notice is on screen and keeps its place."""
        background, color, ms = STYLES.get(level, STYLES["info"])
        self.history = [*self.history[-HISTORY + 1:], (level, text)]
        log.info("%s: %s", level, text)  # for debugging: the banner is where users look
        if self.isVisible() and (self.sticky or self._timer.isActive()) \
                and LEVELS.get(level, 0) < LEVELS.get(self.level, 0):
            return False  # "running model X" must not hide why the video is not the file
        self.level = level
        self.sticky = sticky
        self.setStyleSheet(f"QLabel {{ background: {background}; color: {color}; "
                           "padding: 6px 10px; }")
        self.setText(text)
        self.show()
        if sticky:
            self._timer.stop()
        else:
            self._timer.start(ms)
        return True

    def show_capture_event(self, kind: str, text: str) -> None:
        """A lost source stays on screen until it is back (it keeps reconnecting meanwhile)."""
        if kind == "lost":
            self.show_notice("warning", text, sticky=True)
        elif kind in ("damaged", "skipped"):
            self.show_notice("warning", text)
        elif kind == "looped":
            self.show_notice("info", text)
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
