"""The accuracy-against-cost chart: Pareto front, layout, SVG and PNG output."""

from __future__ import annotations

import math
from pathlib import Path
from xml.etree import ElementTree

import cv2
import numpy as np
import pytest

from mnviewer.chart import (
    ChartPoint,
    layout_chart,
    pareto_front,
    save_chart,
    text_width,
    to_png,
    to_svg,
)
from mnviewer.errors import OutputError

SVG = "{http://www.w3.org/2000/svg}"


def _point(label: str, top1: float | None, ms: float, macs: float, *, series: str = "CPU",
           kind: str = "published") -> ChartPoint:
    return ChartPoint(label, series, top1, kind, ms, int(macs), int(macs / 100),
                      note="" if top1 is not None else "not published")


POINTS = [
    _point("v1-0.25-128 int8", 0.395, 0.3, 14e6),
    _point("v1-0.5-160 int8", 0.572, 0.9, 77e6),
    _point("v1-1.0-224 int8", 0.700, 4.2, 569e6),
    _point("v2-1.0-224 int8", 0.708, 3.5, 300e6),
    _point("v1-1.0-224-fullconv int8", 0.700, 30.0, 4830e6),
    _point("v2-ptq int8", None, 3.6, 300e6),
    _point("v1-1.0-224 int8", 0.712, 1.5, 569e6, series="GPU", kind="measured"),
]


def test_pareto_front_keeps_only_undominated_points() -> None:
    front = pareto_front([p for p in POINTS if p.series == "CPU"], "latency")
    assert [p.label for p in front] == ["v1-0.25-128 int8", "v1-0.5-160 int8",
                                        "v2-1.0-224 int8"]
    # Against MACs, V2 is cheaper than V1 1.0 and better: V1 1.0 is dominated too.
    by_macs = pareto_front([p for p in POINTS if p.series == "CPU"], "macs")
    assert "v1-1.0-224 int8" not in [p.label for p in by_macs]
    assert pareto_front([], "latency") == []


def test_layout_plots_every_point_with_a_top1_on_a_log_axis() -> None:
    layout = layout_chart(POINTS, "latency")
    assert len(layout.plotted) == 6 and [p.label for p in layout.omitted] == ["v2-ptq int8"]
    assert len([d for d in layout.dots if d.r == 5]) == 6
    texts = [t.text for t in layout.texts]
    for p in layout.plotted:
        assert p.label in texts
    assert any("not plotted" in t and "v2-ptq int8 (not published)" in t for t in texts)
    assert "CPU" in texts and "GPU" in texts  # one legend entry per series
    # Log scale: equal ratios of latency give equal distances.
    xs = {round(p.latency_ms or 0, 2): d.x for p, d in
          zip(sorted(layout.plotted, key=lambda p: p.latency_ms or 0),
              [d for d in layout.dots if d.r == 5], strict=True)}
    assert (xs[0.9] - xs[0.3]) / math.log10(3) == pytest.approx(
        (xs[4.2] - xs[1.5]) / math.log10(4.2 / 1.5), rel=0.01)
    # Published points are hollow, measured ones filled.
    filled = {d.filled for d in layout.dots if d.r == 5}
    assert filled == {True, False}


def test_labels_do_not_overlap() -> None:
    crowded = [_point(f"variant {i}", 0.6 + i * 0.002, 2.0 + i * 0.05, 1e8) for i in range(6)]
    layout = layout_chart(crowded, "latency")
    boxes = []
    for t in layout.texts:
        if not t.text.startswith("variant"):
            continue
        w = text_width(t.text, t.size)
        x0 = t.x if t.anchor == "start" else t.x - w if t.anchor == "end" else t.x - w / 2
        boxes.append((x0, t.y - t.size, x0 + w, t.y + 2))
    assert len(boxes) == 6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_no_plottable_point_says_so() -> None:
    layout = layout_chart([POINTS[5]], "params")
    assert not layout.plotted
    assert any("no variant has a top-1" in t.text for t in layout.texts)
    with pytest.raises(ValueError, match="axis"):
        layout_chart(POINTS, "flops")


def test_svg_is_a_document_with_a_circle_per_point() -> None:
    root = ElementTree.fromstring(to_svg(layout_chart(POINTS, "macs")))
    assert root.tag == f"{SVG}svg"
    circles = [c for c in root.iter(f"{SVG}circle") if c.get("r") == "5"]
    assert len(circles) == 6
    assert sum(c.get("fill") == "white" for c in circles) == 5  # the published ones
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "million mult-adds (log scale)" in texts and "v1-0.5-160 int8" in texts


def test_png_draws_anti_aliased_points_where_the_layout_puts_them() -> None:
    layout = layout_chart(POINTS, "latency")
    image = to_png(layout, scale=2.0)
    assert image.shape == (layout.height * 2, layout.width * 2, 3)
    for dot in layout.dots:
        if dot.r != 5:
            continue
        x, y = round(dot.x * 2), round(dot.y * 2)
        ring = image[y - 10:y + 11, x - 10:x + 11].reshape(-1, 3)
        colour = np.array(dot.color[::-1])
        assert (np.abs(ring.astype(int) - colour).sum(axis=1) < 60).any(), dot
    # Anti-aliased: edges blend into the background instead of jumping from ink to white.
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50


def test_save_writes_png_and_svg_and_refuses_other_names(tmp_path: Path) -> None:
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    save_chart(png, POINTS, "params")
    save_chart(svg, POINTS, "params")
    decoded = cv2.imread(str(png))
    assert decoded is not None and decoded.shape[1] > 1000
    ElementTree.parse(svg)
    with pytest.raises(OutputError, match=r"\.png or \.svg"):
        save_chart(tmp_path / "c.jpg", POINTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "c.svg"]


def test_labels_stay_inside_the_chart() -> None:
    """A long label at the right edge goes left of or under its point, not off the image,
    also when a neighbour's label takes the place left of it."""
    points = [_point("v1-0.25-128 int8", 0.395, 0.48, 14e6),
              _point("v1-1.0-224 int8", 0.700, 10.8, 569e6),
              _point("v2-1.0-224 int8", 0.708, 15.4, 300e6),
              _point("v1-1.0-224-fullconv int8", 0.700, 32.0, 4830e6)]
    layout = layout_chart(points, "latency")
    labels = [t for t in layout.texts if t.text in {p.label for p in points}]
    assert len(labels) == 4
    for t in labels:
        w = text_width(t.text, t.size)
        x0 = t.x if t.anchor == "start" else t.x - w if t.anchor == "end" else t.x - w / 2
        assert x0 >= 0 and x0 + w <= layout.width, t
