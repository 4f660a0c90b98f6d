"""The Settings dialog: snapshot folder, model mirror and seconds per picture, kept on disk."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QToolBar

from mnviewer.gui.main_window import MainWindow
from mnviewer.gui.session import PRIMARY
from mnviewer.gui.settings import Settings, load_settings, save_settings
from mnviewer.gui.settings_dialog import SettingsDialog

MIRROR = "MNVIEWER_MIRROR"


def open_settings(window: MainWindow) -> SettingsDialog:
    window.show_settings()
    dialog = window.settings_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_tool_bars_hold_no_text_field(open_window) -> None:
    window = open_window()
    for bar in window.findChildren(QToolBar):
        fields = [f for f in bar.findChildren(QLineEdit)
                  if not isinstance(f.parent(), QAbstractSpinBox)]
        assert not fields, f"text field in tool bar {bar.windowTitle()}"


def test_settings_are_applied_and_saved(qtbot, open_window, wait_result, tmp_path: Path,
                                        config_dir: Path) -> None:
    window = open_window()
    wait_result(window)  # the model is built before the mirror points elsewhere
    dialog = open_settings(window)
    pictures, mirror = tmp_path / "pictures", tmp_path / "mirror"
    mirror.mkdir()
    dialog.snapshot_dir.setText(str(pictures))
    dialog.mirror.setText(str(mirror))
    dialog.image_seconds.setValue(5.5)
    dialog.accept()
    assert not dialog.isVisible()
    assert os.environ[MIRROR] == str(mirror)
    saved = load_settings()
    assert (saved.snapshot_dir, saved.fetch_mirror, saved.image_seconds) == (
        str(pictures), str(mirror), 5.5)
    shot = window.snapshot()
    assert shot is not None and shot.parent == pictures


def test_an_unusable_value_keeps_the_dialog_open_with_the_reason(qtbot, open_window,
                                                                 tmp_path: Path) -> None:
    window = open_window()
    before = os.environ[MIRROR]
    dialog = open_settings(window)
    dialog.mirror.setText(str(tmp_path / "absent"))
    dialog.accept()
    assert dialog.isVisible() and "absent does not exist" in dialog.error.text()
    assert os.environ[MIRROR] == before and window.settings.fetch_mirror == ""
    dialog.reject()


def test_the_saved_mirror_serves_a_run_without_the_variable(
        open_window, monkeypatch: pytest.MonkeyPatch, shared_dir: Path) -> None:
    saved = str(shared_dir / "models")
    save_settings(Settings(fetch_mirror=saved))
    monkeypatch.delenv(MIRROR)
    window = open_window()
    assert os.environ[MIRROR] == saved
    assert not window.mirror_from_environment


def test_the_variable_wins_over_the_saved_mirror(open_window, monkeypatch: pytest.MonkeyPatch,
                                                 shared_dir: Path, config_dir: Path) -> None:
    save_settings(Settings(fetch_mirror=str(shared_dir / "models")))
    monkeypatch.setenv(MIRROR, str(shared_dir / "media"))
    window = open_window()
    assert os.environ[MIRROR] == str(shared_dir / "media")
    dialog = open_settings(window)
    assert dialog.mirror.text() == str(shared_dir / "media") and dialog.note.isVisible()
    dialog.accept()  # nothing changed: the variable is not saved as the user's choice
    assert json.loads((config_dir / "settings.json").read_text())["fetch_mirror"] == str(
        shared_dir / "models")
    assert window.views[PRIMARY] is not None
