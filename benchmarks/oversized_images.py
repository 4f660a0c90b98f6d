"""`mnviewer run` on a 48 MP JPEG and a 400 MP PNG: wall time and peak resident memory.

Targets (warm cache): the 48 MP JPEG classified in < 1.0 s and < 600 MB; the 400 MP PNG
refused (exit 3) in < 5 s and < 1 GB. The same JPEG also goes through the previous path
(whole-size decoding, the whole frame converted to float inside the model) in this run, for
the before/after ratio; `--old-png` does the same for the PNG (about 80 s and 9 GB). Last,
the per-frame cost of a large video or camera frame, reduced on the CPU before the model
against converted whole inside it.

    python benchmarks/oversized_images.py [--repeat 3] [--old-png]
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import cv2
from _common import setup_env

MODEL = "mobilenet-v1-1.0-224"
# The path before reduced decoding: decode every image whole, never reduce a frame in Python.
OLD_PATH = """
import sys, cv2
import mnviewer.engine as engine, mnviewer.sources.files as files
from mnviewer.cli import main
files._decode_flags = lambda data, size, min_side: cv2.IMREAD_UNCHANGED
engine.reduce_frame = lambda image, input_size, crop: image
sys.exit(main(sys.argv[1:]))
"""


def write_png(path: Path, width: int, height: int) -> None:
    """A valid RGB PNG streamed row by row (a horizontal gradient), in little memory."""
    row = b"\x00" + bytes((x * 255 // width) % 256 for x in range(width) for _ in range(3))
    packer = zlib.compressobj(1)
    with path.open("wb") as fh:
        def chunk(kind: bytes, data: bytes) -> None:
            fh.write(struct.pack(">I", len(data)) + kind + data
                     + struct.pack(">I", zlib.crc32(kind + data)))

        fh.write(b"\x89PNG\r\n\x1a\n")
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        for _ in range(height):
            data = packer.compress(row)
            if data:
                chunk(b"IDAT", data)
        chunk(b"IDAT", packer.flush())
        chunk(b"IEND", b"")


def measure(argv: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS in MB, exit code and CPU seconds of one subprocess."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    proc.stderr.close()
    return wall, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def best_of(argv: list[str], repeat: int) -> tuple[float, float, int, float]:
    runs = [measure(argv) for _ in range(repeat)]
    return (min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2],
            min(r[3] for r in runs))


def per_frame_ms(repeat: int) -> list[str]:
    """Engine.infer on large frames: reduced on the CPU first (what mnviewer does) against the
    whole frame converted to float inside the compiled model (what it did before)."""
    import numpy as np

    import mnviewer.engine as engine_module
    from mnviewer.engine import Engine

    engine = Engine(MODEL, "int8", "CPU")
    reduce = engine_module.reduce_frame
    lines = []
    for height, width in ((1080, 1920), (2160, 3840), (6000, 8000)):
        image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        times = {}
        for name, fn in (("reduced first", reduce), ("whole frame", lambda i, s, c: i)):
            engine_module.reduce_frame = fn
            engine.infer(image)
            start = time.perf_counter()
            for _ in range(repeat):
                engine.infer(image)
            times[name] = (time.perf_counter() - start) / repeat * 1e3
        engine_module.reduce_frame = reduce
        lines.append(f"{width}x{height} frame: reduced first {times['reduced first']:.1f} ms, "
                     f"whole frame into the model {times['whole frame']:.1f} ms "
                     f"({times['whole frame'] / times['reduced first']:.1f}x)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old-png", action="store_true",
                        help="also decode the 400 MP PNG the previous way (slow, 9 GB)")
    args = parser.parse_args()
    shared = setup_env()
    run = [sys.executable, "-m", "mnviewer", "run", "--model", MODEL, "--quiet", "--source"]
    old = [sys.executable, "-c", OLD_PATH, "run", "--model", MODEL, "--quiet", "--source"]
    with tempfile.TemporaryDirectory() as tmp:
        jpeg, png = Path(tmp) / "photo-48mp.jpg", Path(tmp) / "panorama-400mp.png"
        photo = cv2.imread(str(shared / "media" / "parrot.jpg"))
        cv2.imwrite(str(jpeg), cv2.resize(photo, (8000, 6000), interpolation=cv2.INTER_CUBIC),
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
        write_png(png, 20000, 20000)
        small = str(shared / "media" / "cat.bmp")
        measure([*run, small])  # warm: model built, compiled-model cache filled
        base = best_of([*run, small], args.repeat)
        new_jpeg = best_of([*run, str(jpeg)], args.repeat)
        old_jpeg = best_of([*old, str(jpeg)], args.repeat)
        new_png = best_of([*run, str(png)], args.repeat)
        old_png = measure([*old, str(png)]) if args.old_png else None

    # CPU seconds beside wall time: on a shared machine they say more than the wall clock.
    print(f"small image (process start, model load): {base[0]:.2f} s  {base[1]:.0f} MB  "
          f"cpu {base[3]:.2f} s")
    ok = new_jpeg[0] < 1.0 and new_jpeg[1] < 600 and new_jpeg[2] == 0
    print(f"48 MP JPEG: {new_jpeg[0]:.2f} s  {new_jpeg[1]:.0f} MB  cpu {new_jpeg[3]:.2f} s  "
          f"(exit {new_jpeg[2]})  target < 1.0 s, < 600 MB  {'ok' if ok else 'MISSED'}")
    print(f"  previous path: {old_jpeg[0]:.2f} s  {old_jpeg[1]:.0f} MB  cpu {old_jpeg[3]:.2f} s: "
          f"{old_jpeg[0] / new_jpeg[0]:.1f}x the time, {old_jpeg[1] / new_jpeg[1]:.1f}x the "
          f"memory, {old_jpeg[3] / new_jpeg[3]:.1f}x the CPU")
    ok = new_png[0] < 5.0 and new_png[1] < 1024 and new_png[2] == 3
    print(f"400 MP PNG refused: {new_png[0]:.2f} s  {new_png[1]:.0f} MB  cpu {new_png[3]:.2f} s  "
          f"(exit {new_png[2]})  "
          f"target < 5 s, < 1 GB, exit 3  {'ok' if ok else 'MISSED'}")
    if old_png is not None:
        print(f"  previous path: {old_png[0]:.2f} s  {old_png[1]:.0f} MB (exit {old_png[2]})")
    for line in per_frame_ms(5 * args.repeat):
        print(line)


if __name__ == "__main__":
    main()
