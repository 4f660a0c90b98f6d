"""The profile panel on real models: shares per kind, a sortable layer table, following the
model selector, and nothing run while it is closed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mnviewer.gui.models import EngineRequest
from mnviewer.gui.profile_panel import COLUMNS
from mnviewer.gui.session import PRIMARY
from mnviewer.profiling import KINDS

SMALL = "mobilenet-v1-0.25-128"
OTHER = "mobilenet-v1-0.5-160"


def open_profile(qtbot, window) -> None:
    window.views[PRIMARY].setFocus()
    qtbot.keyClick(window.views[PRIMARY], Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert window.profile_dock.isVisible() and window.profile_panel.active


def test_panel_shows_the_shares_per_kind_and_a_sortable_layer_table(qtbot, open_window,
                                                                   wait_result) -> None:
    window = open_window(model=SMALL, precision="int8", device="CPU")
    wait_result(window, model=SMALL)
    panel = window.profile_panel
    open_profile(qtbot, window)
    # The profile is taken on a worker thread: the window goes on painting meanwhile.
    assert panel.task is not None and panel.profile is None
    shown = window.views[PRIMARY].displayed_total
    qtbot.waitUntil(lambda: panel.profile is not None, timeout=60_000)
    assert window.views[PRIMARY].displayed_total > shown
    profile = panel.profile
    assert profile.model == SMALL and set(profile.kinds) == set(KINDS)
    assert sum(k.share_time for k in profile.kinds.values()) == pytest.approx(1.0, abs=0.01)
    assert profile.kinds["pointwise"].share_macs > 0.75  # the paper's point: 1x1 does the work
    assert "1x1 convolutions" in panel.title.text() and "of time" in panel.title.text()
    table = panel.table
    assert table.rowCount() == len(profile.layers) > 10
    ms = COLUMNS.index("ms")
    slowest = max(layer.ms for layer in profile.layers)
    assert float(table.item(0, ms).text()) == pytest.approx(slowest, abs=1e-4)
    table.sortItems(COLUMNS.index("MACs"), Qt.SortOrder.DescendingOrder)
    assert table.item(0, COLUMNS.index("MACs")).value == max(la.macs for la in profile.layers)
    table.sortItems(ms, Qt.SortOrder.AscendingOrder)
    assert float(table.item(0, ms).text()) == pytest.approx(
        min(layer.ms for layer in profile.layers), abs=1e-4)


def test_panel_follows_the_model_selector(qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    panel = window.profile_panel
    open_profile(qtbot, window)
    qtbot.waitUntil(lambda: panel.profile is not None, timeout=60_000)
    window.request_engine(model=OTHER)
    qtbot.waitUntil(lambda: panel.profile is not None and panel.profile.model == OTHER,
                    timeout=60_000)
    assert OTHER in panel.title.text()


def test_closed_panel_profiles_nothing(qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    panel = window.profile_panel
    window.request_engine(model=OTHER)
    wait_result(window, model=OTHER)
    assert not window.profile_dock.isVisible()
    assert panel.runs == 0 and panel.task is None and panel.profile is None
    open_profile(qtbot, window)
    assert panel.runs == 1
    qtbot.waitUntil(lambda: panel.profile is not None, timeout=60_000)
    assert panel.profile.model == OTHER  # the running model, not the one the window opened with
    window.profile_dock.hide()
    window.request_engine(model=SMALL)
    wait_result(window, model=SMALL)
    assert panel.runs == 1 and panel.task is None


def test_a_device_that_cannot_be_profiled_says_so(qtbot, open_window, wait_result) -> None:
    window = open_window(model=SMALL)
    wait_result(window, model=SMALL)
    panel = window.profile_panel
    open_profile(qtbot, window)
    panel.follow(EngineRequest(SMALL, "int8", "NPU.7"))
    qtbot.waitUntil(lambda: panel.title.text().startswith("Cannot profile"), timeout=30_000)
    assert "NPU.7" in panel.title.text()
    assert any(t.startswith("profile:") for t in window.banner.texts())
