"""Single-key shortcuts work wherever the focus is, except in text fields."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from mnviewer.gui.keys import is_text_field
from mnviewer.gui.session import PRIMARY

SMALL = "mobilenet-v1-0.25-128"


def test_space_pauses_after_the_labels_box_was_used(qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    box = window.controls.top_k
    box.setFocus()
    box.selectAll()
    qtbot.keyClick(box, Qt.Key.Key_3)  # typing a number still goes to the box
    assert box.value() == 3
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert window.session.paused and box.value() == 3
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert not window.session.paused


def test_keys_reach_the_window_from_combo_boxes_and_buttons(qtbot, open_window) -> None:
    window = open_window(model=SMALL)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    combo = window.controls.model
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_O)
    assert not window.commands.overlay.isChecked()
    qtbot.keyClick(combo, Qt.Key.Key_Space)  # does not open the list
    assert window.session.paused and not combo.view().isVisible()
    button = next(b for b in window.findChildren(QToolButton)
                  if b.defaultAction() is window.commands.record)
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)  # pauses again; does not press Record
    assert not window.session.paused and window.outputs.recording is None
    qtbot.keyClick(button, Qt.Key.Key_L)
    assert not window.plot.isVisible()


def test_text_fields_keep_their_keys(qtbot, open_window) -> None:
    window = open_window(model=SMALL)
    window.show_settings()
    field = window.settings_dialog.snapshot_dir
    field.setFocus()
    field.clear()
    qtbot.keyClicks(field, "S R")
    assert field.text() == "S R"
    assert window.outputs.recording is None and not window.session.paused
    window.settings_dialog.reject()
    assert is_text_field(field) and not is_text_field(window.controls.top_k)
    assert not is_text_field(window.views[PRIMARY])
