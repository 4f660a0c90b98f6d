"""The benchmark panel beside the live view: its size, exports, Stop; the dropped counter."""

from __future__ import annotations

from pathlib import Path

from mnviewer.gui.bench_panel import BenchPanel
from mnviewer.gui.session import PRIMARY
from mnviewer.gui.status import RecentCount

VARIANTS = ["mobilenet-v1-0.25-128", "mobilenet-v1-0.5-160", "mobilenet-v1-0.75-192",
            "mobilenet-v1-1.0-224"]


def test_the_panel_leaves_the_video_its_share_at_the_default_size(qtbot, open_window) -> None:
    window = open_window()
    view = window.views[PRIMARY]

    def video_keeps_its_share() -> bool:
        return view.height() >= 0.35 * window.height()

    window.resize(1280, 860)  # the default size on a large screen
    qtbot.waitUntil(lambda: window.height() == 860, timeout=2_000)
    window.commands.bench.setChecked(True)
    assert window.bench_dock.isVisible()
    qtbot.waitUntil(video_keeps_its_share, timeout=2_000)  # a thumbnail before: 135 px
    assert window.plot.isVisible()  # room for it at this size
    window.commands.bench.setChecked(False)
    window.resize(800, 560)
    qtbot.waitUntil(lambda: window.height() < 700, timeout=2_000)
    window.commands.bench.setChecked(True)
    qtbot.waitUntil(video_keeps_its_share, timeout=2_000)
    assert not window.plot.isVisible()  # it gave way in the short window ...
    window.commands.bench.setChecked(False)
    assert window.plot.isVisible() and window.settings.plot  # ... and is back


def test_stop_keeps_what_was_done_and_exports_add_the_extension(qtbot,
                                                                tmp_path: Path) -> None:
    panel = BenchPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.choose(VARIANTS, ["int8"], ["CPU"], seconds=1.0)
    panel.start()
    # Stop once the second measurement has begun (the progress says so).
    qtbot.waitUntil(lambda: panel.progress.maximum() == 4 and panel.progress.value() >= 1,
                    timeout=120_000)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    done = len(panel.rows)
    assert 1 <= done < 4, panel.status.text()
    assert (panel.progress.value(), panel.progress.maximum()) == (done, 4)
    assert panel.status.text() == f"Stopped: {done} of 4 measured."
    for kind in ("csv", "json", "png"):
        written = panel.export(kind, tmp_path / "results")
        assert written == tmp_path / f"results.{kind}" and written.is_file()
    assert panel.export("csv", tmp_path / "r.CSV") == tmp_path / "r.CSV"


def test_dropped_frames_are_counted_over_the_last_ten_seconds() -> None:
    recent = RecentCount(10.0)
    assert recent.add(0.0, 0) == 0
    assert recent.add(5.0, 40) == 40
    assert recent.add(9.5, 50) == 50
    assert recent.add(12.0, 50) == 10  # the 40 of the first five seconds have left the window
    assert recent.add(30.0, 50) == 0
    assert recent.add(31.0, 3) == 0  # a new source counts from 0
    assert recent.add(32.0, 7) == 4
