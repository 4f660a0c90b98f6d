"""The overlay fits the picture it is painted on, whatever its shape."""

from __future__ import annotations

from PySide6.QtCore import QRectF

from mnviewer.gui.overlay import Overlay, overlay_px, overlay_sizes, panel_width

OVERLAY = Overlay(labels=(("water bottle", 0.82), ("academic gown", 0.09), ("pop bottle", 0.04)),
                  title="mobilenet-v1-1.0-224 · int8 · CPU",
                  stats="source 29.8 fps · inference 29.8 fps · latency p50 3.28 ms")


def test_a_portrait_picture_keeps_its_labels_whole_and_inside() -> None:
    area = QRectF(0, 0, 300, 660)  # a 9:20 picture as the view shows it
    labels_px, footer_px = overlay_sizes(OVERLAY, area)
    assert labels_px < overlay_px(area.height())  # shrunk to fit ...
    assert panel_width(OVERLAY, labels_px) + labels_px <= area.width()  # ... whole
    assert panel_width(OVERLAY, footer_px, footer=True) + footer_px <= area.width()
    assert labels_px > footer_px  # the labels do not shrink for the longer footer


def test_a_landscape_picture_keeps_the_full_size() -> None:
    area = QRectF(0, 0, 1085, 610)
    assert overlay_sizes(OVERLAY, area) == (overlay_px(610), overlay_px(610))
