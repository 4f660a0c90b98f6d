"""Files per second of `mnviewer batch` on Ray with 1 and 2 workers against the single-process
batch, on the same files, in one run. Each figure is a whole command, start-up included (Python,
the local Ray cluster, each worker compiling the model).

Target on a 2-core machine: Ray within 20% of the single-process run (ratio >= 0.80). Ray's own
start and stop cost about 4 s here (ray.init 2.6 s, shutdown 1.5 s) plus a model compile per
worker, so the ratio depends on how much work there is: the default is 16 files (12,528
frames, about 26 s in one process); `--copies 4` gives 8 files (about 13 s), where that fixed
cost is a third of the run.

    python benchmarks/batch_scaling.py [--model ID] [--copies N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import setup_env


def timed_batch(sources: Path, out: Path, model: str, extra: list[str]) -> tuple[float, dict]:
    """Wall time of one `mnviewer batch` command, and its summary."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mnviewer", "batch", str(sources),
                           "--out-dir", str(out), "--model", model, "--quiet", *extra],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"batch {' '.join(extra)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return wall, json.loads((out / "summary.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet-v1-1.0-224")
    parser.add_argument("--copies", type=int, default=8,
                        help="links to each shared video (2 videos: 2N files)")
    parser.add_argument("--rounds", type=int, default=3, help="best of R runs per setting")
    args = parser.parse_args()
    shared = setup_env()
    from mnviewer.models.builder import ensure_built

    ensure_built(args.model, "int8")  # the build is not what is measured
    work = Path(tempfile.mkdtemp(prefix="mnviewer-batch-bench-"))
    sources = work / "sources"
    sources.mkdir()
    for name in ("bottle-detection.mp4", "car-detection.mp4"):
        for i in range(args.copies):
            os.symlink(shared / "media" / name, sources / f"{i}-{name}")
    settings = {
        "single process": [],
        "Ray, 1 worker x 2 threads": ["--ray", "local", "--workers", "1",
                                      "--threads-per-worker", "2"],
        "Ray, 2 workers x 1 thread": ["--ray", "local", "--workers", "2"],
    }
    rates: dict[str, float] = {}
    files = frames = 0
    labels = list(settings)
    for round_ in range(args.rounds):
        # Each round starts with another setting: load from other jobs favours none of them.
        for label in labels[round_ % 3:] + labels[:round_ % 3]:
            out = work / f"out-{round_}-{labels.index(label)}"
            wall, summary = timed_batch(sources, out, args.model, settings[label])
            files, frames = summary["files"], summary["frames"]
            rates[label] = max(rates.get(label, 0.0), files / wall)
    print(f"model {args.model} int8, {files} files, {frames} frames, {os.cpu_count()} cores, "
          f"best of {args.rounds}, start-up included")
    base = rates["single process"]
    for label, rate in rates.items():
        print(f"{label:28s} {rate:6.3f} files/s  {rate * frames / files:7.1f} FPS  "
              f"ratio {rate / base:.2f}")
    worst = min(rate / base for label, rate in rates.items() if label.startswith("Ray"))
    print(f"Ray / single process: worst ratio {worst:.2f}  target >= 0.80  "
          f"{'ok' if worst >= 0.80 else 'MISSED'}")


if __name__ == "__main__":
    main()
