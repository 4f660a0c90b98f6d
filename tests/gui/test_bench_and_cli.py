"""The benchmark panel with the real benchmark, and `mnviewer gui --quit-after` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mnviewer.gui.bench_panel import BenchPanel
from tests.gui.test_window import image_is_blank

REPO = Path(__file__).resolve().parents[2]
VARIANTS = ["mobilenet-v1-0.25-128", "mobilenet-v1-0.5-160"]


def test_bench_panel_runs_two_variants_and_exports(qtbot, tmp_path: Path) -> None:
    panel = BenchPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.choose(VARIANTS, ["int8"], ["CPU"], seconds=0.2)
    with qtbot.waitSignal(panel.running_changed, timeout=5_000):
        panel.start()
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    assert sorted(r.id for r in panel.rows) == VARIANTS, panel.status.text()
    assert panel.table.rowCount() == 2 and panel.chart.rows == panel.rows
    assert all(r.latency_ms["p50"] > 0 for r in panel.rows)
    for kind in ("csv", "json", "png"):
        panel.export(kind, tmp_path / f"bench.{kind}")
    assert (tmp_path / "bench.csv").read_text().count("\n") == 3
    assert sorted(r["id"] for r in json.loads((tmp_path / "bench.json").read_text())) == VARIANTS
    assert not image_is_blank(tmp_path / "bench.png")


def test_cli_quit_after_saves_a_screenshot(tmp_path: Path, video: Path) -> None:
    shot = tmp_path / "out.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "MNVIEWER_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.run(
        [sys.executable, "-m", "mnviewer", "gui", "--source", str(video), "--quit-after", "30",
         "--screenshot", str(shot)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file() and not image_is_blank(shot)
    assert not (tmp_path / "config").exists(), "an automated run must not save settings"


def test_cli_quit_after_with_a_missing_source_fails(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "MNVIEWER_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.run(
        [sys.executable, "-m", "mnviewer", "gui", "--source", str(tmp_path / "none.mp4"),
         "--quit-after", "5"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "none.mp4 not found" in proc.stderr
