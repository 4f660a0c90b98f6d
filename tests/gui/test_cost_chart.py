"""The benchmark panel's accuracy-against-cost chart on real benchmark runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mnviewer.gui.bench_panel import COLUMNS, BenchPanel, table_cells
from tests.gui.test_window import image_is_blank

VARIANTS = ["mobilenet-v1-0.25-128", "mobilenet-v1-0.5-160"]


def run_panel(qtbot, images: Path | None = None) -> BenchPanel:
    panel = BenchPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.cost_chart.set_images(images)
    panel.choose(VARIANTS, ["int8"], ["CPU"], seconds=0.2)
    panel.start()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    assert sorted(r.id for r in panel.rows) == VARIANTS, panel.status.text()
    return panel


def texts(layout) -> list[str]:
    return [t.text for t in layout.texts]


def test_chart_plots_published_top1_switches_axes_and_exports(qtbot, tmp_path: Path) -> None:
    panel = run_panel(qtbot)
    canvas = panel.cost_chart.canvas
    layout = canvas.layout_for(960, 620)
    assert len(layout.plotted) == 2 and not layout.omitted
    assert all(p.top1_kind == "published" for p in layout.plotted)
    assert {"v1-0.25-128 int8", "v1-0.5-160 int8"} <= set(texts(layout))
    assert any("published" in t for t in texts(layout))
    assert "dashed: Pareto front" in texts(layout)
    assert any(line.dashed for line in layout.lines), "no Pareto front drawn"
    assert "(published)" in table_cells(panel.rows[0])[COLUMNS.index("Top-1")]
    for axis, title in (("macs", "mult-adds"), ("params", "parameters"),
                        ("latency", "latency")):
        panel.cost_chart.set_axis(axis)
        assert any(title in t for t in texts(canvas.layout_for(960, 620)))
    assert not image_is_blank(_save(canvas.render_image(), tmp_path / "shown.png"))
    panel.cost_chart.export(tmp_path / "chart.svg")
    panel.cost_chart.export(tmp_path / "chart.png")
    svg = (tmp_path / "chart.svg").read_text()
    assert svg.startswith("<svg") and "v1-0.25-128 int8" in svg
    assert not image_is_blank(tmp_path / "chart.png")


def test_devices_are_separate_series(qtbot) -> None:
    panel = run_panel(qtbot)
    # The rows a second device would give (this machine has only a CPU).
    rows = panel.rows + [replace(r, device="GPU") for r in panel.rows]
    panel.cost_chart.set_rows(rows)
    layout = panel.cost_chart.canvas.layout_for(960, 620)
    colors = {d.color for d in layout.dots if d.r == 5}
    assert len(colors) == 2 and {"CPU", "GPU"} <= set(texts(layout))


def test_top1_from_a_labelled_folder_is_measured(qtbot, shared_dir: Path) -> None:
    panel = run_panel(qtbot, images=shared_dir / "imagenet-sample")
    assert all(r.top1 is not None for r in panel.rows)
    layout = panel.cost_chart.canvas.layout_for(960, 620)
    assert all(p.top1_kind == "measured" for p in layout.plotted)
    assert any("measured on imagenet-sample" in t for t in texts(layout))





def _save(image, path: Path) -> Path:
    assert image.save(str(path))
    return path
