"""Single-key shortcuts (Space, S, R, C, B, ...) that work wherever the focus is in the window.

A focused combo box, spin box or tool button would otherwise take the key for itself: Space
opens a combo box, clears the Labels box or presses the focused button. Text fields keep
their keys, so typing a path in a field never takes a snapshot.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

# Shift is allowed so a key typed with Caps Lock or Shift still counts.
_FREE = Qt.KeyboardModifier.NoModifier | Qt.KeyboardModifier.KeypadModifier \
    | Qt.KeyboardModifier.ShiftModifier


def is_text_field(widget: QObject | None) -> bool:
    """Whether keys typed into `widget` are text (a spin box's digits are not its only keys,
    but letters and Space mean nothing to it)."""
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    if isinstance(widget, QLineEdit):
        parent = widget.parent()
        if isinstance(parent, QAbstractSpinBox):
            return False
        if isinstance(parent, QComboBox):
            return parent.isEditable()
        return not widget.isReadOnly()
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return False


class SingleKeys(QObject):
    """Event filter: lets a single-key shortcut past the focused widget to the window's action.

    `keys` are the key codes that have a single-key shortcut in the window.
    """

    def __init__(self, keys: set[int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keys = keys

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        if event.modifiers() & ~_FREE or event.key() not in self.keys:
            return False
        if is_text_field(watched):
            return False
        # Not accepted: Qt goes on to the shortcut map, where the window's action answers.
        event.ignore()
        return True


def single_key_codes(widget: QWidget) -> set[int]:
    """Key codes of the widget's actions whose shortcut is one key without modifiers."""
    codes = set()
    for action in widget.actions():
        for sequence in action.shortcuts():
            if sequence.count() == 1:
                combo = sequence[0]  # type: ignore[index]  # the stubs lack __getitem__
                if combo.keyboardModifiers() == Qt.KeyboardModifier.NoModifier:
                    codes.add(combo.key().value)
    return codes


def install_single_keys(window: QWidget) -> SingleKeys:
    """Filter the keys of every widget in `window` that can take the focus."""
    keys = SingleKeys(single_key_codes(window), window)
    for child in window.findChildren(QWidget):
        if child.focusPolicy() != Qt.FocusPolicy.NoFocus:
            child.installEventFilter(keys)
    window.installEventFilter(keys)
    return keys

