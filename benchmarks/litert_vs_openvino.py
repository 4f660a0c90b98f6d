"""int8 latency of each MobileNet: mnviewer (OpenVINO) against LiteRT on the same .tflite files.

Both take uint8 input at the model's resolution and run one request at a time with the same
number of threads. Each runtime runs in a process of its own, as it would for a user (in one
process, the worker threads of one runtime still spin while the other one runs), and the two
are measured in alternating rounds so that load from elsewhere on the machine hits both
alike. Prints each p50 and the ratio OpenVINO / LiteRT (target: <= 0.5). For V1 1.0-224
LiteRT runs its two files (embedding extractor, head) in turn. `inat-insects` is a third-party
classifier imported with `mnviewer models add` (the imported case: it must run as fast as the
catalog model of its architecture).

    python benchmarks/litert_vs_openvino.py [--seconds 1] [--rounds 5] [--threads 2]
        [--models ID ...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
from multiprocessing.connection import Connection

import numpy as np
from _common import setup_env

# The MobileNets shipped as .tflite files (V1 1.0-224 as two: extractor and head).
MODELS = ("mobilenet-v1-0.25-128", "mobilenet-v1-0.5-160", "mobilenet-v1-0.75-192",
          "mobilenet-v1-1.0-224", "mobilenet-v2-1.0-224", "mobilenet-v2-1.0-224-ptq",
          "inat-insects")
IMPORTED = {"inat-insects": "mobilenet_v2_1.0_224_inat_insect_quant.tflite"}
WARMUP_S = 0.2


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
    from mnviewer.bench import latency_request
    from mnviewer.engine import Engine

    engine = Engine(model_id, "int8", "CPU", hint="LATENCY", raw_input=True, threads=threads)
    return latency_request(engine).infer


def worker(conn: Connection, runtime: str, model_id: str, threads: int) -> None:
    """Builds one runner, then answers each requested duration with the p50 of that round."""
    setup_env()
    from mnviewer.bench import time_calls
    from mnviewer.models.catalog import load_catalog
    from mnviewer.models.fetch import fetch_source

    if runtime == "litert":
        catalog = load_catalog()
        files = [fetch_source(catalog.sources[name])
                 for name in catalog.get(model_id).model_sources]
        run = litert_runner(files, threads)
    else:
        run = openvino_runner(model_id, threads)
    conn.send("ready")
    while (seconds := conn.recv()) is not None:
        conn.send(statistics.median(time_calls(run, seconds, warmup_s=WARMUP_S)))


class Runner:
    """One runtime with one model, in a process of its own."""

    def __init__(self, runtime: str, model_id: str, threads: int):
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker, args=(child, runtime, model_id, threads))
        self.process.start()
        if self.conn.recv() != "ready":
            raise RuntimeError(f"{runtime} could not load {model_id}")

    def round(self, seconds: float) -> float:
        self.conn.send(seconds)
        return float(self.conn.recv())

    def close(self) -> None:
        self.conn.send(None)
        self.process.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args()
    shared = setup_env()
    from mnviewer.models.builder import build_models
    from mnviewer.models.catalog import load_catalog
    from mnviewer.models.importer import ImportOptions
    from mnviewer.models.user import import_model

    for model_id, name in IMPORTED.items():
        if model_id in args.models:
            import_model(shared / "models" / name, ImportOptions(model_id=model_id, force=True))
    catalog = load_catalog()
    build_models([catalog.get(m) for m in args.models], ["int8"], catalog=catalog)
    print(f"{'model':26} {'LiteRT ms':>10} {'mnviewer ms':>12} {'ratio':>7}  target <= 0.5")
    worst = 0.0
    for model_id in args.models:
        lite = Runner("litert", model_id, args.threads)
        ours = Runner("openvino", model_id, args.threads)
        a, b = [], []
        for _ in range(args.rounds):
            a.append(lite.round(args.seconds / args.rounds))
            b.append(ours.round(args.seconds / args.rounds))
        lite.close()
        ours.close()
        lite_ms, ours_ms = statistics.median(a), statistics.median(b)
        ratio = ours_ms / lite_ms
        worst = max(worst, ratio)
        print(f"{model_id:26} {lite_ms:10.3f} {ours_ms:12.3f} {ratio:7.2f}  "
              f"{'ok' if ratio <= 0.5 else 'MISSED'}")
    print(f"worst ratio {worst:.2f}")


if __name__ == "__main__":
    main()
