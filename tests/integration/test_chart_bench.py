"""`mnviewer bench --plot`: the accuracy-against-cost chart from measured rows, and the
published top-1 figures the catalog names."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import cv2
import numpy as np

from mnviewer.engine import read_prepared
from mnviewer.models import builder as build
from mnviewer.models.catalog import load_catalog
from tests.integration.conftest import one_error_line, run_cli

SMALL = "mobilenet-v1-0.25-128"
SVG = "{http://www.w3.org/2000/svg}"
# The TensorFlow Lite hosted models list, "Image classification (Quantized Models)".
HOSTED = {"mobilenet-v1-0.25-128": 0.395, "mobilenet-v1-0.5-160": 0.572,
          "mobilenet-v1-0.75-192": 0.661, "mobilenet-v1-1.0-224": 0.700,
          "mobilenet-v2-1.0-224": 0.708}


def test_catalog_names_published_top1_and_its_source() -> None:
    catalog = load_catalog()
    for model_id, value in HOSTED.items():
        spec = catalog.get(model_id)
        assert spec.published_top1 == value
        assert "hosted.md" in spec.top1_source and "Quantized Models" in spec.top1_source
        twin = catalog.get(model_id + "-fullconv")  # same weights, same predictions
        assert twin.published_top1 == value
    for model_id in ("mobilenet-v2-1.0-224-ptq", "conv-mobilenet-1.0-224"):
        spec = catalog.get(model_id)
        assert spec.published_top1 is None and spec.top1_source.startswith("not published")


def test_bench_plots_png_and_svg(tmp_path: Path) -> None:
    png, svg, out = tmp_path / "chart.png", tmp_path / "chart.svg", tmp_path / "rows.json"
    proc = run_cli("bench", "--model", SMALL, "mobilenet-v2-1.0-224-ptq", "--seconds", "0.2",
                   "--plot", str(png), "--plot", str(svg), "--plot-axis", "macs",
                   "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    assert rows[0]["published_top1"] == 0.395 and rows[0]["top1"] is None
    assert rows[1]["published_top1"] is None
    assert "39.5%*" in proc.stdout and "* published ImageNet top-1" in proc.stdout
    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] > 600
    assert (np.abs(image.astype(int) - (180, 119, 31)).sum(axis=2) < 40).any()  # CPU blue
    root = ElementTree.parse(svg).getroot()
    texts = " | ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "v1-0.25-128 int8" in texts and "million mult-adds" in texts
    assert "v2-1.0-224-ptq int8 (not published)" in texts
    assert "TensorFlow Lite hosted models" in texts


def test_bench_measured_top1_is_plotted_filled(shared_dir: Path, tmp_path: Path) -> None:
    svg = tmp_path / "measured.svg"
    proc = run_cli("bench", "--model", SMALL, "--seconds", "0.2", "--images",
                   str(shared_dir / "imagenet-sample"), "--plot", str(svg))
    assert proc.returncode == 0, proc.stderr
    root = ElementTree.parse(svg).getroot()
    points = [c for c in root.iter(f"{SVG}circle") if c.get("r") == "5"]
    assert len(points) == 1 and points[0].get("fill") != "white"
    assert "top-1 measured on imagenet-sample (100 labelled images)" in " ".join(
        t.text or "" for t in root.iter(f"{SVG}text"))


def test_bench_plot_bad_name_and_absent_device(tmp_path: Path) -> None:
    one_error_line(run_cli("bench", "--model", SMALL, "--plot", str(tmp_path / "c.jpg")), 2,
                   "c.jpg", ".png or .svg")
    one_error_line(run_cli("bench", "--model", SMALL, "--device", "CPU", "NPU"), 4, "NPU",
                   "CPU")


def test_npu_path_compiles_static_shapes() -> None:
    """What an NPU needs, checked without one: the benchmark's and profiler's model (raw
    input) and a compare engine's model for a known source size have static shapes."""
    built = build.ensure_built(SMALL, "int8")
    assert read_prepared(built, None, raw=True).get_parameters()[0].get_partial_shape() \
        .is_static
    fixed = read_prepared(built, (360, 640))
    assert list(fixed.get_parameters()[0].get_shape()) == [1, 360, 640, 3]


def test_each_device_is_its_own_series(tmp_path: Path) -> None:
    """Two devices measured in one run (here the CPU and AUTO, the two this machine has)
    come out as two series, in the JSON, the table and the chart."""
    svg, out = tmp_path / "devices.svg", tmp_path / "devices.json"
    proc = run_cli("bench", "--model", SMALL, "--device", "CPU", "AUTO", "--seconds", "0.2",
                   "--plot", str(svg), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    assert [r["requested_device"] for r in rows] == ["", "AUTO"]
    assert "AUTO (CPU)" in proc.stdout
    root = ElementTree.parse(svg).getroot()
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "CPU" in texts and "AUTO (CPU)" in texts
    points = [c for c in root.iter(f"{SVG}circle") if c.get("r") == "5"]
    assert len(points) == 2 and points[0].get("stroke") != points[1].get("stroke")
