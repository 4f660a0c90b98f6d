"""Compare mode's figures (Qt-free): agreement on common frames, latencies, what is ignored."""

from __future__ import annotations

import numpy as np

from mnviewer.engine import Prediction
from mnviewer.gui.compare import default_partner, headline
from mnviewer.gui.models import EngineRequest
from mnviewer.gui.pair_stats import MIN_SAMPLES, PairTracker, Variant
from mnviewer.pipeline import FrameResult
from mnviewer.sources import Frame

IMAGE = np.zeros((4, 4, 3), np.uint8)
A = Variant("mobilenet-v1-0.25-128", "int8", "CPU", 13_570_304, 467_593)
B = Variant("mobilenet-v1-0.25-128", "fp32", "CPU", 13_570_304, 467_593)


def result(variant: Variant, frame: Frame, label: str, ms: float) -> FrameResult:
    return FrameResult(frame=frame, top=(Prediction(0, label, 0.9),), infer_ms=ms,
                       capture_ms=0.0, post_ms=0.0, total_ms=ms, fps=30.0, infer_p50_ms=ms,
                       model_id=variant.model, precision=variant.precision,
                       device=variant.device)


def test_agreement_counts_frames_both_sides_classified() -> None:
    tracker = PairTracker(A, B)
    frames = [Frame(i, i * 33.0, IMAGE) for i in range(5)]
    labels_b = ["cup", "cup", "mug", "cup", "cup"]
    for frame, label_b in zip(frames, labels_b, strict=True):
        tracker.add(0, result(A, frame, "cup", 2.0))
        tracker.add(1, result(B, frame, label_b, 4.0))
    tracker.add(0, result(A, Frame(9, 0.0, IMAGE), "cup", 2.0))  # b never saw it: not counted
    figures = tracker.figures()
    assert figures is not None
    assert (figures.frames, figures.agreed, figures.disagreed) == (5, 4, 1)
    assert figures.top1_agreement == 0.8
    assert figures.speedup == 2.0 and figures.mac_ratio == 1.0
    text = headline(figures)
    assert "2.0× faster than B" in text and "1 of 5 frames differ" in text
    assert "the same MACs" in text


def test_results_of_another_variant_are_ignored_and_figures_wait_for_samples() -> None:
    tracker = PairTracker(A, B)
    old = Variant("mobilenet-v1-0.5-160", "int8", "CPU", 1, 1)
    frame = Frame(0, 0.0, IMAGE)
    for _ in range(MIN_SAMPLES):
        tracker.add(0, result(A, frame, "cup", 2.0))
        tracker.add(1, result(old, frame, "cup", 9.0))  # an engine being swapped out
    assert tracker.figures() is None, "figures before side b ran the pair asked for"


def test_a_model_without_a_twin_gets_a_named_partner() -> None:
    twin, note = default_partner(EngineRequest("mobilenet-v1-0.25-128", "int8", "CPU"))
    assert twin.model == "mobilenet-v1-0.25-128-fullconv" and not note
    partner, note = default_partner(EngineRequest("conv-mobilenet-1.0-224", "int8", "CPU"))
    assert partner.model == "mobilenet-v1-1.0-224" and "same width and resolution" in note
    # A model the catalog has no twin for (an imported one): its other precision.
    partner, note = default_partner(EngineRequest("my-imported-net", "int8", "CPU"))
    assert partner == EngineRequest("my-imported-net", "fp32", "CPU")
    assert "comparing its int8 with its fp32" in note
