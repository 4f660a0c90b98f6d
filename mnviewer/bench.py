"""Benchmark of model variants: latency, throughput, MACs, params, top-1, speed-up over full conv.

The method is stated where users read it: `mnviewer bench --help` (mnviewer.commands.bench).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import openvino as ov

from mnviewer.engine import Engine
from mnviewer.models.catalog import load_catalog, twin_of
from mnviewer.pipeline import percentiles

if TYPE_CHECKING:
    from mnviewer.chart import ChartPoint

WARMUP_S = 0.3
ProgressFn = Callable[[int, int, str], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class BenchRow:
    id: str
    precision: str
    device: str
    latency_ms: dict  # {"p50": ..., "p90": ...}
    throughput_fps: float
    macs: int
    params: int
    top1: float | None
    speedup_vs_fullconv: float | None = None  # twin latency p50 / this latency p50
    mac_ratio: float | None = None  # twin MACs / these MACs
    requests: int = 1
    published_top1: float | None = None  # the checkpoint's published ImageNet top-1
    top1_source: str = ""  # where it is published (or why there is none)
    requested_device: str = ""  # as asked for (AUTO, HETERO:...), when not the executing one

    def as_dict(self) -> dict:
        return asdict(self)


def _input_for(engine: Engine) -> np.ndarray:
    r = engine.input_size
    return np.random.default_rng(0).integers(0, 256, (1, r, r, 3), dtype=np.uint8)


def latency_request(engine: Engine) -> ov.InferRequest:
    """A request with a fixed uint8 input at the model's resolution already set."""
    request = engine.compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(_input_for(engine), shared_memory=True))
    return request


def time_calls(call: Callable[[], object], seconds: float,
               warmup_s: float = WARMUP_S) -> list[float]:
    """Wall time (ms) of back-to-back calls for `seconds`, after `warmup_s` not recorded."""
    clock = time.perf_counter
    end = clock() + warmup_s
    while clock() < end:
        call()
    samples: list[float] = []
    end = clock() + seconds
    while True:
        t0 = clock()
        call()
        t1 = clock()
        samples.append((t1 - t0) * 1e3)
        if t1 >= end:
            return samples


def measure_latency(engine: Engine, seconds: float) -> list[float]:
    """Wall time (ms) of back-to-back synchronous requests, warm-up excluded."""
    return time_calls(latency_request(engine).infer, seconds)


def measure_throughput(engine: Engine, seconds: float) -> float:
    """Frames per second with every request kept busy, warm-up excluded."""
    data = _input_for(engine)
    queue = ov.AsyncInferQueue(engine.compiled, engine.requests)
    count = [0]

    def done(_request: ov.InferRequest, _userdata: object) -> None:
        count[0] += 1

    queue.set_callback(done)

    def run_for(duration: float) -> tuple[int, float]:
        start_count, start = count[0], time.perf_counter()
        while time.perf_counter() - start < duration:
            queue.start_async({0: data}, None, share_inputs=True)
        queue.wait_all()
        return count[0] - start_count, time.perf_counter() - start

    run_for(WARMUP_S)
    frames, elapsed = run_for(seconds)
    return frames / elapsed if elapsed > 0 else 0.0


def bench_variant(model_id: str, precision: str, device: str, seconds: float,
                  images: list | None = None) -> BenchRow:
    """Latency, throughput and (with images) top-1 of one variant."""
    lat_engine = Engine(model_id, precision, device, hint="LATENCY", raw_input=True)
    samples = measure_latency(lat_engine, seconds)
    tput_engine = Engine(model_id, precision, device, hint="THROUGHPUT", raw_input=True)
    fps = measure_throughput(tput_engine, seconds)
    top1 = None
    if images:
        from mnviewer.evaluate import evaluate

        top1 = evaluate(Engine(model_id, precision, device), images).top1
    spec = load_catalog().get(model_id)
    return BenchRow(
        id=model_id, precision=precision, device=lat_engine.executing_device,
        latency_ms=percentiles(samples, (50, 90), digits=4),
        throughput_fps=round(fps, 1), macs=lat_engine.macs, params=lat_engine.params,
        top1=top1, requests=tput_engine.requests,
        requested_device="" if lat_engine.device == lat_engine.executing_device
        else lat_engine.device,
        published_top1=spec.published_top1, top1_source=spec.top1_source,
    )


def with_speedups(rows: list[BenchRow]) -> list[BenchRow]:
    """Fill each MobileNet's speed-up over its -fullconv twin, when the twin was measured."""
    by_key = {(r.id, r.precision, r.device): r for r in rows}
    catalog = load_catalog()
    out = []
    for row in rows:
        twin_id = twin_of(catalog.get(row.id))
        twin = by_key.get((twin_id, row.precision, row.device)) if twin_id else None
        if twin is not None and row.latency_ms["p50"] > 0:
            row = replace(row,
                          speedup_vs_fullconv=round(twin.latency_ms["p50"]
                                                    / row.latency_ms["p50"], 2),
                          mac_ratio=round(twin.macs / row.macs, 2))
        out.append(row)
    return out


def run_benchmark(model_ids: list[str], precisions: list[str], devices: list[str], *,
                  seconds: float = 2.0, images: Path | None = None,
                  on_progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> list[BenchRow]:
    """Benchmark every (model, precision, device); rows in that order, with speed-ups."""
    labelled = None
    if images is not None:
        from mnviewer.evaluate import load_labelled_images

        labelled = load_labelled_images(images)
    plan = [(m, p, d) for m in model_ids for p in precisions for d in devices]
    rows: list[BenchRow] = []
    for i, (model_id, precision, device) in enumerate(plan):
        if should_stop is not None and should_stop():
            break
        if on_progress is not None:
            on_progress(i, len(plan), f"{model_id} {precision} {device}")
        rows.append(bench_variant(model_id, precision, device, seconds, labelled))
    if on_progress is not None:
        on_progress(len(rows), len(plan), "done")
    return with_speedups(rows)


FIELDS = ("id", "precision", "device", "latency_p50_ms", "latency_p90_ms", "throughput_fps",
          "macs", "params", "top1", "speedup_vs_fullconv", "mac_ratio", "published_top1")


def rows_to_json(rows: list[BenchRow]) -> str:
    return json.dumps([r.as_dict() for r in rows], indent=1)


def rows_to_csv(rows: list[BenchRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    for r in rows:
        writer.writerow([r.id, r.precision, r.device, r.latency_ms["p50"], r.latency_ms["p90"],
                         r.throughput_fps, r.macs, r.params,
                         "" if r.top1 is None else r.top1,
                         "" if r.speedup_vs_fullconv is None else r.speedup_vs_fullconv,
                         "" if r.mac_ratio is None else r.mac_ratio,
                         "" if r.published_top1 is None else r.published_top1])
    return buf.getvalue()


def rows_to_table(rows: list[BenchRow]) -> str:
    """A fixed-width table for the terminal."""
    dw = max([6, *(len(_series(r)) for r in rows)])
    head = (f"{'model':34} {'prec':5} {'device':{dw}} {'p50 ms':>8} {'p90 ms':>8} {'FPS':>8} "
            f"{'MACs':>8} {'params':>7} {'top-1':>6}  speed-up vs full conv")
    lines = [head, "-" * len(head)]
    for r in rows:
        top1 = "-" if r.top1 is None else f"{r.top1:.1%}"
        if r.top1 is None and r.published_top1 is not None:
            top1 = f"{r.published_top1:.1%}*"
        speed = "" if r.speedup_vs_fullconv is None else (
            f"{r.speedup_vs_fullconv:.1f}x faster, {r.mac_ratio:.1f}x fewer MACs")
        lines.append(f"{r.id:34} {r.precision:5} {_series(r):{dw}} {r.latency_ms['p50']:8.3f} "
                     f"{r.latency_ms['p90']:8.3f} {r.throughput_fps:8.1f} "
                     f"{r.macs / 1e6:7.0f}M {r.params / 1e6:6.2f}M {top1:>6}  {speed}")
    if any(r.top1 is None and r.published_top1 is not None for r in rows):
        lines.append("* published ImageNet top-1 of the checkpoint (its source is named in "
                     "models/catalog.json); --images DIR measures top-1 here")
    return "\n".join(lines)


def short_label(model_id: str, precision: str) -> str:
    """E.g. 'v1-0.25-128 int8' for a chart point."""
    return f"{model_id.removeprefix('mobilenet-')} {precision}"


def _series(row: BenchRow) -> str:
    """The chart series of a row: its device, with what was asked for when that differs."""
    if row.requested_device and row.requested_device != row.device:
        return f"{row.requested_device} ({row.device})"
    return row.device


def chart_points(rows: list[BenchRow]) -> list[ChartPoint]:
    """One chart point per row: measured top-1 when the row has one, else the published one."""
    from mnviewer.chart import ChartPoint

    points = []
    for r in rows:
        measured = r.top1 is not None
        note = ""
        if not measured and r.published_top1 is None:
            if "untrained" in r.top1_source:
                note = "untrained"
            elif r.top1_source.startswith("not published"):
                note = "not published"
        points.append(ChartPoint(
            label=short_label(r.id, r.precision), series=_series(r),
            top1=r.top1 if measured else r.published_top1,
            top1_kind="measured" if measured else "published",
            latency_ms=r.latency_ms.get("p50"), macs=r.macs, params=r.params, note=note))
    return points


def chart_footnote(rows: list[BenchRow], images: Path | None = None) -> str:
    """Where the chart's top-1 figures come from."""
    parts = []
    if images is not None and any(r.top1 is not None for r in rows):
        from mnviewer.evaluate import INDEX_FILE

        try:
            lines = (images / INDEX_FILE).read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        n = sum(1 for line in lines[1:] if line.strip())
        parts.append(f"filled: top-1 measured on {images.name} ({n} labelled images)")
    published = [r for r in rows if r.top1 is None and r.published_top1 is not None]
    if published:
        source = published[0].top1_source.split(":", 1)[0].split(",")[0]
        parts.append(f"hollow: published ImageNet top-1 of each checkpoint ({source}; "
                     "twins share their MobileNet's weights and predictions)")
    return "; ".join(parts)


def write_chart(path: Path, rows: list[BenchRow], axis: str = "latency",
                images: Path | None = None) -> None:
    """The accuracy-against-cost chart of benchmark rows, as .png or .svg."""
    from mnviewer.chart import save_chart

    titles = {"latency": "ImageNet top-1 against measured latency",
              "macs": "ImageNet top-1 against mult-adds",
              "params": "ImageNet top-1 against parameters"}
    save_chart(path, chart_points(rows), axis, title=titles[axis],
               footnote=chart_footnote(rows, images))
