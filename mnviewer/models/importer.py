"""Reading a user's image classifier (.tflite, .onnx, OpenVINO IR) into one description.

Each reader yields the same thing: the graph as OpenVINO reads it, the preprocessing the file
records (TFLite metadata and input quantization, ONNX `metadata_props`, the Model API's
`model_info` in IR rt_info), the labels, and what was decided where. `base_graph` then turns
any description into the form every built model has: a float NHWC RGB input in pixel units
named 'image' and one [1, N] score output 'probs', so the builder and the engine treat
imported models exactly as catalog ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops
from openvino.frontend import (
    FrontEndManager,
    GeneralFailure,
    InitializationFailure,
    NotImplementedFailure,
    OpConversionFailure,
    OpValidationFailure,
)
from openvino.passes import ConstantFolding, Manager

from mnviewer.atomic import reason
from mnviewer.errors import ImportFailed, UsageError
from mnviewer.models import graph
from mnviewer.models.tflite_meta import (
    TfliteFormatError,
    TfliteInput,
    label_lines,
    read_tflite_input,
)

FORMATS = {".tflite": "tflite", ".onnx": "onnx", ".xml": "ir"}
LAYOUTS = ("NHWC", "NCHW")
# Model API resize_type values -> how mnviewer fits a frame to the input.
MODEL_API_RESIZE = {"crop": "crop", "standard": "standard", "fit_to_window": "standard",
                    "fit_to_window_letterbox": "standard"}
# ONNX's own image metadata: Image.NominalPixelRange -> (mean, scale) in pixel units.
ONNX_PIXEL_RANGE = {"NominalRange_0_255": (0.0, 1.0), "Normalized_0_1": (0.0, 255.0),
                    "Normalized_1_1": (127.5, 127.5)}
ONNX_PIXEL_FORMAT = {"Bgr8": "BGR", "Rgb8": "RGB", "Gray8": "GRAY", "Bgra8": "BGR",
                     "Rgba8": "RGB"}
GRAY_WEIGHTS = (0.299, 0.587, 0.114)
FOLLOWERS = ("Convert", "FakeQuantize", "Reshape", "Squeeze", "Transpose")
# A dequantization after the scores ((q - zero_point) * scale) is followed too.
DEQUANTIZE = ("Subtract", "Multiply")


@dataclass(frozen=True)
class ImportOptions:
    """What the user said on the command line or in the dialog; None: read from the file."""

    model_id: str | None = None
    labels: Path | None = None
    mean: tuple[float, ...] | None = None
    scale: tuple[float, ...] | None = None
    channels: str | None = None  # "RGB" or "BGR"
    layout: str | None = None
    input_size: int | None = None
    calibration: Path | None = None
    force: bool = False


@dataclass(frozen=True)
class Preprocessing:
    """How a frame becomes the model's input: (pixel - mean) / scale per channel, in the
    channel order the model expects, after fitting the frame to a square input."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    channels: str  # RGB, BGR or GRAY: what the model's input holds
    layout: str  # the model's own input layout
    input_size: int
    resize: str  # central (87.5% central square), crop (whole central square), standard
    decided: dict[str, str] = field(default_factory=dict)  # field -> where it came from

    def to_json(self) -> dict:
        return {"mean": list(self.mean), "scale": list(self.scale), "channels": self.channels,
                "layout": self.layout, "input_size": self.input_size, "resize": self.resize,
                "decided": dict(self.decided)}

    @classmethod
    def from_json(cls, data: dict) -> Preprocessing:
        return cls(mean=tuple(data["mean"]), scale=tuple(data["scale"]),
                   channels=data["channels"], layout=data["layout"],
                   input_size=int(data["input_size"]), resize=data["resize"],
                   decided=dict(data.get("decided", {})))

    @property
    def crop(self) -> float | None:
        """The engine's central-crop fraction for this resize (None: whole frame)."""
        return {"central": 0.875, "crop": 1.0}.get(self.resize)


@dataclass(frozen=True)
class Quantization:
    """An integer input's quantization: real = scale * (q - zero_point)."""

    dtype: str
    scale: float
    zero_point: int


@dataclass
class Description:
    """One user file, read: the graph and everything decided about it."""

    path: Path
    format: str
    model: ov.Model
    preprocessing: Preprocessing
    classes: int
    labels: list[str] | None
    labels_from: str
    quantized: bool
    input_quant: Quantization | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- entry points


def model_format(path: Path) -> str:
    """'tflite', 'onnx' or 'ir' from the file name; an unsupported one is refused."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFailed(f"{path}: unsupported model format '{path.suffix or path.name}': "
                           "give a .tflite, .onnx or OpenVINO IR .xml file")
    return fmt


def describe(path: Path, options: ImportOptions, core: ov.Core) -> Description:
    """Read a user's file and decide its preprocessing, labels and classes."""
    fmt = model_format(path)
    _check_readable(path, fmt)
    model = read_graph(path, fmt, core)
    param = _single_image_input(model, path)
    classes = _single_score_output(model, path)
    tfl: TfliteInput | None = None
    if fmt == "tflite":
        try:
            tfl = read_tflite_input(path.read_bytes())
        except TfliteFormatError as exc:
            raise ImportFailed(f"{path} is not a readable .tflite model ({exc}): "
                               "check the file or export it again") from exc
    recorded = _recorded(model, fmt)
    prep, quant = _preprocessing(path, fmt, param, options, recorded, tfl)
    labels, labels_from = _labels(path, options, recorded, tfl, classes)
    quantized = _is_quantized(model)
    desc = Description(path=path, format=fmt, model=model, preprocessing=prep, classes=classes,
                       labels=labels, labels_from=labels_from, quantized=quantized,
                       input_quant=quant)
    if tfl is not None:
        desc.notes.extend(tfl.notes)
    return desc


def base_graph(desc: Description) -> ov.Model:
    """The graph with the float NHWC RGB pixel input 'image' and the [1, N] output 'probs',
    weights folded to float constants (activation FakeQuantize kept)."""
    model = desc.model.clone()
    prep = desc.preprocessing
    param = model.get_parameters()[0]
    size = prep.input_size
    static = _static_input_shape(param, prep)
    if param.get_partial_shape() != ov.PartialShape(static):
        model.reshape({param.output(0): ov.PartialShape(static)})
    image, _ = graph.image_input([1, size, size, 3])
    x = _normalized(image.output(0), prep, desc.input_quant)
    if prep.layout == "NCHW":
        x = ops.transpose(x, ops.constant(np.array([0, 3, 1, 2], dtype=np.int64))).output(0)
    x = _to_param_type(x, param, desc.input_quant)
    for target in list(param.output(0).get_target_inputs()):
        target.replace_source_output(x)
    probs = _scores(model)
    result = ops.result(probs)
    probs.set_names({graph.OUTPUT_NAME})
    rebuilt = ov.Model([result], [image], model.get_friendly_name() or "imported")
    try:
        rebuilt.validate_nodes_and_infer_types()
        # Weight subgraphs of other frontends (splits, gathers) become constants first.
        passes = Manager()
        passes.register_pass(ConstantFolding())
        passes.run_passes(rebuilt)
        return graph.fold_weights(rebuilt)
    except RuntimeError as exc:
        raise ImportFailed(f"{desc.path}: cannot rebuild its graph ({reason(exc)}): "
                           "check --layout and --input-size") from exc


def has_depthwise(model: ov.Model) -> bool:
    """Whether the model has depthwise convolutions and no other grouped ones (a twin exists)."""
    groups = [op for op in model.get_ordered_ops() if op.get_type_name() == "GroupConvolution"]
    return bool(groups) and all(
        list(op.input(1).get_shape())[1:3] == [1, 1] for op in groups)


# ---------------------------------------------------------------------------- reading


def _check_readable(path: Path, fmt: str) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ImportFailed(f"cannot read {path} ({exc.strerror or exc}): check the path") from exc
    if size == 0:
        raise ImportFailed(f"{path} is empty (0 bytes): give the model file itself")
    if fmt == "tflite" and head[4:8] != b"TFL3":
        raise ImportFailed(f"{path} is not a .tflite model (no TFL3 header): "
                           "check the file or export it again")
    if fmt == "ir":
        if not head.lstrip().startswith(b"<"):
            raise ImportFailed(f"{path} is not an OpenVINO IR .xml file: "
                               "give the .xml written by ovc or openvino.save_model")
        if not path.with_suffix(".bin").is_file():
            raise ImportFailed(f"{path.with_suffix('.bin')} is missing: an IR .xml needs its "
                               ".bin beside it")


def read_graph(path: Path, fmt: str, core: ov.Core) -> ov.Model:
    """The graph, read by the one frontend its format names (never offered to the others)."""
    try:
        if fmt == "ir":
            return core.read_model(str(path))
        frontend = FrontEndManager().load_by_framework(fmt)
        return frontend.convert(frontend.load(str(path)))
    except (RuntimeError, ValueError, GeneralFailure, InitializationFailure,
            NotImplementedFailure, OpConversionFailure, OpValidationFailure) as exc:
        text = str(exc)
        missing = _unsupported_op(text)
        if missing:
            raise ImportFailed(f"{path}: OpenVINO cannot read operation '{missing}': export "
                               "the model without it or update OpenVINO") from exc
        raise ImportFailed(f"{path} is not a readable {fmt_name(fmt)} model ({reason(exc)}): "
                           "check the file or export it again") from exc


def fmt_name(fmt: str) -> str:
    return {"tflite": ".tflite", "onnx": ".onnx", "ir": "OpenVINO IR"}[fmt]


def _unsupported_op(text: str) -> str | None:
    for pattern in (r"No translator found for ([\w.:/-]+)",
                    r"No conversion rule found for operations?:\s*([\w.:/-]+)",
                    r"OpenVINO does not support the following \w+ operations?:\s*([\w.:/-]+)",
                    r"[Uu]nsupported operation[^:]*:\s*([\w.:/-]+)",
                    r"Cannot create ([\w.:/-]+) layer",
                    r"operation type[: ]+'?([\w.:/-]+)'? is not (?:supported|registered)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).rstrip(".,")
    return None


def _single_image_input(model: ov.Model, path: Path) -> ov.Node:
    params = model.get_parameters()
    shapes = [p.get_partial_shape() for p in params]
    if len(params) != 1 or shapes[0].rank.is_dynamic or shapes[0].rank.get_length() != 4:
        found = ", ".join(str(s) for s in shapes) or "none"
        raise ImportFailed(f"{path} is not an image classifier: it needs exactly one 4-D image "
                           f"input, it has {len(params)} ({found})")
    return params[0]


def _single_score_output(model: ov.Model, path: Path) -> int:
    outputs = model.outputs
    if len(outputs) != 1:
        raise ImportFailed(f"{path} is not an image classifier: it needs exactly one output of "
                           f"shape [1, N], it has {len(outputs)}")
    shape = outputs[0].get_partial_shape()
    dims = [d.get_length() if d.is_static else -1 for d in shape] if shape.rank.is_static else []
    ok = (len(dims) in (2, 4) and dims[1] > 1 and dims[0] in (1, -1)
          and all(d == 1 for d in dims[2:]))
    if not ok:
        raise ImportFailed(f"{path} is not an image classifier: its output has shape {shape}, "
                           "expected [1, N] or [1, N, 1, 1]")
    return dims[1]


def _is_quantized(model: ov.Model) -> bool:
    return any(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops())


def _recorded(model: ov.Model, fmt: str) -> dict[str, str]:
    """Preprocessing keys the file records: Model API model_info (IR rt_info, ONNX
    metadata_props 'model_info <key>') and ONNX's own Image.* keys."""
    found: dict[str, str] = {}
    if fmt == "ir" and model.has_rt_info(["model_info"]):
        info = model.get_rt_info(["model_info"]).astype(dict)
        for key in info:
            found[key] = model.get_rt_info(["model_info", key]).astype(str)
    if fmt == "onnx" and model.has_rt_info(["framework"]):
        props = model.get_rt_info(["framework"]).astype(dict)
        for key in props:
            value = model.get_rt_info(["framework", key]).astype(str)
            if key.startswith("model_info "):
                found[key[len("model_info "):]] = value
            elif key.startswith("Image."):
                found[key] = value
    return found


# ---------------------------------------------------------------------------- deciding


def _numbers(text: str, what: str, path: Path) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError as exc:
        raise ImportFailed(f"{path}: its {what} '{text}' are not numbers: "
                           f"give them with --{what.split('_')[0]}") from exc
    if len(values) not in (1, 3):
        raise ImportFailed(f"{path}: its {what} has {len(values)} values, expected 1 or 3")
    return values


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("true", "yes", "1", "y")


def _layout(param: ov.Node, options: ImportOptions, recorded: dict, fmt: str,
            path: Path) -> tuple[str, str]:
    if options.layout:
        return options.layout, "flag"
    if fmt == "tflite":
        return "NHWC", "graph"
    layout = recorded.get("layout", "").upper()
    if layout in LAYOUTS:
        return layout, "file"
    dims = [d.get_length() if d.is_static else -1 for d in param.get_partial_shape()]
    nchw = dims[1] in (1, 3) and dims[3] not in (1, 3)
    nhwc = dims[3] in (1, 3) and dims[1] not in (1, 3)
    if nchw != nhwc:
        return ("NCHW" if nchw else "NHWC"), "graph"
    raise UsageError(f"{path}: the input shape {param.get_partial_shape()} does not say its "
                     "layout: give --layout NCHW or --layout NHWC")


def _input_size(param: ov.Node, layout: str, options: ImportOptions,
                path: Path) -> tuple[int, str]:
    dims = [d.get_length() if d.is_static else -1 for d in param.get_partial_shape()]
    h, w = (dims[1], dims[2]) if layout == "NHWC" else (dims[2], dims[3])
    if options.input_size:
        if (h > 0 and h != options.input_size) or (w > 0 and w != options.input_size):
            raise UsageError(f"{path}: --input-size {options.input_size} does not fit its "
                             f"fixed input {h}x{w}: leave it out")
        return options.input_size, "flag"
    if h < 0 or w < 0:
        raise UsageError(f"{path}: its input size is not fixed in the graph: give "
                         "--input-size N (e.g. 224)")
    if h != w:
        raise ImportFailed(f"{path}: its input is {h}x{w}; mnviewer takes square inputs: "
                           "export it with a square input size")
    return h, "graph"


def _channels_of(param: ov.Node, layout: str) -> int:
    dims = [d.get_length() if d.is_static else -1 for d in param.get_partial_shape()]
    return dims[3] if layout == "NHWC" else dims[1]


def _preprocessing(path: Path, fmt: str, param: ov.Node, options: ImportOptions,
                   recorded: dict, tfl: TfliteInput | None
                   ) -> tuple[Preprocessing, Quantization | None]:
    decided: dict[str, str] = {}
    dims = [d.get_length() if d.is_static else -1 for d in param.get_partial_shape()]
    if not {dims[1], dims[3]} & {1, 3, -1}:
        raise ImportFailed(f"{path} is not an image classifier: its input {dims} has no "
                           "axis of 1 or 3 channels")
    layout, decided["layout"] = _layout(param, options, recorded, fmt, path)
    size, decided["input_size"] = _input_size(param, layout, options, path)
    n_channels = _channels_of(param, layout)
    if n_channels not in (1, 3):
        raise ImportFailed(f"{path} is not an image classifier: its input has {n_channels} "
                           "channels, expected 1 or 3")
    channels, decided["channels"] = _channel_order(n_channels, options, recorded, tfl)
    quant = _input_quantization(param, tfl)
    mean, scale, decided["mean_scale"] = _mean_scale(path, fmt, options, recorded, tfl, quant)
    if _truthy(recorded.get("embedded_processing", "")) and options.mean is None:
        # The Model API's embedded processing: the IR normalizes BGR pixels itself.
        mean, scale, decided["mean_scale"] = (0.0,), (1.0,), "file: embedded_processing"
        if not options.channels and n_channels == 3:
            channels, decided["channels"] = "BGR", "file: embedded_processing"
    resize, decided["resize"] = "central", "default"
    if recorded.get("resize_type"):
        kind = recorded["resize_type"].strip().lower()
        resize = MODEL_API_RESIZE.get(kind, "standard")
        decided["resize"] = f"file: resize_type {kind}" + (
            "" if kind in ("crop", "standard") else " (approximated by standard)")
    width = 1 if channels == "GRAY" else 3
    mean = mean * width if len(mean) == 1 else mean
    scale = scale * width if len(scale) == 1 else scale
    if len(mean) != width or len(scale) != width:
        raise UsageError(f"{path}: mean and scale need 1 or {width} values for its "
                         f"{width}-channel input")
    if any(s == 0 for s in scale):
        error = UsageError if options.scale is not None else ImportFailed
        raise error(f"{path}: a scale of 0 divides by zero: give --scale values above 0")
    prep = Preprocessing(mean=tuple(mean), scale=tuple(scale), channels=channels,
                         layout=layout, input_size=size, resize=resize, decided=decided)
    return prep, quant


def _channel_order(n_channels: int, options: ImportOptions, recorded: dict,
                   tfl: TfliteInput | None) -> tuple[str, str]:
    if n_channels == 1:
        return "GRAY", "graph"
    if options.channels:
        return options.channels, "flag"
    if "reverse_input_channels" in recorded:
        # Model API: frames arrive BGR (OpenCV); reversing them means the model wants RGB.
        return ("RGB" if _truthy(recorded["reverse_input_channels"]) else "BGR"), "file"
    fmt = ONNX_PIXEL_FORMAT.get(recorded.get("Image.BitmapPixelFormat", ""))
    if fmt is not None:
        return fmt, "file"
    return "RGB", "default"


def _input_quantization(param: ov.Node, tfl: TfliteInput | None) -> Quantization | None:
    dtype = param.get_element_type()
    if dtype not in (ov.Type.u8, ov.Type.i8):
        return None
    if tfl is not None and tfl.scale and tfl.zero_point is not None:
        return Quantization(str(dtype.to_dtype()), tfl.scale, tfl.zero_point)
    # An integer input without recorded quantization holds pixels as they are.
    return Quantization(str(dtype.to_dtype()), 1.0, -128 if dtype == ov.Type.i8 else 0)


def _mean_scale(path: Path, fmt: str, options: ImportOptions, recorded: dict,
                tfl: TfliteInput | None, quant: Quantization | None
                ) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    if options.mean is not None and options.scale is not None:
        return options.mean, options.scale, "flag"
    mean: tuple[float, ...] | None = None
    scale: tuple[float, ...] | None = None
    where = "file"
    if quant is not None:
        # Pixels p are fed as q = p (uint8) or p - 128 (int8); the input's own quantization
        # then makes them (q - zero_point) * scale.
        offset = 128 if quant.dtype == "int8" else 0
        mean, scale = (float(quant.zero_point + offset),), (1.0 / quant.scale,)
        where = "file: input quantization"
    elif tfl is not None and tfl.mean is not None and tfl.std is not None:
        mean, scale, where = tfl.mean, tfl.std, "file: TFLite metadata"
    elif "mean_values" in recorded or "scale_values" in recorded:
        mean = _numbers(recorded.get("mean_values", "0"), "mean_values", path)
        scale = _numbers(recorded.get("scale_values", "1"), "scale_values", path)
        where = "file: model_info"
    elif recorded.get("Image.NominalPixelRange") in ONNX_PIXEL_RANGE:
        m, s = ONNX_PIXEL_RANGE[recorded["Image.NominalPixelRange"]]
        mean, scale, where = (m,), (s,), "file: Image.NominalPixelRange"
    mean = options.mean if options.mean is not None else mean
    scale = options.scale if options.scale is not None else scale
    if options.mean is not None or options.scale is not None:
        where = "flag" if where == "file" else f"flag and {where}"
    if mean is None or scale is None:
        missing = " and ".join(f for f, v in (("--mean", mean), ("--scale", scale)) if v is None)
        raise UsageError(f"{path} does not record how to normalize its input: give {missing} "
                         "(e.g. --mean 127.5 --scale 127.5 for inputs in [-1, 1], "
                         "--mean 0 --scale 255 for [0, 1])")
    return mean, scale, where


def read_labels_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(f"cannot read labels file {path} ({reason(exc)}): give a UTF-8 "
                           "text file with one label per line") from exc
    return label_lines(text)



def _labels(path: Path, options: ImportOptions, recorded: dict, tfl: TfliteInput | None,
            classes: int) -> tuple[list[str] | None, str]:
    labels: list[str] | None = None
    where = "none"
    if options.labels is not None:
        labels, where = read_labels_file(options.labels), f"flag: {options.labels}"
    elif tfl is not None and tfl.labels:
        labels, where = tfl.labels, f"file: {tfl.label_file}"
    elif recorded.get("labels"):
        labels = [w.replace("_", " ") for w in recorded["labels"].split()]
        where = "file: model_info"
    if labels is not None and len(labels) not in (classes, classes - 1):
        named = options.labels if options.labels is not None else path
        raise ImportFailed(f"labels from {named} do not match the model: {len(labels)} labels "
                           f"for {classes} outputs (give {classes}, or {classes - 1} when the "
                           "first output is a background class)")
    return labels, where


# ---------------------------------------------------------------------------- rebuilding


def _static_input_shape(param: ov.Node, prep: Preprocessing) -> list[int]:
    c = 1 if prep.channels == "GRAY" else 3
    s = prep.input_size
    return [1, s, s, c] if prep.layout == "NHWC" else [1, c, s, s]


def _per_channel(values: tuple[float, ...]) -> ov.Output:
    return ops.constant(np.array(values, dtype=np.float32).reshape(1, 1, 1, -1)).output(0)


def _normalized(x: ov.Output, prep: Preprocessing, quant: Quantization | None) -> ov.Output:
    """Pixels (NHWC RGB, 0..255) -> what the model's input holds, in NHWC."""
    if prep.channels == "BGR":
        x = ops.gather(x, ops.constant(np.array([2, 1, 0], dtype=np.int64)),
                       ops.constant(np.int64(3))).output(0)
    elif prep.channels == "GRAY":
        weights = ops.constant(np.array(GRAY_WEIGHTS, dtype=np.float32).reshape(1, 1, 1, 3))
        x = ops.reduce_sum(ops.multiply(x, weights), ops.constant(np.int64(3)),
                           keep_dims=True).output(0)
    mean, scale = np.array(prep.mean), np.array(prep.scale)
    if quant is not None:
        # q = (p - mean) / scale / s + zero_point: for the recorded mean and scale this is p
        # itself (uint8) or p - 128 (int8), and nothing is added to the graph for uint8.
        denom = scale * quant.scale
        shift = mean / denom - quant.zero_point
        if np.allclose(denom, 1.0) and np.allclose(shift, 0.0):
            return x
        if not np.allclose(denom, 1.0):
            x = ops.divide(x, _per_channel(tuple(denom))).output(0)
        return ops.subtract(x, _per_channel(tuple(shift))).output(0)
    if not np.allclose(mean, 0.0):
        x = ops.subtract(x, _per_channel(prep.mean)).output(0)
    if not np.allclose(scale, 1.0):
        x = ops.divide(x, _per_channel(prep.scale)).output(0)
    return x


def _to_param_type(x: ov.Output, param: ov.Node, quant: Quantization | None) -> ov.Output:
    """Float values where the file's input was: an integer input whose every use converts it
    to float takes them as they are; otherwise they are rounded into the integer type."""
    dtype = param.get_element_type()
    if dtype == ov.Type.f32:
        return x
    if dtype.is_real():
        return ops.convert(x, dtype).output(0)
    if _only_converted_to_float(param):
        return x
    lo, hi = (-128.0, 127.0) if dtype == ov.Type.i8 else (0.0, 255.0)
    rounded = ops.clamp(ops.round(x, "half_to_even"), lo, hi)
    return ops.convert(rounded, dtype).output(0)


def _only_converted_to_float(param: ov.Node) -> bool:
    pending = [param.output(0)]
    while pending:
        for target in pending.pop().get_target_inputs():
            node = target.get_node()
            kind = node.get_type_name()
            if kind == "Transpose" and target.get_index() == 0:
                pending.append(node.output(0))
            elif not (kind == "Convert" and node.get_output_element_type(0).is_real()):
                return False
    return True


def _scores(model: ov.Model) -> ov.Output:
    """The class scores as [1, N] floats: the softmax feeding the output where there is one
    (the output's requantization dropped), else the output with a softmax added."""
    out = model.get_results()[0].input_value(0)
    node = out
    while True:
        kind = node.get_node().get_type_name()
        if kind in FOLLOWERS or (kind in DEQUANTIZE and _constant_operand(node.get_node())):
            node = node.get_node().input_value(0)
        else:
            break
    kind = node.get_node().get_type_name()
    probs = node if kind in ("Softmax", "Sigmoid") else out
    if not probs.get_element_type().is_real() or probs.get_element_type() != ov.Type.f32:
        probs = ops.convert(probs, ov.Type.f32).output(0)
    classes = probs.get_partial_shape()[1].get_length()
    if probs.get_partial_shape().rank.get_length() != 2:
        probs = ops.reshape(probs, ops.constant(np.array([1, classes], dtype=np.int64)),
                            False).output(0)
    if kind not in ("Softmax", "Sigmoid"):
        probs = ops.softmax(probs, 1).output(0)
    return probs


def _constant_operand(node: ov.Node) -> bool:
    other = node.input_value(1).get_node()
    while other.get_type_name() == "Convert":
        other = other.input_value(0).get_node()
    return other.get_type_name() == "Constant"


def parse_values(text: str | None, flag: str) -> tuple[float, ...] | None:
    """'127.5' or '123.7,116.3,103.5' (commas or spaces) -> numbers; 1 or 3 of them."""
    if text is None or not text.strip():
        return None
    try:
        values = tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError:
        values = ()
    if len(values) not in (1, 3):
        raise UsageError(f"{flag} '{text}' is not 1 or 3 numbers: give e.g. {flag} 127.5 or "
                         f"{flag} 123.7,116.3,103.5")
    return values
