"""Headless throughput on bottle-detection.mp4 (decode + inference + JSONL) against the pure
inference throughput of the same compiled model on the same frames, in one run.

Target: headless >= 85% of pure inference.

    python benchmarks/headless_throughput.py [--model ID] [--frames N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from _common import setup_env


def pure_inference_fps(engine, frames: list, repeat: int) -> float:
    """The compiled model kept busy on already-decoded frames: no decode, no output."""
    # As many requests in flight as the headless pipeline keeps (two per stream).
    queue = engine.async_queue(lambda _r, _u: None, top_k=5, jobs=2 * engine.requests)
    start = time.perf_counter()
    n = 0
    for _ in range(repeat):
        for i, image in enumerate(frames):
            queue.submit(image, i)
            n += 1
    queue.wait()
    return n / (time.perf_counter() - start)


def headless_fps(engine, video: str, out: str) -> tuple[float, int]:
    from mnviewer.headless import HeadlessRun
    from mnviewer.sources import open_source

    with open_source(video) as source:
        run = HeadlessRun(source, engine, out=out)
        summary = run.run()
    return summary["frames"] / summary["wall_s"], summary["frames"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet-v1-1.0-224")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    shared = setup_env()
    from mnviewer.engine import Engine
    from mnviewer.sources import open_source

    video = str(shared / "media" / "bottle-detection.mp4")
    with open_source(video) as source:
        frames = [f.image for f in source]
    engine = Engine(args.model, "int8", "CPU", hint="THROUGHPUT")  # as `mnviewer run` on a file
    pure_inference_fps(engine, frames[:100], 1)  # warm-up
    out = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    pures, heads = [], []
    for _ in range(args.rounds):
        pures.append(pure_inference_fps(engine, frames, 1))
        fps, n = headless_fps(engine, video, out)
        heads.append(fps)
    pure, head = max(pures), max(heads)
    print(f"model {args.model} int8, {2 * engine.requests} requests in flight, {n} frames per pass")
    print(f"pure inference  {pure:8.1f} FPS   (best of {args.rounds})")
    print(f"headless run    {head:8.1f} FPS   (decode + inference + JSONL, best of "
          f"{args.rounds})")
    print(f"ratio {head / pure:.2f}  target >= 0.85  {'ok' if head / pure >= 0.85 else 'MISSED'}")


if __name__ == "__main__":
    main()
