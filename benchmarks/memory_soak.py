"""Resident memory over 10,000 frames of the looped demo video, after warm-up.

Target: growth < 5% between frame WARMUP and the last frame.

    python benchmarks/memory_soak.py [--frames 10000] [--warmup 500]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import psutil
from _common import setup_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--model", default="mobilenet-v1-1.0-224")
    args = parser.parse_args()
    shared = setup_env()
    from mnviewer.engine import Engine
    from mnviewer.headless import JsonlWriter, frame_record
    from mnviewer.pipeline import Pipeline
    from mnviewer.sources import open_source

    proc = psutil.Process()
    engine = Engine(args.model, "int8", "CPU")
    writer = JsonlWriter(os.path.join(tempfile.mkdtemp(), "soak.jsonl"))
    source = open_source(str(shared / "media" / "bottle-detection.mp4"), loop=True)
    base = peak = 0
    with source:
        for result in Pipeline(source, engine, max_frames=args.frames):
            writer.write(frame_record(result))
            if result.index == args.warmup:
                base = proc.memory_info().rss
            elif result.index > args.warmup and result.index % 500 == 0:
                peak = max(peak, proc.memory_info().rss)
    writer.close()
    end = proc.memory_info().rss
    growth = (max(peak, end) - base) / base
    print(f"RSS after {args.warmup} frames {base / 2**20:.1f} MiB, at frame {args.frames} "
          f"{end / 2**20:.1f} MiB, peak {max(peak, end) / 2**20:.1f} MiB")
    print(f"growth {growth:+.2%}  target < 5%  {'ok' if growth < 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()
