"""Where one request spends its time, layer by layer, from OpenVINO's performance counters.

The model is compiled a second time, with PERF_COUNT on, only for profiling: the engines that
classify frames never pay for the counters. MACs come from the built graph
(mnviewer.models.stats.layer_macs) and are matched to executed nodes by friendly name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

from mnviewer.atomic import reason
from mnviewer.errors import DeviceError, UsageError

if TYPE_CHECKING:  # imported where used: the CLI reads METHOD without loading OpenVINO
    import numpy as np
    import openvino as ov

KINDS = ("stem", "depthwise", "pointwise", "dense3x3", "classifier", "other")
KIND_TITLES = {"stem": "stem conv", "depthwise": "depthwise", "pointwise": "1x1 conv",
               "dense3x3": "dense 3x3", "classifier": "classifier", "other": "other"}
DEFAULT_WARMUP = 20
DEFAULT_REQUESTS = 100
METHOD = (f"Method: the model is compiled once more with OpenVINO's performance counters "
          f"(PERF_COUNT) on and the LATENCY hint, taking uint8 RGB at its own resolution; "
          f"{DEFAULT_WARMUP} warm-up requests are not counted, then each executed node's "
          f"time is the median over {DEFAULT_REQUESTS} synchronous requests (robust to other "
          "work on the machine). total_ms is the sum of the layers' times (the request's wall "
          "time adds the runtime's own overhead).")


@dataclass(frozen=True)
class LayerProfile:
    name: str  # the executed node's name (the graph's friendly name where they match)
    kind: str  # one of KINDS
    macs: int
    ms: float  # median time per request
    exec_type: str  # the kernel that ran, e.g. brgconv_avx512_1x1_I8
    precision: str  # the precision it ran in, e.g. I8, FP32
    node_type: str = ""


@dataclass(frozen=True)
class KindProfile:
    ms: float
    macs: int
    share_macs: float
    share_time: float


@dataclass(frozen=True)
class Profile:
    model: str
    precision: str
    device: str  # the device that executed
    total_ms: float
    kinds: dict[str, KindProfile]
    layers: tuple[LayerProfile, ...]
    warmup: int = DEFAULT_WARMUP
    requests: int = DEFAULT_REQUESTS
    macs: int = field(default=0)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "precision": self.precision, "device": self.device,
                "total_ms": self.total_ms,
                "kinds": {k: asdict(v) for k, v in self.kinds.items()},
                "layers": [asdict(layer) for layer in self.layers],
                "warmup": self.warmup, "requests": self.requests}


def layer_kinds(model: ov.Model) -> dict[str, tuple[str, int]]:
    """Friendly name -> (kind, MACs) for every node of a graph.

    stem: the first dense convolution; depthwise: grouped convolutions; pointwise: other 1x1
    convolutions; dense3x3: other dense convolutions (the full-convolution twins and Conv
    MobileNet); classifier: the last counted layer (the logits); other: everything else.
    """
    from mnviewer.models.stats import layer_macs

    ops = model.get_ordered_ops()
    counted = [op for op in ops if layer_macs(op) > 0]
    last = counted[-1].get_friendly_name() if counted else None
    out: dict[str, tuple[str, int]] = {}
    seen_conv = False
    for op in ops:
        name, kind_name, macs = op.get_friendly_name(), op.get_type_name(), layer_macs(op)
        if name == last:
            kind = "classifier"
        elif kind_name == "GroupConvolution":
            kind = "depthwise"
        elif kind_name == "Convolution":
            kernel = list(op.input(1).get_shape())[2:]
            if not seen_conv:
                kind = "stem"
            elif all(k == 1 for k in kernel):
                kind = "pointwise"
            else:
                kind = "dense3x3"
            seen_conv = True
        elif kind_name == "MatMul":
            kind = "pointwise"
        else:
            kind = "other"
        out[name] = (kind, macs)
    return out


def _runtime_precisions(compiled: ov.CompiledModel) -> dict[str, str]:
    try:
        runtime = compiled.get_runtime_model()
    except RuntimeError:
        return {}
    out = {}
    for op in runtime.get_ops():
        info = op.get_rt_info()
        if "runtimePrecision" in info:
            out[op.get_friendly_name()] = str(info["runtimePrecision"].astype(str)).upper()
    return out


def _precision_of(exec_type: str) -> str:
    tail = exec_type.rsplit("_", 1)[-1]
    return tail.upper() if tail.lower() in ("i8", "u8", "f32", "fp32", "f16", "fp16",
                                            "bf16", "i32") else ""


def compile_profiled(model: ov.Model, device: str, threads: int | None = None,
                     precision: str = "int8", what: str = "the model") -> ov.CompiledModel:
    """One request at a time (LATENCY hint) with per-node counters on."""
    from mnviewer.engine import compile_config, core

    config = compile_config("LATENCY", precision, device, threads)
    config["PERF_COUNT"] = True
    try:
        return core().compile_model(model, device, config)
    except RuntimeError as exc:
        raise DeviceError(f"cannot compile {what} with performance "
                          f"counters for {device} ({reason(exc)}): profile on CPU") from exc


def node_times(compiled: ov.CompiledModel, data: np.ndarray, *, warmup: int,
               requests: int, should_stop: Callable[[], bool] | None = None
               ) -> dict[str, tuple[float, ov.ProfilingInfo]]:
    """Executed node -> (median ms per request, its last counter) over `requests` requests."""
    import openvino as ov

    request = compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(data, shared_memory=True))
    for _ in range(warmup):
        request.infer()
    samples: dict[str, list[float]] = defaultdict(list)
    last: dict[str, ov.ProfilingInfo] = {}
    executed = ov.ProfilingInfo.Status.EXECUTED
    for _ in range(requests):
        if should_stop is not None and should_stop():
            break
        request.infer()
        for info in request.profiling_info:
            if info.status == executed:
                samples[info.node_name].append(info.real_time.total_seconds() * 1e3)
                last[info.node_name] = info
    return {name: (median(times), last[name]) for name, times in samples.items()}


def summarise(layers: list[LayerProfile]) -> tuple[float, dict[str, KindProfile]]:
    """Total ms and per-kind sums and shares (time shares sum to 1 over the kinds)."""
    total_ms = sum(layer.ms for layer in layers)
    total_macs = sum(layer.macs for layer in layers)
    ms: dict[str, float] = defaultdict(float)
    macs: dict[str, int] = defaultdict(int)
    for layer in layers:
        ms[layer.kind] += layer.ms
        macs[layer.kind] += layer.macs
    kinds = {kind: KindProfile(ms=round(ms[kind], 4), macs=macs[kind],
                               share_macs=round(macs[kind] / total_macs, 4) if total_macs else 0.0,
                               share_time=round(ms[kind] / total_ms, 4) if total_ms else 0.0)
             for kind in KINDS}
    return round(total_ms, 4), kinds


def profile_model(model_id: str, precision: str = "int8", device: str = "CPU", *,
                  warmup: int = DEFAULT_WARMUP, requests: int = DEFAULT_REQUESTS,
                  threads: int | None = None,
                  should_stop: Callable[[], bool] | None = None) -> Profile:
    """Per-layer and per-kind time and MACs of one request of a built model (see METHOD)."""
    import numpy as np

    from mnviewer.engine import check_device, read_prepared
    from mnviewer.models import builder as build

    if requests < 1 or warmup < 0:
        raise UsageError(f"profiling needs at least 1 request and no negative warm-up "
                         f"(got {requests} and {warmup})")
    device = check_device(device)
    built = build.ensure_built(model_id, precision)
    size = int(built.meta["input_size"][0])
    model = read_prepared(built, None, raw=True)
    kinds = layer_kinds(model)
    compiled = compile_profiled(model, device, threads, precision,
                                what=f"{model_id} {precision}")
    data = np.random.default_rng(0).integers(0, 256, (1, size, size, 3), dtype=np.uint8)
    times = node_times(compiled, data, warmup=warmup, requests=requests,
                       should_stop=should_stop)
    executing = _executing(compiled, device)
    if not times:
        raise DeviceError(f"device {executing} gives no performance counters: "
                          "profile on CPU")
    precisions = _runtime_precisions(compiled)
    layers = []
    for name, (ms, info) in times.items():
        kind, macs = kinds.get(name, ("other", 0))
        layers.append(LayerProfile(
            name=name, kind=kind, macs=macs, ms=round(ms, 5), exec_type=str(info.exec_type),
            precision=precisions.get(name) or _precision_of(str(info.exec_type)),
            node_type=str(info.node_type)))
    total_ms, per_kind = summarise(layers)
    return Profile(model=model_id, precision=precision, device=executing, total_ms=total_ms,
                   kinds=per_kind, layers=tuple(layers), warmup=warmup, requests=requests,
                   macs=sum(layer.macs for layer in layers))


def _executing(compiled: ov.CompiledModel, device: str) -> str:
    try:
        return ",".join(str(d) for d in compiled.get_property("EXECUTION_DEVICES")) or device
    except RuntimeError:
        return device


def profile_table(profile: Profile) -> str:
    """Per kind: ms, MACs and the two shares side by side, for a terminal."""
    head = f"{'kind':12} {'ms':>8} {'MMACs':>9} {'share of MACs':>14} {'share of time':>14}"
    lines = [f"{profile.model} {profile.precision} on {profile.device}: "
             f"{profile.total_ms:.3f} ms in layers per request "
             f"(median of {profile.requests} requests after {profile.warmup} warm-up)",
             head, "-" * len(head)]
    for kind, k in profile.kinds.items():
        lines.append(f"{KIND_TITLES[kind]:12} {k.ms:8.3f} {k.macs / 1e6:9.2f} "
                     f"{k.share_macs:14.1%} {k.share_time:14.1%}")
    return "\n".join(lines)


def layers_table(profile: Profile, limit: int | None = None) -> str:
    """Layers, slowest first."""
    rows = sorted(profile.layers, key=lambda layer: layer.ms, reverse=True)[:limit]
    head = f"{'layer':40} {'kind':10} {'ms':>8} {'MMACs':>8} {'kernel':28} precision"
    lines = [head, "-" * len(head)]
    for layer in rows:
        lines.append(f"{layer.name[:40]:40} {layer.kind:10} {layer.ms:8.4f} "
                     f"{layer.macs / 1e6:8.2f} {layer.exec_type[:28]:28} {layer.precision}")
    return "\n".join(lines)
