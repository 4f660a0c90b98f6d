"""A first start: no arguments, nothing built yet; the fetch-and-build dialog in every state."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from mnviewer.gui.first_run import BuildDialog, unbuilt_models
from mnviewer.gui.main_window import GuiOptions, MainWindow
from mnviewer.gui.models import BUILD_LOCK, EngineRequest
from mnviewer.gui.session import PRIMARY
from mnviewer.models.catalog import load_catalog
from tests.helpers import PROXY_VARS, closed_port

DEFAULT = "mobilenet-v1-1.0-224"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache with nothing fetched or built, as on a first start."""
    home = tmp_path / "home"
    monkeypatch.setenv("MNVIEWER_HOME", str(home))
    return home


def test_no_arguments_opens_the_demo_and_the_dialog_follows_the_default_model(
        qtbot, fresh_home: Path, wait_result) -> None:
    window = MainWindow(GuiOptions())  # what plain `mnviewer` asks for
    qtbot.addWidget(window)
    window.show()
    dialog = window.build_dialog
    assert dialog is not None and dialog.isVisible()
    assert f"The default model, {DEFAULT} int8 on CPU, is being built" in dialog.intro.text()
    others = len(load_catalog().models) - 1
    assert f"The {others} other models can be built now" in dialog.message.text()
    assert "on first use" in dialog.message.text()
    wait_result(window, model=DEFAULT)
    if not list(Path("/dev").glob("video*")):  # no camera: the demo video
        assert window.session.spec == "demo"
    qtbot.waitUntil(lambda: "is ready" in dialog.intro.text(), timeout=5_000)
    assert dialog.intro.text() == f"The default model, {DEFAULT} int8 on CPU, is ready."
    assert (fresh_home / "models" / DEFAULT / "int8.xml").is_file()


def test_a_failed_default_model_is_said_in_the_dialog_and_wraps(
        qtbot, fresh_home: Path, monkeypatch: pytest.MonkeyPatch, video: Path,
        tmp_path: Path) -> None:
    monkeypatch.delenv("MNVIEWER_MIRROR")
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    for var in ("http_proxy", "https_proxy"):  # nothing listens there: offline at once
        monkeypatch.setenv(var, f"http://127.0.0.1:{closed_port()}")
    # urlopen keeps the opener it builds first, proxies included: this one ends with the test.
    monkeypatch.setattr(urllib.request, "_opener", None)
    window = MainWindow(GuiOptions(source=str(video)))
    qtbot.addWidget(window)
    window.resize(600, 500)
    window.show()
    dialog = window.build_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: "could not be built" in dialog.intro.text(), timeout=60_000)
    error = window.banner.texts()[-1]
    assert error in dialog.intro.text()
    # Long words (the URL) wrap: no unbreakable piece is wider than the banner, which keeps
    # the window's width.
    qtbot.waitUntil(window.banner.isVisible, timeout=2_000)
    shown = QLabel.text(window.banner)  # as laid out, with its break opportunities
    pieces = re.split(r"[\s\u200b]+", shown)
    widest = max(window.banner.fontMetrics().horizontalAdvance(p) for p in pieces)
    assert widest <= window.banner.contentsRect().width() <= window.width() == 600
    assert window.banner.text() == error  # what it says is unchanged


def test_build_all_builds_every_model_and_closes_itself(qtbot, fresh_home: Path) -> None:
    dialog = BuildDialog(default=EngineRequest(DEFAULT, "int8", "CPU"))
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.finished_all, timeout=180_000):
        dialog.start_button.click()
    assert not dialog.isVisible() and dialog.task is None
    assert unbuilt_models() == []
    dialog.refresh()
    assert dialog.message.text() == "Every model is built."


def test_cancel_while_waiting_for_a_model_switch_builds_nothing(qtbot, fresh_home: Path) -> None:
    dialog = BuildDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.message.text().startswith(f"{len(load_catalog().models)} models can be built")
    with BUILD_LOCK:  # as a model switch in the window holds it
        dialog.start()
        assert dialog.task is not None and not dialog.start_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.status.text().startswith("building"), timeout=60_000)
        dialog.cancel()
    # Polled, not waitSignal: connecting to a signal a worker thread emits can crash PySide.
    qtbot.waitUntil(lambda: dialog.task is None, timeout=30_000)
    assert dialog.status.text() == "Cancelled."
    assert dialog.start_button.isEnabled() and dialog.isVisible()
    assert not list((fresh_home / "models").glob("*/*.xml")), "a cancelled run went on"
    assert (fresh_home / "sources").is_dir(), "the files were fetched before the build step"


def test_models_menu_says_so_when_everything_is_built(qtbot, open_window,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window()
    monkeypatch.setattr("mnviewer.gui.main_window.unbuilt_models", lambda: [])
    window.show_build_dialog()
    assert window.build_dialog is not None and not window.build_dialog.isVisible()
    assert window.banner.texts()[-1] == "every model is built already"


def test_plain_mnviewer_starts_on_the_demo_and_builds_the_default_model(
        tmp_path: Path, fresh_home: Path) -> None:
    config = tmp_path / "config"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MNVIEWER_CONFIG_DIR": str(config),
           "MNVIEWER_HOME": str(fresh_home)}
    proc = subprocess.Popen([sys.executable, "-m", "mnviewer"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    built = fresh_home / "models" / DEFAULT / "meta.json"
    try:
        deadline = time.monotonic() + 120
        while not built.is_file() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # polling a file another process writes: there is no event
        assert built.is_file(), proc.stderr.read() if proc.poll() is not None else "no build"
        proc.send_signal(signal.SIGINT)  # closes the window as the user would
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    saved = json.loads((config / "settings.json").read_text())
    assert saved["model"] == DEFAULT and saved["precision"] == "int8"


def test_the_window_runs_the_default_model_once_built(qtbot, fresh_home: Path, video: Path,
                                                      wait_result) -> None:
    window = MainWindow(GuiOptions(source=str(video), offer_build=False))
    qtbot.addWidget(window)
    window.show()
    assert window.build_dialog is None
    wait_result(window, model=DEFAULT)
    assert window.views[PRIMARY].result.precision == "int8"
