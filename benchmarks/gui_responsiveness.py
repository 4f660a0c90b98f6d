"""GUI responsiveness: displayed FPS and event-loop stalls of the live view.

Opens the main window (offscreen unless QT_QPA_PLATFORM says otherwise) on bottle-detection.mp4,
played in real time and looped, for --seconds per model, with a QTimer due every 5 ms. A stall
is how late each tick comes: the actual interval minus the 5 ms asked for. Prints the displayed
FPS (new frames painted per second) and stall p50/p99/max for V1 1.0-224 int8 on the CPU and
for its full-convolution twin. Targets: at least 29 displayed FPS from the 29.83 FPS video,
stall p99 under 20 ms.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_responsiveness.py [--seconds 10]

Settings go to a temporary folder; models are built into MNVIEWER_HOME (the usual cache) if
they are not there yet.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from _common import SHARED, setup_env
from PySide6.QtCore import QEventLoop, Qt, QTimer

from mnviewer.gui.app import application
from mnviewer.gui.main_window import GuiOptions, MainWindow
from mnviewer.gui.session import PRIMARY
from mnviewer.pipeline import percentiles

MODELS = ("mobilenet-v1-1.0-224", "mobilenet-v1-1.0-224-fullconv")
PROBE_MS = 5
STARTUP_S = 120.0


def default_video() -> str:
    video = SHARED / "media" / "bottle-detection.mp4"
    return str(video) if video.is_file() else "demo"


def spin(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_first_result(window: MainWindow) -> None:
    deadline = time.monotonic() + STARTUP_S
    while window.views[PRIMARY].result is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"no result within {STARTUP_S:.0f} s: {window.banner.texts()}")
        spin(0.05)


def measure(model: str, source: str, seconds: float) -> dict:
    """Open a window on `source` with `model`, warm up, then probe for `seconds`."""
    window = MainWindow(GuiOptions(source=source, model=model, precision="int8",
                                   device="CPU", offer_build=False))
    window.resize(1280, 800)
    window.show()
    try:
        wait_first_result(window)
        spin(1.0)  # past the first compile and the first seconds of the pacer
        ticks: list[float] = []
        probe = QTimer()
        probe.setTimerType(Qt.TimerType.PreciseTimer)
        probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
        view = window.views[PRIMARY]
        shown0, frames0, start = view.displayed_total, window.session.frames(PRIMARY), \
            time.perf_counter()
        probe.start(PROBE_MS)
        spin(seconds)
        probe.stop()
        elapsed = time.perf_counter() - start
        shown, inferred = view.displayed_total - shown0, window.session.frames(PRIMARY) - frames0
        result = view.result
    finally:
        window.close()
        window.deleteLater()
    stalls = np.maximum(np.diff(ticks) * 1e3 - PROBE_MS, 0.0)
    return {
        "model": model,
        "displayed_fps": round(shown / elapsed, 2),
        "inferred_fps": round(inferred / elapsed, 2),
        "infer_p50_ms": round(result.infer_p50_ms, 2) if result else None,
        **{f"stall_{q}_ms": v for q, v in percentiles(stalls, (50, 99), digits=2).items()},
        "stall_max_ms": round(float(stalls.max()), 2),
        "ticks": len(ticks),
        "seconds": round(elapsed, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--source", default=default_video(),
                        help="video to play (default: ../shared/media/bottle-detection.mp4)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    setup_env()
    os.environ["MNVIEWER_CONFIG_DIR"] = tempfile.mkdtemp(prefix="mnviewer-bench-config-")
    application()
    rows = [measure(model, args.source, args.seconds) for model in MODELS]
    print(f"platform {os.environ['QT_QPA_PLATFORM']}, source {args.source}, "
          f"{args.seconds:g} s per model, probe every {PROBE_MS} ms")
    print(f"{'model':34} {'shown fps':>9} {'infer fps':>9} {'p50 ms':>7} "
          f"{'stall p50':>9} {'p99':>6} {'max':>6}")
    for r in rows:
        print(f"{r['model']:34} {r['displayed_fps']:9.1f} {r['inferred_fps']:9.1f} "
              f"{r['infer_p50_ms']:7.2f} {r['stall_p50_ms']:9.2f} {r['stall_p99_ms']:6.2f} "
              f"{r['stall_max_ms']:6.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
