"""GUI test fixtures: settings in a temporary folder, no leaked windows, a window factory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from mnviewer.gui.main_window import GuiOptions, MainWindow

# Enough for a model build plus compile on a slow CI machine; a healthy run takes ~2 s.
STARTUP_MS = 60_000


@pytest.fixture(autouse=True)
def config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Tests never read or write the user's real settings."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MNVIEWER_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level widget behind (qtbot closes the ones it knows)."""
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    leaked = [w for w in qapp.topLevelWidgets()
              if id(w) not in before and w.parent() is None]
    assert not leaked, f"top-level widgets leaked: {leaked}"


@pytest.fixture
def video(shared_dir: Path) -> Path:
    return shared_dir / "media" / "bottle-detection.mp4"


@pytest.fixture
def open_window(qtbot, video: Path) -> Callable[..., MainWindow]:
    """open_window(**options) -> a shown MainWindow on the demo video, closed after the test."""

    def make(**options: object) -> MainWindow:
        opts = {"source": str(video), "offer_build": False, **options}
        window = MainWindow(GuiOptions(**opts))  # type: ignore[arg-type]
        qtbot.addWidget(window)
        window.show()
        return window

    return make


@pytest.fixture
def wait_result(qtbot) -> Callable[..., None]:
    """wait_result(window, pane=0, model=None): until the pane shows a result (of `model`)."""

    def wait(window: MainWindow, pane: int = 0, model: str | None = None,
             timeout: int = STARTUP_MS) -> None:
        def ready() -> bool:
            result = window.views[pane].result
            return result is not None and (model is None or result.model_id == model)

        qtbot.waitUntil(ready, timeout=timeout)

    return wait
