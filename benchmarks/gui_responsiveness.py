"""GUI responsiveness: displayed FPS and event-loop stalls of the live view.

Opens the main window (offscreen unless QT_QPA_PLATFORM says otherwise) on bottle-detection.mp4,
played in real time and looped, for --seconds per model, with a QTimer due every 5 ms. A stall
is how late each tick comes: the actual interval minus the 5 ms asked for. Prints the displayed
FPS (new frames painted per second) and stall p50/p99/max for V1 1.0-224 int8 on the CPU and
for its full-convolution twin. Targets: at least 29 displayed FPS from the 29.83 FPS video,
stall p99 under 20 ms.

Then compare mode, pair by pair (PAIRS): both panes' displayed FPS beside the sum of the two
latencies (p50 as the header shows them). Target: every pair whose latencies sum to under
25 ms keeps the source's rate (each pane displays at least KEPT of the frames the source
gives). The load average is printed too: on a shared machine it explains a lot.

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
from mnviewer.gui.models import EngineRequest
from mnviewer.gui.session import PARTNER, PRIMARY
from mnviewer.pipeline import percentiles

MODELS = ("mobilenet-v1-1.0-224", "mobilenet-v1-1.0-224-fullconv")
PAIRS = (  # (model, precision) for side A and side B, all on the CPU
    (("mobilenet-v1-1.0-224", "int8"), ("mobilenet-v1-1.0-224", "fp32")),
    (("mobilenet-v1-0.25-128", "int8"), ("mobilenet-v2-1.0-224", "int8")),
    (("mobilenet-v1-0.5-160", "int8"), ("mobilenet-v1-0.5-160-fullconv", "int8")),
    (("mobilenet-v1-1.0-224", "int8"), ("mobilenet-v1-1.0-224-fullconv", "int8")),
)
TARGET_SUM_MS = 25.0
KEPT = 0.97
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


def measure_pair(a: tuple[str, str], b: tuple[str, str], source: str, seconds: float) -> dict:
    """Compare mode on `source` with side a and side b; displayed FPS of both panes."""
    window = MainWindow(GuiOptions(source=source, model=a[0], precision=a[1], device="CPU",
                                   offer_build=False))
    window.resize(1280, 800)
    window.show()
    try:
        wait_first_result(window)
        window.compare_pair(EngineRequest(a[0], a[1], "CPU"), EngineRequest(b[0], b[1], "CPU"))
        deadline = time.monotonic() + STARTUP_S
        while window.compare_mode.tracker is None or window.compare_mode.tracker.figures() \
                is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"compare did not start: {window.banner.texts()}")
            spin(0.05)
        spin(1.0)
        views = window.views
        shown0 = [v.displayed_total for v in views]
        inferred0 = [window.session.frames(p) for p in (PRIMARY, PARTNER)]
        start = time.perf_counter()
        spin(seconds)
        elapsed = time.perf_counter() - start
        shown = [v.displayed_total - s0 for v, s0 in zip(views, shown0, strict=True)]
        inferred = [window.session.frames(p) - i0 for p, i0 in zip((PRIMARY, PARTNER),
                                                                   inferred0, strict=True)]
        figures = window.compare_mode.tracker.figures()
        source_fps = window.session.source_fps
    finally:
        window.close()
        window.deleteLater()
    assert figures is not None
    p50 = (figures.latency_a["p50"], figures.latency_b["p50"])
    return {
        "a": f"{a[0]} {a[1]}", "b": f"{b[0]} {b[1]}",
        "p50_a_ms": round(p50[0], 2), "p50_b_ms": round(p50[1], 2),
        "sum_ms": round(sum(p50), 2),
        "displayed_fps_a": round(shown[0] / elapsed, 2),
        "displayed_fps_b": round(shown[1] / elapsed, 2),
        "inferred_fps_a": round(inferred[0] / elapsed, 2),
        "inferred_fps_b": round(inferred[1] / elapsed, 2),
        "source_fps": round(source_fps, 2),
        "frames_compared": figures.frames,
        "top1_agreement": round(figures.top1_agreement, 3),
        "seconds": round(elapsed, 2),
    }


def print_pairs(pairs: list[dict]) -> None:
    print(f"\ncompare mode ({TARGET_SUM_MS:g} ms target: pairs summing under it keep the "
          "source's rate)")
    print(f"{'A':30} {'B':36} {'p50 A':>6} {'p50 B':>6} {'sum':>6} {'shown A':>7} "
          f"{'shown B':>7} {'infer A':>7} {'infer B':>7} {'source':>6} {'kept':>5}  verdict")
    for r in pairs:
        kept = min(r["displayed_fps_a"], r["displayed_fps_b"]) / max(r["source_fps"], 1e-9)
        r["kept"] = round(kept, 3)
        verdict = ("keeps the rate" if kept >= KEPT else "below the rate") + (
            "" if r["sum_ms"] < TARGET_SUM_MS else " (sum over target: not required)")
        print(f"{r['a']:30} {r['b']:36} {r['p50_a_ms']:6.2f} {r['p50_b_ms']:6.2f} "
              f"{r['sum_ms']:6.2f} {r['displayed_fps_a']:7.1f} {r['displayed_fps_b']:7.1f} "
              f"{r['inferred_fps_a']:7.1f} {r['inferred_fps_b']:7.1f} "
              f"{r['source_fps']:6.1f} {kept:5.0%}  {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--source", default=default_video(),
                        help="video to play (default: ../shared/media/bottle-detection.mp4)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--only", choices=("single", "compare"),
                        help="measure only single models or only compare-mode pairs")
    args = parser.parse_args()
    setup_env()
    os.environ["MNVIEWER_CONFIG_DIR"] = tempfile.mkdtemp(prefix="mnviewer-bench-config-")
    application()
    rows = [] if args.only == "compare" else [measure(model, args.source, args.seconds)
                                               for model in MODELS]
    pairs = [] if args.only == "single" else [measure_pair(a, b, args.source, args.seconds)
                                              for a, b in PAIRS]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"platform {os.environ['QT_QPA_PLATFORM']}, source {args.source}, "
          f"{args.seconds:g} s per model, probe every {PROBE_MS} ms, load average {load} on "
          f"{os.cpu_count()} cores")
    print(f"{'model':34} {'shown fps':>9} {'infer fps':>9} {'p50 ms':>7} "
          f"{'stall p50':>9} {'p99':>6} {'max':>6}")
    for r in rows:
        print(f"{r['model']:34} {r['displayed_fps']:9.1f} {r['inferred_fps']:9.1f} "
              f"{r['infer_p50_ms']:7.2f} {r['stall_p50_ms']:9.2f} {r['stall_p99_ms']:6.2f} "
              f"{r['stall_max_ms']:6.2f}")
    if pairs:
        print_pairs(pairs)
    if args.json:
        args.json.write_text(json.dumps({"single": rows, "compare": pairs}, indent=1) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
