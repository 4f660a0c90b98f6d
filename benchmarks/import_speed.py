"""How long `mnviewer models add` takes: a 4 MB quantized .tflite imported and built in every
precision (target < 10 s), and a float ONNX model quantized by NNCF on 300 calibration images
(target < 60 s). Each in a fresh cache, in a process of its own (NNCF's import time counts).

    python benchmarks/import_speed.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from _common import REPO, setup_env

INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"
FLOAT_SOURCE = "mobilenet-v1-1.0-224"


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return time.perf_counter() - start


def video_frames(video: Path, folder: Path, count: int) -> Path:
    """`count` frames of a real video as JPEG files: a calibration folder."""
    capture = cv2.VideoCapture(str(video))
    step = max(1, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) // count)
    n = 0
    index = 0
    while n < count:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            cv2.imwrite(str(folder / f"frame{n:04d}.jpg"), frame)
            n += 1
        index += 1
    return folder


def main() -> None:
    import os

    shared = setup_env()
    sys.path.insert(0, str(REPO))
    from mnviewer.models.builder import ensure_built
    from tests.model_export import to_onnx

    mnviewer = [sys.executable, "-m", "mnviewer"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        fp32 = ensure_built(FLOAT_SOURCE, "fp32").xml
        onnx_file = to_onnx(fp32, work / "float.onnx")
        calibration = work / "calibration"
        calibration.mkdir()
        video_frames(shared / "media" / "bottle-detection.mp4", calibration, 300)
        env = dict(os.environ, MNVIEWER_HOME=str(work / "home"))
        tflite_s = timed([*mnviewer, "models", "add", str(shared / "models" / INSECTS)], env)
        nncf_s = timed([*mnviewer, "models", "add", str(onnx_file), "--mean", "127.5",
                        "--scale", "127.5", "--calibration", str(calibration)], env)
    print(f"import + build of {INSECTS} (3.7 MB, int8/fp16/fp32): {tflite_s:.1f} s "
          f"(target < 10 s: {'ok' if tflite_s < 10 else 'MISSED'})")
    print(f"import + NNCF int8 on 300 images of a float V1 1.0-224 ONNX: {nncf_s:.1f} s "
          f"(target < 60 s: {'ok' if nncf_s < 60 else 'MISSED'})")


if __name__ == "__main__":
    main()
