"""The engine and pipeline on the real runtime: devices, static shapes, order, errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from mnviewer.engine import Engine
from mnviewer.pipeline import Pipeline
from mnviewer.sources import open_source


def test_auto_reports_the_device_that_executes(built_all: float) -> None:
    engine = Engine("mobilenet-v1-0.25-128", "int8", "AUTO")
    assert engine.executing_device == "CPU"


def test_static_shape_engine_accepts_other_sizes(built_all: float, shared_dir: Path) -> None:
    image = cv2.imread(str(shared_dir / "media" / "cat.bmp"))
    engine = Engine("mobilenet-v1-1.0-224", "int8", frame_hw=(360, 640))
    assert "cat" in engine.infer(cv2.resize(image, (640, 360))).top[0].label
    assert "cat" in engine.infer(image).top[0].label


def test_results_arrive_in_frame_order_with_timings(built_all: float, shared_dir: Path) -> None:
    engine = Engine("mobilenet-v1-0.25-128", "int8", hint="THROUGHPUT")
    with open_source(str(shared_dir / "media" / "bottle-detection.mp4")) as source:
        results = list(Pipeline(source, engine, max_frames=200, jobs=4))
    assert [r.index for r in results] == list(range(200))
    assert all(r.infer_ms > 0 and r.total_ms >= r.capture_ms for r in results)
    assert results[-1].fps > 0 and results[-1].device == "CPU"


def test_errors_in_result_handling_are_raised_not_swallowed(built_all: float,
                                                            shared_dir: Path) -> None:
    engine = Engine("mobilenet-v1-0.25-128", "int8")

    def broken(_result: object, _extra: object) -> None:
        raise ValueError("consumer failed")

    queue = engine.async_queue(broken)
    image = cv2.imread(str(shared_dir / "media" / "cat.bmp"))
    queue.submit(image, 0)
    with pytest.raises(ValueError, match="consumer failed"):
        queue.wait()


def test_engine_swap_keeps_the_source_running(built_all: float, shared_dir: Path) -> None:
    small = Engine("mobilenet-v1-0.25-128", "int8")
    large = Engine("mobilenet-v1-1.0-224", "int8")
    with open_source(str(shared_dir / "media" / "bottle-detection.mp4")) as source:
        pipeline = Pipeline(source, small, max_frames=60)
        models = []
        for result in pipeline:
            models.append(result.model_id)
            if result.index == 20:
                pipeline.swap_engine(large)
    assert models[0] == "mobilenet-v1-0.25-128" and models[-1] == "mobilenet-v1-1.0-224"
    assert len(models) == 60
