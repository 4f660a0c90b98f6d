"""An imported model in the app's compare mode: offered by the picker, compared like any other."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mnviewer.gui.models import EngineRequest
from mnviewer.gui.pair_picker import PairPicker
from tests.integration.conftest import run_cli

INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"
SMALL = "mobilenet-v1-0.25-128"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of this module's own, so the imported model stays out of other tests."""
    return tmp_path_factory.mktemp("gui-import-home")


@pytest.fixture(autouse=True)
def _home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNVIEWER_HOME", str(home))


@pytest.fixture(scope="module")
def insects(home: Path, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    copy = tmp_path_factory.mktemp("elsewhere") / INSECTS
    shutil.copy(shared_dir / "models" / INSECTS, copy)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MNVIEWER_HOME", str(home))
        proc = run_cli("models", "add", str(copy), "--id", "insects")
    assert proc.returncode == 0, proc.stderr
    return "insects"


def test_imported_model_is_offered_and_compared_with_its_twin(qtbot, open_window, wait_result,
                                                              insects: str) -> None:
    a = EngineRequest(insects, "int8", "CPU")
    b = EngineRequest(insects + "-fullconv", "int8", "CPU")
    picker = PairPicker(a, b)
    qtbot.addWidget(picker)
    models = [picker.sides[0].model.itemText(i)
              for i in range(picker.sides[0].model.count())]
    assert insects in models and insects + "-fullconv" in models
    assert picker.chosen() == (a, b)
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    window.compare_pair(a, b)

    def counted() -> bool:
        tracker = window.compare_mode.tracker
        figures = tracker.figures() if tracker is not None else None
        return figures is not None and figures.frames >= 5

    qtbot.waitUntil(counted, timeout=120_000)
    figures = window.compare_mode.tracker.figures()
    assert figures.a.model == insects and figures.mac_ratio > 1
    assert figures.top1_agreement == 1.0  # the twin gives the same predictions
