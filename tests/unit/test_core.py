"""Catalog, precision parsing, counting, graph surgery and the moving window, on small inputs."""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops
import pytest

from mnviewer.engine import check_device, check_top_k
from mnviewer.errors import DeviceError, UsageError
from mnviewer.models import graph, stats
from mnviewer.models.builder import parse_precisions
from mnviewer.models.catalog import load_catalog, twin_of
from mnviewer.pipeline import MovingWindow, percentiles


def test_catalog_has_every_model_and_a_twin_for_each_mobilenet() -> None:
    catalog = load_catalog()
    base = [m.id for m in catalog.models if not m.fullconv]
    assert base == ["mobilenet-v1-1.0-224", "mobilenet-v1-0.75-192", "mobilenet-v1-0.5-160",
                    "mobilenet-v1-0.25-128", "mobilenet-v2-1.0-224", "mobilenet-v2-1.0-224-ptq",
                    "conv-mobilenet-1.0-224"]
    twins = {m.id for m in catalog.models if m.fullconv}
    assert twins == {f"{b}-fullconv" for b in base if b.startswith("mobilenet")}
    assert twin_of(catalog.get("conv-mobilenet-1.0-224")) is None
    for spec in catalog.models:
        for name in spec.sources:
            src = catalog.sources[name]
            assert len(src.sha256) == 64 and src.url.startswith("https://") and src.size > 0


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(UsageError, match=r"unknown model id 'mobilenet-v3'.*mobilenet-v1-1\.0-224"):
        load_catalog().get("mobilenet-v3")


def test_parse_precisions() -> None:
    assert parse_precisions("int8,FP32") == ["int8", "fp32"]
    assert parse_precisions(None) == ["int8", "fp16", "fp32"]
    with pytest.raises(UsageError, match="int4"):
        parse_precisions("int8,int4")


def test_top_k_and_device_checks() -> None:
    assert check_top_k(10) == 10
    with pytest.raises(UsageError):
        check_top_k(11)
    assert check_device("cpu") == "CPU"
    assert check_device("AUTO") == "AUTO"
    with pytest.raises(DeviceError, match="CPU"):
        check_device("FPGA")


def _tiny_separable() -> ov.Model:
    rng = np.random.default_rng(1)
    x = ops.parameter([1, 4, 8, 8], ov.Type.f32)
    dw = rng.normal(size=(4, 1, 1, 3, 3)).astype(np.float32)
    pw = rng.normal(size=(6, 4, 1, 1)).astype(np.float32)
    y = ops.group_convolution(x, ops.constant(dw), [2, 2], [1, 1], [1, 1], [1, 1])
    y = ops.clamp(y, 0.0, 6.0)
    y = ops.convolution(y, ops.constant(pw), [1, 1], [0, 0], [0, 0], [1, 1])
    y = ops.add(y, ops.constant(np.zeros((1, 6, 1, 1), np.float32)))
    return ov.Model([ops.result(y)], [x])


def test_counts_macs_and_params_like_the_paper() -> None:
    counted = stats.count(_tiny_separable())
    # depthwise: 4x4x4 outputs x 9; pointwise: 6x4x4 outputs x 4 inputs
    assert counted.macs == 4 * 4 * 4 * 9 + 6 * 4 * 4 * 4
    assert counted.params == 4 * 9 + 6 * 4 + 6
    dense = stats.count(graph.to_fullconv(_tiny_separable()))
    assert dense.macs == 4 * 4 * 4 * 9 * 4 + 6 * 4 * 4 * 4


def _run(model: ov.Model, x: np.ndarray) -> np.ndarray:
    return ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(x)[0]


def test_fullconv_twin_computes_the_same_function() -> None:
    x = np.random.default_rng(2).normal(size=(1, 4, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(_run(_tiny_separable(), x),
                               _run(graph.to_fullconv(_tiny_separable()), x), atol=1e-4)


def test_symmetric_int8_weights_round_trip() -> None:
    w = np.random.default_rng(3).normal(size=(6, 4, 3, 3)).astype(np.float32)
    q, scale = graph._symmetric_int8(w, channel_axes=1)
    assert q.dtype == np.int8 and scale.shape == (6, 1, 1, 1)
    assert np.abs(q).max() == 127
    np.testing.assert_allclose(q * scale, w, atol=float(scale.max()) / 2 + 1e-7)


def test_stripping_fake_quantize_keeps_affine_maps() -> None:
    x = ops.parameter([1, 3], ov.Type.f32)
    fq = ops.fake_quantize(x, ops.constant(np.float32(0)), ops.constant(np.float32(255)),
                           ops.constant(np.float32(-1)), ops.constant(np.float32(1)), 256)
    model = graph.strip_fake_quantize(ov.Model([ops.result(fq)], [x]))
    kinds = {op.get_type_name() for op in model.get_ordered_ops()}
    assert "FakeQuantize" not in kinds
    out = _run(model, np.array([[0.0, 127.5, 300.0]], np.float32))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]], atol=1e-6)


def test_fold_evaluates_dequantized_weights() -> None:
    q = ops.constant(np.array([[0, 128, 255]], np.uint8))
    deq = ops.multiply(ops.subtract(ops.convert(q, ov.Type.f32),
                                    ops.constant(np.float32(128))),
                       ops.constant(np.float32(0.5)))
    np.testing.assert_allclose(graph.fold(deq.output(0)), [[-64.0, 0.0, 63.5]])


def test_moving_window_rate_and_percentile() -> None:
    w = MovingWindow(seconds=1.0, refresh_s=0.0)
    for i in range(11):
        w.add(i * 0.1, float(i))
    assert w.rate() == pytest.approx(10.0)
    assert w.percentile(50) == pytest.approx(5.0)
    w.add(5.0, 100.0)  # everything older than a second drops out
    assert len(w) == 1 and w.rate() == 0.0
    assert percentiles([]) == {"p50": 0.0, "p90": 0.0, "p99": 0.0}
