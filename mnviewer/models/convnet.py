"""The MobileNet paper's "Conv MobileNet": every depthwise-separable pair of V1 1.0-224
replaced by one standard 3x3 convolution. Weights are seeded random: an untrained speed
reference whose labels mean nothing."""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from mnviewer.models.graph import OUTPUT_NAME, fake_quantize, image_input

# (stride, output channels) of the 13 separable blocks of MobileNet V1 (paper, Table 1).
V1_BLOCKS = ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
             (1, 512), (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024))
RELU6_RANGE = (0.0, 6.0)


def _conv_relu6(x: ov.Output, rng: np.random.Generator, c_in: int, c_out: int,
                stride: int) -> ov.Output:
    # He initialisation keeps activations in ReLU6's useful range through 14 layers.
    w = rng.normal(0.0, np.sqrt(2.0 / (9 * c_in)), (c_out, c_in, 3, 3)).astype(np.float32)
    bias = rng.normal(0.0, 0.05, (1, c_out, 1, 1)).astype(np.float32)
    conv = ops.convolution(x, ops.constant(w), [stride, stride], [0, 0], [0, 0], [1, 1],
                           auto_pad="same_upper")
    act = ops.clamp(ops.add(conv, ops.constant(bias)), *RELU6_RANGE)
    return fake_quantize(act, *RELU6_RANGE).output(0)


def build_conv_mobilenet(resolution: int = 224, classes: int = 1001, seed: int = 0) -> ov.Model:
    """Conv MobileNet with activation FakeQuantize ranges, in the same form as an imported file."""
    rng = np.random.default_rng(seed)
    image, x = image_input([1, resolution, resolution, 3])
    # Input [0, 255] mapped onto [-1, 1], as in the TFLite MobileNets.
    lo, hi = ops.constant(np.float32(0.0)), ops.constant(np.float32(255.0))
    x = ops.fake_quantize(x, lo, hi, ops.constant(np.float32(-1.0)),
                          ops.constant(np.float32(1.0)), 256).output(0)
    x = _conv_relu6(x, rng, 3, 32, 2)
    c_in = 32
    for stride, c_out in V1_BLOCKS:
        x = _conv_relu6(x, rng, c_in, c_out, stride)
        c_in = c_out
    pooled = ops.reduce_mean(x, ops.constant(np.array([2, 3], dtype=np.int64)), keep_dims=True)
    fc = rng.normal(0.0, np.sqrt(1.0 / c_in), (classes, c_in, 1, 1)).astype(np.float32)
    logits = ops.convolution(fake_quantize(pooled, *RELU6_RANGE), ops.constant(fc),
                             [1, 1], [0, 0], [0, 0], [1, 1])
    flat = ops.reshape(logits, ops.constant(np.array([1, classes], dtype=np.int64)), False)
    probs = ops.softmax(fake_quantize(flat, -20.0, 20.0), 1)
    probs.output(0).set_names({OUTPUT_NAME})
    return ov.Model([ops.result(probs)], [image], "conv-mobilenet")
