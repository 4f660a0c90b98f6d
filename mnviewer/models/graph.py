"""Graph surgery on imported TFLite MobileNets: join, clean I/O, fold, int8, fp32, full-conv twin.

The TF1 uint8 files import as FakeQuantize graphs whose weights are asymmetric uint8 with zero
points. OpenVINO's CPU plugin runs int8 convolutions only for signed, symmetric weights, so the
weights are folded to float here and re-expressed as symmetric per-output-channel int8, while
the activation FakeQuantize ranges stay as trained.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import openvino as ov
import openvino.opset9 as opset9
import openvino.opset13 as ops

from mnviewer.errors import ModelError

CONV_TYPES = ("Convolution", "GroupConvolution")
INPUT_NAME = "image"
OUTPUT_NAME = "probs"


def _dtype(value: ov.Output) -> np.dtype:
    return np.dtype(value.get_element_type().to_dtype())


def _reshape(data: np.ndarray, target: np.ndarray, special_zero: bool) -> np.ndarray:
    shape = [int(d) for d in target.ravel()]
    if special_zero:
        shape = [data.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return data.reshape(shape)


def _unsqueeze(data: np.ndarray, axes: np.ndarray) -> np.ndarray:
    rank = data.ndim + axes.size
    for axis in sorted(int(a) % rank for a in axes.ravel()):
        data = np.expand_dims(data, axis)
    return data


def _fake_quantize(x: np.ndarray, il: np.ndarray, ih: np.ndarray, ol: np.ndarray,
                   oh: np.ndarray, *, levels: int) -> np.ndarray:
    q = np.round((np.clip(x, il, ih) - il) / (ih - il) * (levels - 1))
    return (q / (levels - 1) * (oh - ol) + ol).astype(np.float32)


_FOLDERS: dict[str, Callable[..., np.ndarray]] = {
    "Subtract": lambda a, b: a - b,
    "Multiply": lambda a, b: a * b,
    "Add": lambda a, b: a + b,
    "Divide": lambda a, b: a / b,
    "Transpose": lambda a, p: np.transpose(a, [int(i) for i in p.ravel()]),
    "Unsqueeze": _unsqueeze,
    "Eye": lambda rows, cols, diagonal, *_: np.eye(int(rows), int(cols), int(diagonal)),
    "Squeeze": lambda a, axes=None: np.squeeze(a, tuple(int(i) for i in axes.ravel()))
    if axes is not None else np.squeeze(a),
}


def fold(value: ov.Output) -> np.ndarray:
    """Evaluate a constant subgraph (weights and their dequantization) with numpy."""
    node = value.get_node()
    kind = node.get_type_name()
    if kind == "Constant":
        return np.array(node.get_data())
    args = [fold(node.input_value(i)) for i in range(node.get_input_size())]
    if kind == "Convert":
        return args[0].astype(_dtype(value))
    if kind == "Reshape":
        return _reshape(args[0], args[1], bool(node.get_attributes().get("special_zero")))
    if kind == "FakeQuantize":
        x, il, ih, ol, oh = args
        return _fake_quantize(x, il, ih, ol, oh, levels=int(node.get_attributes()["levels"]))
    folder = _FOLDERS.get(kind)
    if folder is None:
        raise ModelError(f"cannot fold constant {kind} node {node.get_friendly_name()}: "
                         "this model file is not a supported MobileNet")
    return np.asarray(folder(*args)).astype(_dtype(value), copy=False)


def _ops_of(model: ov.Model, kind: str) -> list[ov.Node]:
    return [op for op in model.get_ordered_ops() if op.get_type_name() == kind]


def join(extractor: ov.Model, head: ov.Model) -> ov.Model:
    """Join an embedding extractor to its classifier head at the pooled features.

    The two files meet through a uint8 tensor (extractor: FakeQuantize -> Convert(u8) ->
    Transpose; head: Transpose -> Convert(f32)); the float tensor is wired straight through,
    which is exactly what the single-file network computes.
    """
    node = extractor.get_results()[0].input_value(0).get_node()
    while node.get_type_name() in ("Transpose", "Reshape", "Convert"):
        node = node.input_value(0).get_node()
    features = node.output(0)  # the last float tensor, NCHW [1, C, 1, 1]
    head_param = head.get_parameters()[0]
    entry = head_param.output(0)
    while True:
        consumers = list(entry.get_target_inputs())
        nxt = consumers[0].get_node() if len(consumers) == 1 else None
        if nxt is None or nxt.get_type_name() not in ("Transpose", "Convert"):
            break
        entry = nxt.output(0)
        if nxt.get_type_name() == "Convert":
            break
    if entry.get_partial_shape() != features.get_partial_shape():
        raise ModelError("embedding extractor and classifier head do not fit together: "
                         "check the catalog's sources for this model")
    entry.replace(features)
    return ov.Model(head.get_results(), extractor.get_parameters(), "mobilenet")


def normalize_io(model: ov.Model, name: str) -> ov.Model:
    """Float NHWC RGB input in [0, 255] named 'image'; the softmax as the only output 'probs'."""
    param = model.get_parameters()[0]
    shape = param.get_partial_shape()
    node = param
    perm: list[int] | None = None
    convert = None
    for _ in range(3):
        consumers = list(node.output(0).get_target_inputs())
        if len(consumers) != 1:
            break
        node = consumers[0].get_node()
        if node.get_type_name() == "Transpose":
            perm = [int(i) for i in fold(node.input_value(1))]
        elif node.get_type_name() == "Convert":
            convert = node
            break
    if convert is None or perm != [0, 3, 1, 2]:
        raise ModelError(f"unexpected input layout in {name}: not a TFLite NHWC image model")
    image, nchw = image_input(shape)
    convert.output(0).replace(nchw)
    softmax = _ops_of(model, "Softmax")
    if len(softmax) != 1:
        raise ModelError(f"{name} has {len(softmax)} softmax outputs, expected one")
    result = ops.result(softmax[0].output(0))
    softmax[0].output(0).set_names({OUTPUT_NAME})
    return ov.Model([result], [image], name)


def fold_weights(model: ov.Model) -> ov.Model:
    """Replace every convolution's weight subgraph by one float32 constant."""
    for conv in model.get_ordered_ops():
        if conv.get_type_name() in (*CONV_TYPES, "MatMul"):
            source = conv.input_value(1)
            if source.get_node().get_type_name() == "Constant" and _dtype(source) == np.float32:
                continue
            weights = fold(source).astype(np.float32)
            conv.input(1).replace_source_output(ops.constant(weights).output(0))
    model.validate_nodes_and_infer_types()
    return model


def _eye(groups: int, dtype: ov.Type) -> ov.Output:
    """A [groups, groups, 1, 1] identity, computed by the graph rather than stored."""
    n = ops.constant(np.int64(groups))
    eye = opset9.eye(n, n, ops.constant(np.int64(0)), dtype.get_type_name())
    return ops.unsqueeze(eye, ops.constant(np.array([2, 3], dtype=np.int64))).output(0)


def _block_diagonal(weights: ov.Output) -> ov.Output:
    """Dense [C, C, kh, kw] weights equal to depthwise [C, 1, 1, kh, kw] ones on the diagonal.

    Stored compactly as eye x depthwise weights; `materialize_weights` turns that into one
    constant before compiling. Symmetric int8 weights (i8 -> Convert -> Multiply(scale)) keep
    that form, so the dense convolution still runs with int8 kernels.
    """
    node = weights.get_node()
    if node.get_type_name() == "Multiply":
        convert, scale = node.input_value(0).get_node(), node.input_value(1).get_node()
        if convert.get_type_name() == "Convert" and scale.get_type_name() == "Constant" and \
                _dtype(convert.input_value(0)) == np.int8:
            q = fold(convert.input_value(0))
            groups = q.shape[0]
            dense_q = ops.multiply(_eye(groups, ov.Type.i8),
                                   ops.constant(q.reshape(groups, 1, *q.shape[3:])))
            per_channel = scale.get_data().reshape(groups, 1, 1, 1).astype(np.float32)
            return ops.multiply(ops.convert(dense_q, ov.Type.f32),
                                ops.constant(per_channel)).output(0)
    w = fold(weights).astype(np.float32)
    groups = w.shape[0]
    return ops.multiply(_eye(groups, ov.Type.f32),
                        ops.constant(w.reshape(groups, 1, *w.shape[3:]))).output(0)


def to_fullconv(model: ov.Model) -> ov.Model:
    """Replace each depthwise convolution by a dense one with block-diagonal weights.

    Predictions stay the same; the cost becomes that of a standard convolution.
    """
    for gconv in _ops_of(model, "GroupConvolution"):
        shape = list(gconv.input(1).get_shape())
        if shape[1] != 1 or shape[2] != 1:
            raise ModelError(f"{gconv.get_friendly_name()} is a grouped, not a depthwise, "
                             "convolution: no full-convolution twin for this model")
        attrs = gconv.get_attributes()
        conv = ops.convolution(
            gconv.input_value(0), _block_diagonal(gconv.input_value(1)),
            strides=attrs["strides"], pads_begin=attrs["pads_begin"], pads_end=attrs["pads_end"],
            dilations=attrs["dilations"], auto_pad=attrs["auto_pad"],
        )
        conv.set_friendly_name(gconv.get_friendly_name() + "/fullconv")
        gconv.output(0).replace(conv.output(0))
    model.validate_nodes_and_infer_types()
    return model


def materialize_weights(model: ov.Model) -> ov.Model:
    """Fold computed weights (eye x depthwise) into plain constants before compiling.

    The plugins would otherwise compute them on every inference.
    """
    for eye in _ops_of(model, "Eye"):
        unsqueeze = next(iter(eye.output(0).get_target_inputs())).get_node()
        for target in list(unsqueeze.output(0).get_target_inputs()):
            product = target.get_node()
            dense = fold(product.output(0))
            product.output(0).replace(ops.constant(dense).output(0))
    model.validate_nodes_and_infer_types()
    return model


def _range_constants(fq: ov.Node) -> list[np.ndarray]:
    return [fold(fq.input_value(i)).astype(np.float32) for i in range(1, 5)]


def strip_fake_quantize(model: ov.Model) -> ov.Model:
    """The float reference network: each FakeQuantize becomes the affine map it implies.

    Some FakeQuantize nodes map one range onto another (the input one maps [0, 255] onto
    [-1, 1]); they are clamp-then-scale maps, not identities.
    """
    for fq in _ops_of(model, "FakeQuantize"):
        il, ih, ol, oh = _range_constants(fq)
        x = fq.input_value(0)
        if il.size == 1 and ih.size == 1:
            y = ops.clamp(x, float(il.ravel()[0]), float(ih.ravel()[0])).output(0)
        else:
            y = ops.minimum(ops.maximum(x, ops.constant(il)), ops.constant(ih)).output(0)
        if not (np.allclose(il, ol) and np.allclose(ih, oh)):
            scale = (oh - ol) / (ih - il)
            shifted = ops.multiply(y, ops.constant(scale))
            y = ops.add(shifted, ops.constant(ol - il * scale)).output(0)
        fq.output(0).replace(y)
    model.validate_nodes_and_infer_types()
    return model


def _symmetric_int8(weights: np.ndarray, channel_axes: int) -> tuple[np.ndarray, np.ndarray]:
    reduce_axes = tuple(range(channel_axes, weights.ndim))
    peak = np.max(np.abs(weights), axis=reduce_axes, keepdims=True)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.round(weights / scale), -127, 127).astype(np.int8)
    return q, scale


def quantize_weights(model: ov.Model) -> ov.Model:
    """Symmetric per-output-channel int8 weights: i8 Constant -> Convert -> Multiply(scale)."""
    for conv in model.get_ordered_ops():
        kind = conv.get_type_name()
        if kind not in CONV_TYPES:
            continue
        weights = fold(conv.input_value(1)).astype(np.float32)
        q, scale = _symmetric_int8(weights, channel_axes=2 if kind == "GroupConvolution" else 1)
        dequantized = ops.multiply(ops.convert(ops.constant(q), ov.Type.f32), ops.constant(scale))
        conv.input(1).replace_source_output(dequantized.output(0))
    model.validate_nodes_and_infer_types()
    return model


def image_input(shape: list[int]) -> tuple[ov.Node, ov.Output]:
    """The models' input: a float NHWC image named INPUT_NAME, and its NCHW view."""
    image = ops.parameter(shape, ov.Type.f32, name=INPUT_NAME)
    image.output(0).set_names({INPUT_NAME})
    nchw = ops.transpose(image, ops.constant(np.array([0, 3, 1, 2], dtype=np.int64)))
    return image, nchw.output(0)


def fake_quantize(x: ov.Output | ov.Node, low: float, high: float) -> ov.Node:
    """A per-tensor 256-level FakeQuantize with equal input and output ranges."""
    lo = ops.constant(np.array(low, dtype=np.float32))
    hi = ops.constant(np.array(high, dtype=np.float32))
    return ops.fake_quantize(x, lo, hi, lo, hi, 256)
