"""Compare mode's header: measured speed-up of a MobileNet over its full-convolution twin,
beside the ratio of their MACs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

from PySide6.QtWidgets import QLabel, QWidget

from mnviewer.engine import Engine, device_name
from mnviewer.models.catalog import load_catalog
from mnviewer.pipeline import FrameResult

REFRESH_S = 0.5  # the numbers move every frame; readable only when they settle a little


@dataclass(frozen=True)
class Side:
    """One pane's model and its newest result."""

    model_id: str
    macs: int
    result: FrameResult


@cache
def _device_label(device: str) -> str:
    first = device.split(",")[0]
    kind = first.split(".")[0]
    name = device_name(first)
    return f"this {kind}" + (f" ({name})" if name and name != first else "")


def pair_sides(engines: list[Engine | None],
               results: list[FrameResult | None]) -> tuple[Side, Side] | None:
    """(MobileNet, full-convolution twin) from the two panes, or None while one is loading."""
    sides = []
    for engine, result in zip(engines, results, strict=True):
        if engine is None or result is None or result.model_id != engine.model_id:
            return None
        sides.append(Side(engine.model_id, engine.macs, result))
    if load_catalog().get(sides[0].model_id).fullconv:
        sides.reverse()
    return sides[0], sides[1]


def speedup_text(mobilenet: Side, fullconv: Side) -> str:
    """E.g. '8.5× fewer MACs → 4.1× faster on this CPU (AMD EPYC)'."""
    mac_ratio = fullconv.macs / mobilenet.macs if mobilenet.macs else 0.0
    fast, slow = mobilenet.result.infer_p50_ms, fullconv.result.infer_p50_ms
    if fast <= 0 or slow <= 0:
        return f"{mac_ratio:.1f}× fewer MACs → measuring…"
    speed = slow / fast
    verdict = f"{speed:.1f}× faster" if speed >= 1 else f"{1 / speed:.1f}× slower"
    return (f"{mac_ratio:.1f}× fewer MACs → {verdict} on "
            f"{_device_label(mobilenet.result.device)}")


def detail_text(mobilenet: Side, fullconv: Side) -> str:
    return (f"{mobilenet.model_id} (p50 {mobilenet.result.infer_p50_ms:.2f} ms) vs its "
            f"full-convolution twin {fullconv.model_id} (p50 "
            f"{fullconv.result.infer_p50_ms:.2f} ms); the two take turns on each frame")


class CompareHeader(QLabel):
    """The headline of compare mode; plain_text holds the numbers shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plain_text = ""
        self._shown_at = 0.0
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { padding: 6px 10px; background: #20242a; color: #e8e8e8; }")

    def reset(self, text: str) -> None:
        self.plain_text = text
        self._shown_at = 0.0
        self.setText(text)

    def show_sides(self, mobilenet: Side, fullconv: Side) -> None:
        now = time.monotonic()
        if now - self._shown_at < REFRESH_S:
            return
        self._shown_at = now
        headline = speedup_text(mobilenet, fullconv)
        detail = detail_text(mobilenet, fullconv)
        self.plain_text = f"{headline}\n{detail}"
        self.setText(f"<span style='font-size:15pt; font-weight:600'>{headline}</span><br>"
                     f"<span style='color:#b0b0b0'>{detail}</span>")
