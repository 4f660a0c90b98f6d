"""Where one int8 request spends its time, layer kind by layer kind, against the CPU's peak.

OpenVINO's per-node counters (PERF_COUNT) give each layer's time for one request with the
LATENCY hint; MACs come from the graph. The peak is the best rate OpenVINO reaches here on
a large int8 1x1 convolution (56x56, 256 -> 256 channels), so "1x1 at peak" is what the
pointwise layers would cost if every one of them ran as well as a large one does.

    python benchmarks/layer_profile.py [--models ID ...] [--threads 2] [--runs 500]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np
from _common import setup_env

KINDS = ("stem conv", "1x1 conv", "depthwise", "other")


def node_times(compiled, shape: tuple[int, ...], dtype, runs: int) -> dict[str, float]:
    """Microseconds per request for each executed node, averaged over `runs` requests."""
    import openvino as ov

    request = compiled.create_infer_request()
    data = np.random.default_rng(0).integers(0, 256, shape).astype(dtype)
    request.set_input_tensor(ov.Tensor(data, shared_memory=True))
    for _ in range(max(50, runs // 5)):
        request.infer()
    totals: dict[str, float] = defaultdict(float)
    for _ in range(runs):
        request.infer()
        for info in request.profiling_info:
            totals[info.node_name] += info.real_time.total_seconds() * 1e6 / runs
    return totals


def compile_profiled(model, threads: int):
    """One request at a time (LATENCY hint) with per-node counters."""
    from mnviewer.engine import core

    return core().compile_model(model, "CPU", {"PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": True,
                                               "INFERENCE_NUM_THREADS": threads})


def peak_gmacs(threads: int, runs: int) -> float:
    """Best MACs/s of a large int8 1x1 convolution (quantized like the models' layers)."""
    import openvino as ov
    import openvino.opset13 as ops

    from mnviewer.models.convnet import RELU6_RANGE
    from mnviewer.models.graph import fake_quantize
    from mnviewer.models.stats import layer_macs

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
    times = node_times(compile_profiled(model, threads), (1, channels, size, size), np.float32,
                       runs // 5)
    return max(macs / times[name] / 1e3 for name, macs in convs.items() if times.get(name))


def kind_of(node, first_conv: bool) -> str:
    if node.get_type_name() == "GroupConvolution":
        return "depthwise"
    if node.get_type_name() == "Convolution":
        if list(node.input(1).get_shape())[2:] == [1, 1]:
            return "1x1 conv"
        return "stem conv" if first_conv else "other"
    return "other"


def profile(model_id: str, threads: int, runs: int) -> dict[str, tuple[float, int]]:
    """Per layer kind: (microseconds per request, MACs)."""
    from mnviewer.engine import read_prepared
    from mnviewer.models import builder as build
    from mnviewer.models.stats import layer_macs

    built = build.ensure_built(model_id, "int8")
    size = int(built.meta["input_size"][0])
    model = read_prepared(built, None, raw=True)
    kinds: dict[str, str] = {}
    macs: dict[str, int] = defaultdict(int)
    seen_conv = False
    for node in model.get_ordered_ops():
        kind = kind_of(node, not seen_conv)
        seen_conv |= node.get_type_name() == "Convolution"
        kinds[node.get_friendly_name()] = kind
        macs[kind] += layer_macs(node)
    compiled = compile_profiled(model, threads)
    out: dict[str, list[float]] = {kind: [0.0, macs[kind]] for kind in KINDS}
    for name, us in node_times(compiled, (1, size, size, 3), np.uint8, runs).items():
        out[kinds.get(name, "other")][0] += us
    return {kind: (us, int(m)) for kind, (us, m) in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+",
                        default=["mobilenet-v1-0.25-128", "mobilenet-v2-1.0-224-ptq"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    setup_env()
    peak = peak_gmacs(args.threads, args.runs)
    print(f"peak int8 rate (56x56x256 1x1 convolution, {args.threads} threads): "
          f"{peak:.0f} GMAC/s")
    for model_id in args.models:
        kinds = profile(model_id, args.threads, args.runs)
        total = sum(us for us, _ in kinds.values())
        print(f"\n{model_id}: {total:.0f} us in layers per request")
        print(f"  {'kind':10} {'us':>8} {'MMAC':>8} {'GMAC/s':>8}")
        for kind, (us, macs) in kinds.items():
            rate = f"{macs / us / 1e3:8.0f}" if macs and us else f"{'':8}"
            print(f"  {kind:10} {us:8.1f} {macs / 1e6:8.2f} {rate}")
        pointwise_us, pointwise_macs = kinds["1x1 conv"]
        floor = total - pointwise_us + pointwise_macs / peak / 1e3
        print(f"  with every 1x1 conv at peak: {floor:.0f} us")


if __name__ == "__main__":
    main()
