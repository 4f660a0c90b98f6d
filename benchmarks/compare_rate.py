"""Compare mode keeps a 30 FPS source's rate, and profiling costs nothing when it is off.

1. Pairs of variants run on bottle-detection.mp4 paced at its native 29.83 FPS (as a camera
   delivers it), through the same paired loop `mnviewer compare` uses. For each pair: the two
   median latencies, their sum, and the rate of finished pairs against the source's rate.
   Target: ratio >= 0.98 for every pair whose latencies sum to under 25 ms.
2. One request's wall time with and without OpenVINO's performance counters (PERF_COUNT),
   compiled the same way: what the counters would cost if they were always on. Classifying
   engines never turn them on (tests/integration/test_profile.py checks it).

    python benchmarks/compare_rate.py [--frames 300]
"""

from __future__ import annotations

import argparse
import time

from _common import setup_env

PAIRS = [
    ("mobilenet-v1-1.0-224:int8", "mobilenet-v1-1.0-224:fp32"),
    ("mobilenet-v1-1.0-224:int8", "mobilenet-v2-1.0-224:int8"),
    ("mobilenet-v1-0.25-128:int8", "mobilenet-v1-0.25-128:fp32"),
    ("mobilenet-v1-1.0-224:int8", "mobilenet-v1-1.0-224-fullconv:int8"),
]


def pair_rate(video: str, a_text: str, b_text: str, frames: int) -> tuple[float, float, float,
                                                                          float]:
    """(source FPS, finished pairs per second, p50 of A, p50 of B) on the paced video."""
    from mnviewer.comparison import ComparisonStats, PairPipeline, Side, parse_variant
    from mnviewer.engine import Engine
    from mnviewer.sources import open_source

    a_spec, b_spec = parse_variant(a_text), parse_variant(b_text)
    with open_source(video, realtime=True) as source:
        hw = (source.info.height, source.info.width)
        a = Engine(a_spec.model_id, a_spec.precision, a_spec.device, hint="LATENCY",
                   source_hw=hw)
        b = Engine(b_spec.model_id, b_spec.precision, b_spec.device, hint="LATENCY",
                   source_hw=hw)
        stats = ComparisonStats(Side.of_engine(a, a_spec), Side.of_engine(b, b_spec))
        done: list[float] = []
        for pair in PairPipeline(source, a, b, max_frames=frames, overlap_read=False):
            stats.add(pair.a.top[0].index, pair.a.infer_ms, pair.b.top[0].index,
                      pair.b.infer_ms)
            done.append(time.perf_counter())
        fps = source.info.fps or 0.0
    # Rate over the steady part: the first pair waits for nothing, later ones for the source.
    rate = (len(done) - 11) / (done[-1] - done[10]) if len(done) > 20 else 0.0
    return fps, rate, stats.latency_ms("a")["p50"], stats.latency_ms("b")["p50"]


def counter_cost(model_id: str, seconds: float) -> tuple[float, float]:
    """p50 wall time (ms) of one request without and with performance counters."""
    import numpy as np
    import openvino as ov

    from mnviewer.bench import time_calls
    from mnviewer.engine import core, read_prepared
    from mnviewer.models import builder as build

    built = build.ensure_built(model_id, "int8")
    size = int(built.meta["input_size"][0])
    data = np.zeros((1, size, size, 3), np.uint8)
    out = []
    for counters in (False, True):
        compiled = core().compile_model(read_prepared(built, None, raw=True), "CPU",
                                        {"PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": counters})
        request = compiled.create_infer_request()
        request.set_input_tensor(ov.Tensor(data, shared_memory=True))
        out.append(float(np.percentile(time_calls(request.infer, seconds), 50)))
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    shared = setup_env()
    video = str(shared / "media" / "bottle-detection.mp4")
    print(f"{'A':34} {'B':38} {'A ms':>6} {'B ms':>6} {'sum':>6} {'src FPS':>8} "
          f"{'pairs/s':>8} {'ratio':>6}")
    for a, b in PAIRS:
        fps, rate, a_ms, b_ms = pair_rate(video, a, b, args.frames)
        total = a_ms + b_ms
        verdict = "" if total >= 25 else ("  ok" if rate / fps >= 0.98 else "  BELOW TARGET")
        print(f"{a:34} {b:38} {a_ms:6.2f} {b_ms:6.2f} {total:6.2f} {fps:8.2f} {rate:8.2f} "
              f"{rate / fps:6.3f}{verdict}")
    for model_id in ("mobilenet-v1-0.25-128", "mobilenet-v1-1.0-224"):
        off, on = counter_cost(model_id, 1.0)
        print(f"\n{model_id} int8, one request p50: {off:.3f} ms with counters off, "
              f"{on:.3f} ms with them on ({on / off:.2f}x)")


if __name__ == "__main__":
    main()
