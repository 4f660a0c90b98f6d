"""int8 latency of each MobileNet: mnviewer (OpenVINO) against LiteRT on the same .tflite files.

Both take uint8 input at the model's resolution and run one request at a time with the same
number of threads. The two runtimes are measured in alternating rounds so that load from
elsewhere on the machine hits both alike. Prints each p50 and the ratio OpenVINO / LiteRT
(target: <= 0.5). For V1 1.0-224 LiteRT runs its two files (embedding extractor, head) in turn.

    python benchmarks/litert_vs_openvino.py [--seconds 1] [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _common import setup_env

MODELS = {
    "mobilenet-v1-0.25-128": ["mobilenet_v1_0.25_128_quant.tflite"],
    "mobilenet-v1-0.5-160": ["mobilenet_v1_0.5_160_quant.tflite"],
    "mobilenet-v1-0.75-192": ["mobilenet_v1_0.75_192_quant.tflite"],
    "mobilenet-v1-1.0-224": ["mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
                             "mobilenet_quant_v1_224_head_layers.tflite"],
    "mobilenet-v2-1.0-224": ["mobilenet_v2_1.0_224_quant.tflite"],
    "mobilenet-v2-1.0-224-ptq": ["tf2_mobilenet_v2_1.0_224_ptq.tflite"],
}


def timed(fn, seconds: float) -> list[float]:
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:
        fn()
    out = []
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        out.append((t1 - t0) * 1e3)
        if t1 > end:
            return out


def litert_runner(paths: list, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    interpreters = []
    for path in paths:
        it = Interpreter(str(path), num_threads=threads)
        it.allocate_tensors()
        detail = it.get_input_details()[0]
        data = np.random.default_rng(0).integers(0, 256, detail["shape"]).astype(detail["dtype"])
        interpreters.append((it, detail["index"], data))

    def run() -> None:
        for it, index, data in interpreters:
            it.set_tensor(index, data)
            it.invoke()
    return run


def openvino_runner(model_id: str, threads: int):
    import openvino as ov

    from mnviewer.engine import Engine

    engine = Engine(model_id, "int8", "CPU", hint="LATENCY", raw_input=True, threads=threads)
    request = engine.compiled.create_infer_request()
    r = engine.input_size
    data = np.random.default_rng(0).integers(0, 256, (1, r, r, 3), dtype=np.uint8)
    request.set_input_tensor(ov.Tensor(data, shared_memory=True))
    return request.infer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    shared = setup_env()
    from mnviewer.build import build_models
    from mnviewer.catalog import load_catalog

    catalog = load_catalog()
    build_models([catalog.get(m) for m in MODELS], ["int8"], catalog=catalog)
    print(f"{'model':26} {'LiteRT ms':>10} {'mnviewer ms':>12} {'ratio':>7}  target <= 0.5")
    worst = 0.0
    for model_id, files in MODELS.items():
        lite = litert_runner([shared / "models" / f for f in files], args.threads)
        ours = openvino_runner(model_id, args.threads)
        a, b = [], []
        for _ in range(args.rounds):
            a.append(statistics.median(timed(lite, args.seconds / args.rounds)))
            b.append(statistics.median(timed(ours, args.seconds / args.rounds)))
        lite_ms, ours_ms = statistics.median(a), statistics.median(b)
        ratio = ours_ms / lite_ms
        worst = max(worst, ratio)
        print(f"{model_id:26} {lite_ms:10.3f} {ours_ms:12.3f} {ratio:7.2f}  "
              f"{'ok' if ratio <= 0.5 else 'MISSED'}")
    print(f"worst ratio {worst:.2f}")


if __name__ == "__main__":
    main()
