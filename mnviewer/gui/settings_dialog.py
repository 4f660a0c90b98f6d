"""The Settings dialog: where snapshots go, where model files come from, how long pictures stay.

It edits a copy of the window's typed Settings; OK hands the copy back (the window applies it
and saves it on close), Cancel drops it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mnviewer.gui.notices import WrapLabel
from mnviewer.gui.settings import IMAGE_SECONDS_RANGE, Settings, snapshot_folder
from mnviewer.models.fetch import MIRROR_ENV, split_mirror_list


def apply_fetch_mirror(settings: Settings, *, from_environment: bool) -> None:
    """The saved mirror serves runs where MNVIEWER_MIRROR is not set; the variable wins."""
    if not from_environment and settings.fetch_mirror:
        os.environ[MIRROR_ENV] = settings.fetch_mirror


def missing_mirror_folders(value: str) -> list[str]:
    """Mirror entries that name a local folder that is not there (fetching would skip them)."""
    return [e for e in split_mirror_list(value)
            if "://" not in e and not Path(e).expanduser().is_dir()]


class SettingsDialog(QDialog):
    """Edit the settings that have no place in the tool bar."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, *,
                 mirror_from_environment: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.result_settings: Settings | None = None  # set by OK
        self._settings = settings
        self.snapshot_dir = QLineEdit(str(snapshot_folder(settings)))
        self.snapshot_dir.setToolTip("Snapshots (S) and recordings (R) are saved here")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.snapshot_dir, 1)
        folder_row.addWidget(browse)
        self.mirror = QLineEdit(os.environ.get(MIRROR_ENV, settings.fetch_mirror))
        self.mirror.setPlaceholderText("empty: download from the pinned URLs")
        self.mirror.setToolTip(
            f"Folders or base URLs searched for model and media files before their pinned "
            f"URLs, separated by '{os.pathsep}' (the {MIRROR_ENV} variable). Every file is "
            "sha256-checked wherever it comes from.")
        self.image_seconds = QDoubleSpinBox()
        self.image_seconds.setRange(*IMAGE_SECONDS_RANGE)
        self.image_seconds.setDecimals(1)
        self.image_seconds.setSingleStep(0.5)
        self.image_seconds.setSuffix(" s")
        self.image_seconds.setValue(settings.image_seconds)
        self.image_seconds.setToolTip("How long each picture of an image folder stays on "
                                      "screen (Page Up and Page Down step through them)")
        form = QFormLayout()
        form.addRow("Snapshots and recordings", folder_row)
        form.addRow(f"Model mirror ({MIRROR_ENV})", self.mirror)
        form.addRow("Seconds per picture", self.image_seconds)
        self.note = WrapLabel(
            f"{MIRROR_ENV} is set in the environment of this run: it is used instead of the "
            "saved mirror until you change it here." if mirror_from_environment else "")
        self.note.setVisible(mirror_from_environment)
        self.error = WrapLabel()
        self.error.setStyleSheet("color: #b03030;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(620, 160)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Snapshots and recordings",
                                                  self.snapshot_dir.text())
        if chosen:
            self.snapshot_dir.setText(chosen)

    def accept(self) -> None:
        """Check the values; keep the dialog open with the reason if one is not usable."""
        folder = self.snapshot_dir.text().strip()
        if folder:
            path = Path(folder).expanduser()
            if path.exists() and not path.is_dir():
                return self._refuse(f"{path} is a file: choose a folder for snapshots")
        mirror = self.mirror.text().strip()
        missing = missing_mirror_folders(mirror)
        if missing:
            return self._refuse(f"mirror folder {missing[0]} does not exist: correct it or "
                                "leave the field empty to download from the pinned URLs")
        current = os.environ.get(MIRROR_ENV, self._settings.fetch_mirror)
        default_folder = str(snapshot_folder(replace(self._settings, snapshot_dir="")))
        self.result_settings = replace(
            self._settings,
            snapshot_dir="" if folder in ("", default_folder) else folder,
            fetch_mirror=mirror if mirror != current else self._settings.fetch_mirror,
            image_seconds=self.image_seconds.value())
        if mirror != current:
            os.environ[MIRROR_ENV] = mirror  # fetches from now on use it
        super().accept()
        return None

    def _refuse(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
