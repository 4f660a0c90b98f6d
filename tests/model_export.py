"""Test models in other formats, written from a built catalog model's fp32 weights.

`to_onnx` writes the float network as an ONNX graph (NCHW input in [-1, 1], as a model
exported from a training framework takes it) with the `onnx` package; `to_ir` turns that ONNX
file into an OpenVINO IR with the Model API's `model_info` in its rt_info.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import openvino as ov
from onnx import TensorProto, helper, numpy_helper

INPUT = "input"


class _Writer:
    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.names: dict[tuple[str, int], str] = {}
        self.counter = 0

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}_{self.counter}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def name_of(self, output: ov.Output) -> str:
        node = output.get_node()
        if node.get_type_name() == "Constant":
            return self.const(np.array(node.get_data()))
        return self.names[(node.get_friendly_name(), output.get_index())]

    def add(self, op: str, inputs: list[str], node: ov.Node, **attrs: object) -> None:
        out = self.fresh(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        self.names[(node.get_friendly_name(), 0)] = out


def _pads(attrs: dict) -> dict:
    if attrs.get("auto_pad", "explicit") in ("same_upper", "same_lower"):
        return {"auto_pad": attrs["auto_pad"].upper()}
    return {"pads": list(attrs["pads_begin"]) + list(attrs["pads_end"])}


def _convert(writer: _Writer, node: ov.Node) -> None:
    kind = node.get_type_name()
    attrs = node.get_attributes()
    args = [node.input_value(i) for i in range(node.get_input_size())]
    if kind in ("Convolution", "GroupConvolution"):
        w = np.array(args[1].get_node().get_data(), dtype=np.float32)
        extra = {}
        if kind == "GroupConvolution":
            extra["group"] = w.shape[0]
            w = w.reshape(w.shape[0] * w.shape[1], *w.shape[2:])
        writer.add("Conv", [writer.name_of(args[0]), writer.const(w, "w")], node,
                   strides=list(attrs["strides"]), dilations=list(attrs["dilations"]),
                   **_pads(attrs), **extra)
    elif kind in ("Add", "Multiply", "Subtract", "Divide"):
        op = {"Add": "Add", "Multiply": "Mul", "Subtract": "Sub", "Divide": "Div"}[kind]
        writer.add(op, [writer.name_of(a) for a in args], node)
    elif kind == "Clamp":
        writer.add("Clip", [writer.name_of(args[0]),
                            writer.const(np.float32(attrs["min"])),
                            writer.const(np.float32(attrs["max"]))], node)
    elif kind == "AvgPool":
        writer.add("AveragePool", [writer.name_of(args[0])], node,
                   kernel_shape=list(attrs["kernel"]), strides=list(attrs["strides"]),
                   count_include_pad=0 if attrs["exclude-pad"] else 1, **_pads(attrs))
    elif kind == "ReduceMean":
        axes = np.array(args[1].get_node().get_data(), dtype=np.int64)
        writer.add("ReduceMean", [writer.name_of(args[0])], node,
                   axes=[int(a) for a in axes.ravel()], keepdims=int(attrs["keep_dims"]))
    elif kind == "Reshape":
        shape = np.array(node.get_output_shape(0), dtype=np.int64)
        writer.add("Reshape", [writer.name_of(args[0]), writer.const(shape, "shape")], node)
    elif kind == "Transpose":
        perm = [int(p) for p in np.array(args[1].get_node().get_data()).ravel()]
        writer.add("Transpose", [writer.name_of(args[0])], node, perm=perm)
    elif kind == "Softmax":
        writer.add("Softmax", [writer.name_of(args[0])], node, axis=int(attrs["axis"]))
    elif kind == "MatMul":
        a, b = writer.name_of(args[0]), writer.name_of(args[1])
        if attrs.get("transpose_b"):
            b_node = writer.fresh("bt")
            writer.nodes.append(helper.make_node("Transpose", [b], [b_node], perm=[1, 0]))
            b = b_node
        writer.add("MatMul", [a, b], node)
    else:
        raise NotImplementedError(f"no ONNX export for {kind}")


def _first_conv_input(model: ov.Model) -> ov.Output:
    for node in model.get_ordered_ops():
        if node.get_type_name() == "Convolution":
            return node.input_value(0)
    raise ValueError("no convolution")


def to_onnx(fp32_xml: Path, out: Path, *, metadata: dict[str, str] | None = None) -> Path:
    """The built fp32 network from its first convolution on: input NCHW float in [-1, 1]."""
    model = ov.Core().read_model(str(fp32_xml))
    start = _first_conv_input(model)
    size = start.get_partial_shape()[2].get_length()
    writer = _Writer()
    writer.names[(start.get_node().get_friendly_name(), start.get_index())] = INPUT
    started = False
    for node in model.get_ordered_ops():
        if node.get_type_name() == "Convolution" and not started:
            started = True
        if not started or node.get_type_name() in ("Constant", "Parameter", "Result"):
            continue
        _convert(writer, node)
    result = model.get_results()[0].input_value(0)
    classes = result.get_partial_shape()[1].get_length()
    graph = helper.make_graph(
        writer.nodes, "mobilenet",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info(writer.name_of(result), TensorProto.FLOAT,
                                       ["N", classes])],
        writer.inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx_model.ir_version = 8
    if metadata:
        helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, str(out))
    return out


def to_ir(onnx_file: Path, out_xml: Path, model_info: dict[str, str]) -> Path:
    """The ONNX file as an OpenVINO IR carrying the Model API's model_info."""
    model = ov.convert_model(str(onnx_file))
    for key, value in model_info.items():
        model.set_rt_info(value, ["model_info", key])
    ov.save_model(model, str(out_xml), compress_to_fp16=False)
    return out_xml
