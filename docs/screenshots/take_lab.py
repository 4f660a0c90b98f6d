"""Screenshots of compare mode (any pair), the profile panel and the accuracy-against-cost chart.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/take_lab.py

Uses MNVIEWER_MIRROR / MNVIEWER_HOME as the app does; writes into docs/screenshots/.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer

from mnviewer.gui.app import application
from mnviewer.gui.bench_panel import BenchPanel
from mnviewer.gui.compare import DISAGREE
from mnviewer.gui.main_window import GuiOptions, MainWindow
from mnviewer.gui.models import EngineRequest
from mnviewer.gui.session import PRIMARY

OUT = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("MNVIEWER_TEST_DATA", Path(__file__).resolve().parents[3] / "shared"))
VIDEO = str(SHARED / "media" / "bottle-detection.mp4")
MODEL = "mobilenet-v1-1.0-224"


def spin(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait(condition, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        spin(0.1)


def window(**options) -> MainWindow:
    win = MainWindow(GuiOptions(source=VIDEO, model=MODEL, precision="int8", device="CPU",
                                offer_build=False, **options))
    win.resize(1400, 860)
    win.show()
    wait(lambda: win.views[PRIMARY].result is not None)
    return win


def compare() -> None:
    win = window()
    win.set_plot(False)
    win.compare_pair(EngineRequest(MODEL, "int8", "CPU"), EngineRequest(MODEL, "fp32", "CPU"))
    wait(lambda: win.compare_mode.tracker is not None
         and (f := win.compare_mode.tracker.figures()) is not None and f.frames >= 60
         and "agreement" in win.header.plain_text)
    # A moment where the two name different classes, to show the mark.
    wait(lambda: win.views[PRIMARY].marker == DISAGREE and "differ" in win.header.plain_text,
         90)
    win.grab().save(str(OUT / "compare-any-pair.png"))
    win.close()


def profile() -> None:
    win = window()
    win.set_plot(False)
    win.profile_dock.show()
    win.resizeDocks([win.profile_dock], [720], Qt.Orientation.Horizontal)
    wait(lambda: win.profile_panel.profile is not None)
    spin(0.5)
    win.grab().save(str(OUT / "profile-panel.png"))
    win.close()


def cost_chart() -> None:
    panel = BenchPanel()
    panel.resize(1400, 860)
    panel.show()
    ids = ["mobilenet-v1-1.0-224", "mobilenet-v1-0.75-192", "mobilenet-v1-0.5-160",
           "mobilenet-v1-0.25-128", "mobilenet-v2-1.0-224", "mobilenet-v1-1.0-224-fullconv"]
    panel.choose(ids, ["int8", "fp32"], ["CPU"], seconds=2.0)
    panel.start()
    wait(lambda: not panel.running, 900)
    spin(0.5)
    panel.grab().save(str(OUT / "accuracy-vs-cost.png"))
    panel.cost_chart.export(OUT / "accuracy-vs-cost.svg")
    panel.shutdown()
    panel.close()


def main() -> int:
    os.environ["MNVIEWER_CONFIG_DIR"] = tempfile.mkdtemp(prefix="mnviewer-shots-")
    application()
    which = sys.argv[1:] or ["compare", "profile", "cost_chart"]
    for name in which:
        globals()[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
