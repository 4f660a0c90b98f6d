"""Models → Add model… and Remove model… in the real window, with the real insect classifier."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from mnviewer.gui.add_model import AddModelDialog, remove_user_model, show_add_model
from mnviewer.gui.session import PRIMARY

SMALL = "mobilenet-v1-0.25-128"
INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"


@pytest.fixture(autouse=True)
def own_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Imported models stay out of the other tests' cache."""
    home = tmp_path / "home"
    monkeypatch.setenv("MNVIEWER_HOME", str(home))
    return home


def _selector_entries(window) -> list[str]:
    combo = window.controls.model
    return [combo.itemText(i) for i in range(combo.count())]


def test_add_model_dialog_shows_preprocessing_and_runs_the_model(
        qtbot, open_window, wait_result, shared_dir: Path, own_home: Path) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    dialog = show_add_model(window)
    qtbot.addWidget(dialog)
    dialog.file.setText(str(shared_dir / "models" / INSECTS))
    dialog.read_file()
    qtbot.waitUntil(lambda: dialog.add_button.isEnabled(), timeout=30_000)
    assert dialog.mean.text() == "128 128 128" and dialog.scale.text() == "128 128 128"
    assert dialog.side.value() == 224 and dialog.layout_box.currentText() == "NHWC"
    assert "1022 classes" in dialog.found.text() and "quantized" in dialog.found.text()
    assert not dialog.calibrate.isEnabled()  # int8 comes from the file itself
    dialog.model_id.setText("insects")
    with qtbot.waitSignal(dialog.imported, timeout=60_000) as imported:
        dialog.add_button.click()
    assert imported.args == ["insects"]
    entries = _selector_entries(window)
    assert "Your models" in entries
    mine = [e for e in entries if e.startswith("insects ·")]
    assert mine and "MACs" in mine[0] and "params" in mine[0]
    assert any(e.startswith("insects-fullconv ·") for e in entries)
    wait_result(window, model="insects")
    assert window.views[PRIMARY].result.top[0].label  # an insect name, on a bottle video


def test_add_model_dialog_reports_a_bad_file_without_blocking(
        qtbot, open_window, tmp_path: Path, own_home: Path) -> None:
    window = open_window(model=SMALL)
    bad = tmp_path / "notes.tflite"
    bad.write_text("not a model")
    dialog = AddModelDialog(window)
    qtbot.addWidget(dialog)
    dialog.file.setText(str(bad))
    dialog.read_file()
    qtbot.waitUntil(lambda: bool(dialog.error.text()), timeout=10_000)
    assert "notes.tflite" in dialog.error.text() and "TFL3" in dialog.error.text()
    assert not dialog.add_button.isEnabled()
    assert not (own_home / "user-models" / "notes").exists()


def test_remove_model_takes_it_out_of_the_selector(
        qtbot, open_window, wait_result, shared_dir: Path, monkeypatch: pytest.MonkeyPatch,
        own_home: Path) -> None:
    from mnviewer.models.importer import ImportOptions
    from mnviewer.models.user import import_model

    import_model(shared_dir / "models" / INSECTS, ImportOptions(model_id="bugs"))
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    assert any(e.startswith("bugs ·") for e in _selector_entries(window))
    # The modal question is answered as a user would pick the only entry.
    monkeypatch.setattr(QInputDialog, "getItem",
                        staticmethod(lambda *args, **kw: ("bugs", True)))
    assert remove_user_model(window) == "bugs"
    assert not any(e.startswith("bugs") for e in _selector_entries(window))
    assert not (own_home / "user-models" / "bugs").exists()
    assert window.controls.model.findData("bugs", Qt.ItemDataRole.UserRole) < 0
