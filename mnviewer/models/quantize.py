"""Post-training int8 for float models with NNCF, calibrated on the user's own images.

NNCF (and the scipy and scikit-learn it pulls in) is the optional extra `mnviewer[quantize]`:
it is imported here only, when a float model is imported with calibration images.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import openvino as ov

from mnviewer.atomic import reason, sha256_of
from mnviewer.errors import ImportFailed, ModelError, OutputError, UsageError
from mnviewer.models.importer import Preprocessing

MAX_IMAGES = 300
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
INSTALL_HINT = "pip install 'mnviewer[quantize]'"


def _nncf():  # type: ignore[no-untyped-def]
    try:
        import nncf
    except ImportError as exc:
        if getattr(sys, "frozen", False):
            raise UsageError("the packaged app does not quantize float models: import an int8 "
                             "file instead (a quantized .tflite, a QDQ .onnx or an NNCF int8 "
                             f"IR), made e.g. with {INSTALL_HINT} and 'mnviewer models add "
                             "--calibration'") from exc
        raise UsageError("int8 for a float model needs NNCF, which is not installed: "
                         f"run {INSTALL_HINT}, or choose fp16 or fp32") from exc
    return nncf


def fit(image: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """A BGR frame as the base graph's input, fitted as the engine fits frames: central crop,
    area reduction of a much larger frame, resize, RGB, float [1, S, S, 3]."""
    from mnviewer.engine import reduce_frame

    image = reduce_frame(image, prep.input_size, prep.crop)
    h, w = image.shape[:2]
    if prep.crop is not None:
        side = int(min(h, w) * prep.crop)
        top, left = (h - side) // 2, (w - side) // 2
        image = image[top:top + side, left:left + side]
    size = prep.input_size
    resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32)[None]


def image_files(folder: Path) -> list[Path]:
    """Images in a folder and its subfolders (hidden ones left out), in name order."""
    from mnviewer.sources import IMAGE_EXTENSIONS

    return sorted(p for p in folder.rglob("*")
                  if p.suffix.lower() in IMAGE_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def calibration_images(folder: Path | None, frames: list | None,
                       prep: Preprocessing) -> list[np.ndarray]:
    """Up to MAX_IMAGES BGR images from a folder (or frames of a source), each reduced
    right away to about twice the model input, so 300 large photos fit in memory."""
    from mnviewer.engine import reduce_frame

    if frames:
        return [reduce_frame(f, prep.input_size, prep.crop) for f in frames[:MAX_IMAGES]]
    assert folder is not None
    if not folder.is_dir():
        raise ImportFailed(f"calibration folder {folder} does not exist: give a folder of "
                           "images (300 are enough)")
    images: list[np.ndarray] = []
    for path in image_files(folder):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            images.append(reduce_frame(image, prep.input_size, prep.crop))
        if len(images) >= MAX_IMAGES:
            break
    if not images:
        raise ImportFailed(f"calibration folder {folder} holds no readable images: give a "
                           "folder of .jpg or .png images (300 are enough)")
    return images


def quantize(base: ov.Model, images: list[np.ndarray], prep: Preprocessing, *,
             show_progress: bool = False) -> tuple[ov.Model, float]:
    """The base graph with int8 weights and activations, and its top-1 agreement with fp32
    on the calibration images (BGR, any size)."""
    nncf = _nncf()
    inputs = [fit(image, prep) for image in images]
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters,
        QuantizationParameters,
    )

    # Per-tensor activations: a depthwise layer would otherwise get per-channel input ranges,
    # which its full-convolution twin's dense layer cannot run in int8.
    advanced = AdvancedQuantizationParameters(
        activations_quantization_params=QuantizationParameters(per_channel=False))
    nncf.set_log_level(logging.ERROR)
    # NNCF draws its progress bars on stdout, which carries results: they go to stderr when
    # someone watches, else nowhere.
    sink = sys.stderr if show_progress else io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            quantized = nncf.quantize(base.clone(), nncf.Dataset(inputs),
                                      subset_size=len(inputs), advanced_parameters=advanced)
    except Exception as exc:  # NNCF raises many types; one line is enough for the user
        raise ModelError(f"NNCF could not quantize this model ({reason(exc)}): use fp16 or "
                         "fp32") from exc
    return quantized, agreement(base, quantized, images, prep)


def agreement(reference: ov.Model, other: ov.Model, images: list[np.ndarray],
              prep: Preprocessing) -> float:
    """Share of images on which both models give the same top-1 class, each compiled with
    the preprocessing every Engine uses."""
    from mnviewer.engine import prepare_model

    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": "f32"}
    compiled = [core.compile_model(prepare_model(m.clone(), prep.input_size, False, None,
                                                 crop=prep.crop), "CPU", config)
                for m in (reference, other)]
    same = 0
    for image in images:
        a, b = (int(c(image[None])[1][0, 0]) for c in compiled)
        same += a == b
    return round(same / len(images), 4)


def save(model: ov.Model, xml: Path) -> dict:
    """Write the int8 graph beside the imported file; returns its files' sha256 and sizes."""
    try:
        ov.save_model(model, str(xml), compress_to_fp16=False)
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"cannot write {xml} ({reason(exc)}): free disk space or set "
                          "MNVIEWER_HOME") from exc
    files = {}
    for path in (xml, xml.with_suffix(".bin")):
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
        files[path.name] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    return files
