"""Multiply-accumulates and parameters counted from a graph, as the MobileNet paper counts them."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import openvino as ov

COUNTED = ("Convolution", "GroupConvolution", "MatMul")


@dataclass(frozen=True)
class GraphStats:
    macs: int
    params: int
    layers: int


def _bias_size(node: ov.Node) -> int:
    """Size of a constant bias added right after a layer (folded batch norm), else 0."""
    for target in node.output(0).get_target_inputs():
        add = target.get_node()
        if add.get_type_name() != "Add":
            continue
        for i in range(2):
            other = add.input_value(i).get_node()
            if other.get_type_name() == "Convert":  # fp16-compressed constant
                other = other.input_value(0).get_node()
            if other.get_type_name() == "Constant":
                return prod(other.get_output_shape(0))
    return 0


def layer_macs(node: ov.Node) -> int:
    """MACs of one conv, depthwise or FC layer for one image (0 for any other node)."""
    kind = node.get_type_name()
    if kind not in COUNTED:
        return 0
    out = list(node.get_output_shape(0))
    w = list(node.input(1).get_shape())
    if kind == "MatMul":
        k = w[-1] if node.get_attributes().get("transpose_b") else w[-2]
        return prod(out) * k
    # Each output element sums over (input channels per group) x kernel window.
    per_output = prod(w[2:]) if kind == "GroupConvolution" else prod(w[1:])
    return prod(out) * per_output


def count(model: ov.Model) -> GraphStats:
    """MACs for one image and weight+bias parameters of every conv, depthwise and FC layer."""
    macs = params = layers = 0
    for node in model.get_ordered_ops():
        if node.get_type_name() not in COUNTED:
            continue
        macs += layer_macs(node)
        params += prod(node.input(1).get_shape()) + _bias_size(node)
        layers += 1
    return GraphStats(macs=macs, params=params, layers=layers)
