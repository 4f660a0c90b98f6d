"""Inference engine: compile once per (model, precision, device), preprocessing and top-k inside
the compiled model, asynchronous requests whose results come back in frame order."""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import cv2
import numpy as np
import openvino as ov
import openvino.opset13 as ops
from openvino.preprocess import ColorFormat, PrePostProcessor, ResizeAlgorithm

from mnviewer import paths
from mnviewer.atomic import reason
from mnviewer.errors import DeviceError, ModelError, UsageError
from mnviewer.models import builder as build
from mnviewer.models import graph

MAX_TOP_K = 10
# TF MobileNets were evaluated on the central 87.5% of the image, resized to the input size.
CENTRAL_FRACTION = 0.875
PASS_THROUGH_DEVICES = ("AUTO", "HETERO", "MULTI", "BATCH")
_core: ov.Core | None = None
_core_lock = threading.Lock()


def core() -> ov.Core:
    """The process-wide OpenVINO Core, with the compiled-model cache in the cache folder."""
    global _core
    with _core_lock:
        if _core is None:
            _core = ov.Core()
        return _core


@dataclass(frozen=True)
class Prediction:
    index: int  # 0-based ImageNet class
    label: str
    score: float


@dataclass(frozen=True)
class Inference:
    frame_id: int
    top: tuple[Prediction, ...]
    infer_ms: float
    post_ms: float = 0.0


def available_devices() -> list[str]:
    return list(core().available_devices)


def device_name(device: str) -> str:
    try:
        return str(core().get_property(device, "FULL_DEVICE_NAME"))
    except RuntimeError:
        return device


def check_device(device: str) -> str:
    """Normalise a device string; fail with the list of present devices if it is absent."""
    device = device.strip()
    if device.upper() in ("CPU", "GPU", "NPU", "AUTO"):
        device = device.upper()
    if device.split(":")[0].upper() in PASS_THROUGH_DEVICES:
        return device
    present = available_devices()
    if device in present or (device.split(".")[0] in present and "." in device):
        return device
    if device == "GPU" and any(d.startswith("GPU") for d in present):
        return device
    raise DeviceError(f"device '{device}' is not present: choose one of "
                      f"{', '.join([*present, 'AUTO'])}")


def _centre_crop(fraction: float) -> Callable[[ov.Output], ov.Output]:
    """Central square crop (`fraction` of the short side) of an NHWC tensor of any size,
    computed inside the graph."""
    num, den = Fraction(fraction).limit_denominator(1000).as_integer_ratio()

    def crop(node: ov.Output) -> ov.Output:
        return _square_crop(node, num, den)

    return crop


def _square_crop(node: ov.Output, num: int, den: int) -> ov.Output:
    shape = ops.shape_of(node, ov.Type.i64)
    hw = ops.gather(shape, ops.constant(np.array([1, 2], dtype=np.int64)),
                    ops.constant(np.int64(0)))
    short = ops.reduce_min(hw, ops.constant(np.int64(0)), keep_dims=True)
    side = ops.divide(ops.multiply(short, ops.constant(np.int64(num))),
                      ops.constant(np.int64(den)))
    start = ops.divide(ops.subtract(hw, side), ops.constant(np.int64(2)))
    stop = ops.add(start, side)
    step = ops.constant(np.array([1, 1], dtype=np.int64))
    axes = ops.constant(np.array([1, 2], dtype=np.int64))
    return ops.slice(node, start, stop, step, axes).output(0)


# A frame is reduced on the CPU before it enters the compiled model once its (cropped) short
# side is at least this many times the model input: an integer-factor area reduction of the
# central square is far cheaper than converting the whole frame to float inside the model
# (benchmarks/oversized_images.py prints both per frame), and it averages the pixels a
# bilinear resize from far away would skip. The model's own resize then starts from about
# twice its input size.
REDUCE_FROM = 2


def source_side(input_size: int, crop: float | None) -> int:
    """The smallest short side of a frame that still covers the input after the crop."""
    return math.ceil(input_size / (crop or 1.0))


def reduce_frame(image: np.ndarray, input_size: int, crop: float | None) -> np.ndarray:
    """A frame much larger than the model input, area-reduced by an integer factor to about
    REDUCE_FROM times the input (after the crop); smaller frames come back as they are.

    With a central crop only the central square is kept (the crop inside the model picks the
    same pixels from it); without one, both axes are reduced, the aspect ratio kept.
    """
    height, width = image.shape[:2]
    target = REDUCE_FROM * input_size
    if crop is not None:
        span_h = span_w = min(height, width)
        fy = fx = int(span_h * crop) // target
    else:
        span_h, span_w = height, width
        fy, fx = height // target, width // target
    if min(fy, fx) < REDUCE_FROM:
        return image
    out_h, out_w = span_h // fy, span_w // fx
    top, left = (height - out_h * fy) // 2, (width - out_w * fx) // 2
    return cv2.resize(image[top:top + out_h * fy, left:left + out_w * fx], (out_w, out_h),
                      interpolation=cv2.INTER_AREA)


def _with_top_k(model: ov.Model, background_class: bool) -> ov.Model:
    """Outputs: the top MAX_TOP_K scores and their 0-based ImageNet indices."""
    probs = model.get_results()[0].input_value(0)
    classes = probs.get_partial_shape()[1].get_length()
    first = 1 if background_class else 0
    scores = ops.slice(probs, ops.constant(np.array([first], dtype=np.int64)),
                       ops.constant(np.array([classes], dtype=np.int64)),
                       ops.constant(np.array([1], dtype=np.int64)),
                       ops.constant(np.array([1], dtype=np.int64)))
    top = ops.topk(scores, ops.constant(np.int64(MAX_TOP_K)), 1, "max", "value", ov.Type.i32)
    top.output(0).set_names({"scores"})
    top.output(1).set_names({"indices"})
    # Rewire the existing result rather than removing it: a dangling Result breaks the
    # serialisation that the compiled-model cache does.
    model.get_results()[0].input(0).replace_source_output(top.output(0))
    model.add_results([ops.result(top.output(1))])
    model.validate_nodes_and_infer_types()
    return model


def prepare_model(model: ov.Model, input_size: int, background_class: bool,
                  frame_hw: tuple[int, int] | None, raw: bool = False,
                  crop: float | None = CENTRAL_FRACTION) -> ov.Model:
    """Attach uint8 BGR NHWC input of any (or a fixed) size: crop, resize, RGB inside.

    crop is the central square's share of the short side (None: the whole frame is resized,
    aspect ratio not kept). raw=True takes uint8 RGB at the model's own resolution, as LiteRT
    does: for measuring the network alone.
    """
    model = _with_top_k(model, background_class)
    ppp = PrePostProcessor(model)
    tensor = ppp.input().tensor()
    tensor.set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
    if raw:
        tensor.set_spatial_static_shape(input_size, input_size)
        return ppp.build()
    tensor.set_color_format(ColorFormat.BGR)
    if frame_hw is None:
        tensor.set_spatial_dynamic_shape()
    else:
        tensor.set_spatial_static_shape(*frame_hw)
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    steps = ppp.input().preprocess()
    if crop is not None:
        steps.custom(_centre_crop(crop))
    steps.convert_element_type(ov.Type.f32)
    steps.resize(ResizeAlgorithm.RESIZE_LINEAR, input_size, input_size)
    steps.convert_color(ColorFormat.RGB)
    return ppp.build()


def read_labels(path: Path, background_class: bool) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"labels file {path} is missing ({exc.strerror}): "
                         "run 'mnviewer models build' again") from exc
    return lines[1:] if background_class else lines


def has_background_class(meta: dict) -> bool:
    """Whether the model's outputs start with a "background" class (TF's 1001-class models)."""
    if "background_class" in meta:
        return bool(meta["background_class"])
    return int(meta.get("classes", 1001)) == 1001


def crop_fraction(meta: dict) -> float | None:
    """The central crop the model was trained with (None: the whole frame, resized)."""
    return meta.get("crop", CENTRAL_FRACTION)


def read_prepared(built: build.BuiltModel, frame_hw: tuple[int, int] | None,
                  raw: bool = False) -> ov.Model:
    """The built IR read back, with the input and outputs every Engine compiles."""
    try:
        # A damaged .xml would otherwise be offered to every frontend, which log noise.
        ElementTree.parse(built.xml)
        model = core().read_model(str(built.xml))
    except (RuntimeError, ElementTree.ParseError) as exc:
        raise ModelError(f"model file {built.xml} is corrupt "
                         f"({reason(exc)}): run 'mnviewer models build "
                         f"{built.id} --precision {built.precision} --force'") from exc
    return prepare_model(graph.materialize_weights(model), int(built.meta["input_size"][0]),
                         has_background_class(built.meta), frame_hw, raw=raw,
                         crop=crop_fraction(built.meta))


def compile_config(hint: str, precision: str, device: str,
                   threads: int | None) -> dict[str, Any]:
    """The compile properties every compiled model here shares."""
    config: dict[str, Any] = {"PERFORMANCE_HINT": hint.upper()}
    if threads is not None:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    if precision == "fp32" and device.upper() == "CPU":
        # Otherwise the CPU runs "fp32" in bf16 where it can, which is not what was asked.
        config["INFERENCE_PRECISION_HINT"] = "f32"
    return config


class Engine:
    """A compiled model ready for frames of any size (static size when the device needs it)."""

    def __init__(self, model_id: str, precision: str = "int8", device: str = "CPU", *,
                 hint: str = "LATENCY", requests: int | None = None,
                 frame_hw: tuple[int, int] | None = None, streams: int | None = None,
                 source_hw: tuple[int, int] | None = None,
                 raw_input: bool = False, threads: int | None = None):
        self.model_id = model_id
        self.precision = precision
        self.device = check_device(device)
        self.built = build.ensure_built(model_id, precision)
        meta = self.built.meta
        self.macs = int(meta.get("macs", 0))
        self.params = int(meta.get("params", 0))
        self.trained = bool(meta.get("trained", True))
        self.input_size = int(meta["input_size"][0])
        self.crop = crop_fraction(meta)
        background = has_background_class(meta)
        self.labels = read_labels(self.built.labels_file, background)
        expected = int(meta.get("classes", 1001)) - (1 if background else 0)
        if len(self.labels) != expected:
            raise ModelError(f"labels file {self.built.labels_file} has {len(self.labels)} "
                             f"labels, expected {expected}: run 'mnviewer models build "
                             f"{model_id} --force'")
        if frame_hw is None and self.device.split(".")[0].upper() == "NPU":
            # The NPU needs static shapes: the source's own size, else the model's.
            frame_hw = source_hw or (self.input_size, self.input_size)
        self.frame_hw = frame_hw
        self.raw_input = raw_input
        self.compiled = self._compile(hint, streams, threads)
        self.executing_device = self._executing_device()
        n = requests or int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        self.requests = max(1, n)
        self._sync_request = self.compiled.create_infer_request()

    def _compile(self, hint: str, streams: int | None, threads: int | None) -> ov.CompiledModel:
        model = read_prepared(self.built, self.frame_hw, raw=self.raw_input)
        config = compile_config(hint, self.precision, self.device, threads)
        config["CACHE_DIR"] = str(paths.compile_cache_dir())
        if streams is not None:
            config["NUM_STREAMS"] = str(streams)
        try:
            return core().compile_model(model, self.device, config)
        except RuntimeError as exc:
            raise DeviceError(f"cannot compile {self.model_id} {self.precision} for "
                              f"{self.device} ({reason(exc)}): "
                              "choose another device or precision") from exc

    def _executing_device(self) -> str:
        try:
            devices = self.compiled.get_property("EXECUTION_DEVICES")
            return ",".join(str(d) for d in devices) or self.device
        except RuntimeError:
            return self.device

    @property
    def source_side(self) -> int:
        """The smallest frame short side that still covers this model's input after the crop."""
        return source_side(self.input_size, self.crop)

    def fit(self, image: np.ndarray) -> np.ndarray:
        """The frame itself, reduced when much larger than the input, or resized when the
        model was compiled for another static size."""
        hw = self.frame_hw
        if hw is None:
            return image if self.raw_input else reduce_frame(image, self.input_size, self.crop)
        if image.shape[:2] == hw:
            return image
        return cv2.resize(image, (hw[1], hw[0]), interpolation=cv2.INTER_AREA)

    def input_tensor(self, image: np.ndarray) -> ov.Tensor:
        """The frame as a batch of one over its own memory (no input dispatching); copied only
        when it is not contiguous or not writable, which a shared tensor needs."""
        batch = np.require(self.fit(image)[None], requirements=["C", "W"])
        return ov.Tensor(batch, shared_memory=True)

    def decode(self, frame_id: int, scores: np.ndarray, indices: np.ndarray, k: int,
               infer_ms: float) -> Inference:
        start = time.perf_counter()
        labels = self.labels
        top = tuple(Prediction(i, labels[i], s)
                    for s, i in zip(scores[0, :k].tolist(), indices[0, :k].tolist(),
                                    strict=True))
        return Inference(frame_id, top, infer_ms, (time.perf_counter() - start) * 1e3)

    def infer(self, image: np.ndarray, top_k: int = 5, frame_id: int = 0) -> Inference:
        """Synchronous inference of one uint8 BGR HxWx3 image."""
        req = self._sync_request
        req.infer(self.input_tensor(image))
        return self.decode(frame_id, req.get_output_tensor(0).data,
                           req.get_output_tensor(1).data, top_k, req.latency)

    def async_queue(self, on_result: Callable[[Inference, Any], None], top_k: int = 5,
                    jobs: int | None = None, on_error: Callable[[], None] | None = None
                    ) -> AsyncQueue:
        return AsyncQueue(self, on_result, top_k, jobs or self.requests, on_error)


class AsyncQueue:
    """Submit frames; completions call on_result(Inference, userdata) from OpenVINO's threads.

    Errors raised in a completion are kept and re-raised by the next submit() or wait().
    """

    def __init__(self, engine: Engine, on_result: Callable[[Inference, Any], None],
                 top_k: int, jobs: int, on_error: Callable[[], None] | None = None):
        self.engine = engine
        self.top_k = check_top_k(top_k)
        self._on_result = on_result
        self._on_error = on_error
        self._errors: list[BaseException] = []
        self._queue = ov.AsyncInferQueue(engine.compiled, jobs)
        # A bound method would make the native queue own this object, a cycle the garbage
        # collector cannot see: every queue (and its compiled model) would outlive its use.
        ref = weakref.ref(self)

        def done(request: ov.InferRequest, userdata: tuple[int, Any]) -> None:
            queue = ref()
            if queue is not None:
                queue._done(request, userdata)

        self._queue.set_callback(done)

    def _done(self, request: ov.InferRequest, userdata: tuple[int, Any]) -> None:
        try:
            frame_id, extra = userdata
            result = self.engine.decode(frame_id, request.get_output_tensor(0).data,
                                        request.get_output_tensor(1).data, self.top_k,
                                        request.latency)
            self._on_result(result, extra)
        except BaseException as exc:  # surfaced to the submitting thread
            self._errors.append(exc)
            if self._on_error is not None:
                self._on_error()

    @property
    def failed(self) -> bool:
        return bool(self._errors)

    def raise_pending(self) -> None:
        """Re-raise the first error raised while handling a completion, if any."""
        self._raise_pending()

    def _raise_pending(self) -> None:
        if self._errors:
            raise self._errors.pop(0)

    def submit(self, image: np.ndarray, frame_id: int, userdata: Any = None) -> None:
        """Start inference on a frame; blocks while every request is busy."""
        self._raise_pending()
        try:
            self._queue.start_async(self.engine.input_tensor(image), (frame_id, userdata))
        except RuntimeError as exc:
            raise ModelError(f"inference failed on frame {frame_id} "
                             f"({reason(exc)})") from exc

    def is_ready(self) -> bool:
        return bool(self._queue.is_ready())

    def wait(self) -> None:
        self._queue.wait_all()
        self._raise_pending()

    def drain(self) -> None:
        """Wait for requests in flight without raising (for cleanup paths)."""
        self._queue.wait_all()


def check_top_k(k: int) -> int:
    if not 1 <= int(k) <= MAX_TOP_K:
        raise UsageError(f"top-k {k} is out of range: choose 1 to {MAX_TOP_K}")
    return int(k)
