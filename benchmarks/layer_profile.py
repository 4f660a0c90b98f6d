"""Where one int8 request spends its time, layer kind by layer kind, against the CPU's peak.

OpenVINO's per-node counters (PERF_COUNT) give each layer's time for one request with the
LATENCY hint; MACs come from the graph (both through mnviewer.profiling, which
`mnviewer profile` uses too). The peak is the best rate OpenVINO reaches here on
a large int8 1x1 convolution (56x56, 256 -> 256 channels), so "1x1 at peak" is what the
pointwise layers would cost if every one of them ran as well as a large one does.

    python benchmarks/layer_profile.py [--models ID ...] [--threads 2] [--runs 500]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import setup_env


def peak_gmacs(threads: int, runs: int) -> float:
    """Best MACs/s of a large int8 1x1 convolution (quantized like the models' layers)."""
    import openvino as ov
    import openvino.opset13 as ops

    from mnviewer.models.convnet import RELU6_RANGE
    from mnviewer.models.graph import fake_quantize
    from mnviewer.models.stats import layer_macs
    from mnviewer.profiling import compile_profiled, node_times

    size, channels = 56, 256
    rng = np.random.default_rng(0)

    def conv(node):
        weights = ops.constant(rng.integers(-127, 128, (channels, channels, 1, 1), dtype=np.int8))
        scale = ops.constant(np.full((channels, 1, 1, 1), 0.01, np.float32))
        w = ops.multiply(ops.convert(weights, ov.Type.f32), scale)
        quantized = fake_quantize(node, *RELU6_RANGE)
        return ops.clamp(ops.convolution(quantized, w, [1, 1], [0, 0], [0, 0], [1, 1]),
                         *RELU6_RANGE)

    image = ops.parameter([1, channels, size, size], ov.Type.f32, name="x")
    model = ov.Model([conv(conv(image))], [image])
    convs = {op.get_friendly_name(): layer_macs(op) for op in model.get_ops()
             if op.get_type_name() == "Convolution"}
    data = rng.random((1, channels, size, size), dtype=np.float32)
    times = node_times(compile_profiled(model, "CPU", threads), data,
                       warmup=max(10, runs // 25), requests=runs // 5)
    # ms per request -> MACs per ms / 1e6 = GMAC/s
    return max(macs / times[name][0] / 1e6 for name, macs in convs.items() if name in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+",
                        default=["mobilenet-v1-0.25-128", "mobilenet-v2-1.0-224-ptq"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    setup_env()
    from mnviewer.profiling import KIND_TITLES, profile_model

    peak = peak_gmacs(args.threads, args.runs)
    print(f"peak int8 rate (56x56x256 1x1 convolution, {args.threads} threads): "
          f"{peak:.0f} GMAC/s")
    for model_id in args.models:
        profile = profile_model(model_id, "int8", "CPU", warmup=max(50, args.runs // 5),
                                requests=args.runs, threads=args.threads)
        total_us = profile.total_ms * 1e3
        print(f"\n{model_id}: {total_us:.0f} us in layers per request")
        print(f"  {'kind':10} {'us':>8} {'MMAC':>8} {'GMAC/s':>8}")
        for kind, k in profile.kinds.items():
            us = k.ms * 1e3
            rate = f"{k.macs / us / 1e3:8.0f}" if k.macs and us else f"{'':8}"
            print(f"  {KIND_TITLES[kind]:10} {us:8.1f} {k.macs / 1e6:8.2f} {rate}")
        pointwise = profile.kinds["pointwise"]
        floor = total_us - pointwise.ms * 1e3 + pointwise.macs / peak / 1e3
        print(f"  with every 1x1 conv at peak: {floor:.0f} us")


if __name__ == "__main__":
    main()
