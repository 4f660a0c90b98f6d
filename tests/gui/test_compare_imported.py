"""An imported model in the app's compare mode: offered by the picker, compared like any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnviewer.gui.models import EngineRequest
from mnviewer.gui.pair_picker import PairPicker

INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"
SMALL = "mobilenet-v1-0.25-128"


@pytest.fixture(autouse=True)
def _home(import_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNVIEWER_HOME", str(import_home))


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
