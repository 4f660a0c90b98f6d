"""`mnviewer compare`: two variants on the same frames, with their top-1 agreement."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mnviewer.comparison import ComparisonStats, PairPipeline, VariantSpec
    from mnviewer.engine import Engine

HELP = """\
Run every frame of a source through two variants, A and B, each
SPEC = model[:precision[:device]] (precision int8, fp16 or fp32, default int8; device as
`mnviewer devices` lists it, default CPU). The two take turns on each frame, one request at a
time each, so neither latency includes the other's work; the next frame is decoded meanwhile.

Reported: frames, each side's latency p50/p90 (OpenVINO's time for the request), MACs and
params, speedup = B's p50 / A's p50 (above 1: A is faster), mac_ratio = B's MACs / A's MACs,
top1_agreement = share of frames where both name the same class, and the number of frames
where they disagree. Exit codes: 0 ok, 2 bad arguments or SPEC, 3 source error, 4 a variant
fails to build or compile, 6 output failed, 130/143 stopped by Ctrl+C/SIGTERM (the JSON is
still written)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "compare", help="two model variants side by side on the same frames",
        description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("--source", required=True, metavar="SRC",
                     help="video file, image file or folder, camera index, or stream URL; "
                     "'demo' for the demo video")
    cmd.add_argument("--a", required=True, metavar="SPEC", help="variant A, e.g. "
                     "mobilenet-v1-1.0-224:int8:CPU")
    cmd.add_argument("--b", required=True, metavar="SPEC", help="variant B, e.g. "
                     "mobilenet-v1-1.0-224:fp32")
    cmd.add_argument("--max-frames", type=int, metavar="N")
    cmd.add_argument("--json", metavar="FILE", help="write the result as JSON ('-' for stdout, "
                     "the header then goes to stderr)")
    cmd.add_argument("--realtime", action="store_true",
                     help="pace files at their native FPS instead of as fast as possible")
    cmd.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from mnviewer.commands.run import resolve_source
    from mnviewer.comparison import ComparisonStats, PairPipeline, Side, parse_variant
    from mnviewer.errors import UsageError
    from mnviewer.headless import check_writable
    from mnviewer.sources import open_source

    spec_a, spec_b = parse_variant(args.a), parse_variant(args.b)
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames {args.max_frames} must be at least 1")
    to_stdout = args.json == "-"
    if args.json and not to_stdout:
        check_writable(Path(args.json), "JSON file")
    source = open_source(resolve_source(args.source), realtime=args.realtime)
    with source:
        engines = [_engine(spec, flag, (source.info.height, source.info.width))
                   for spec, flag in ((spec_a, "--a"), (spec_b, "--b"))]
        stats = ComparisonStats(Side.of_engine(engines[0], spec_a),
                                Side.of_engine(engines[1], spec_b))
        pipeline = PairPipeline(source, engines[0], engines[1], max_frames=args.max_frames,
                                overlap_read=not (args.realtime or source.info.live))
        if spec_a == spec_b:
            print(f"mnviewer: note: A and B are the same variant ({spec_a}): agreement is 1.0 "
                  "by construction and the latencies show the run-to-run spread",
                  file=sys.stderr)
        name = source.info.name
        if source.info.kind in ("video", "images"):
            name = Path(name).name
        stopped = _run(pipeline, stats, f"mnviewer: comparing A {spec_a.label} with B "
                       f"{spec_b.label} on {name} (Ctrl+C stops and keeps the result)")
    result = stats.to_json()
    text = json.dumps(result, indent=1)
    header = _header(stats, pipeline.frames, pipeline.wall_s, name)
    print(header, file=sys.stderr if to_stdout else sys.stdout)
    if to_stdout:
        print(text)
    elif args.json:
        from mnviewer.atomic import write_text_atomic

        write_text_atomic(Path(args.json), text + "\n")
    return stopped


def _engine(spec: VariantSpec, flag: str, source_hw: tuple[int, int]) -> Engine:
    from mnviewer.engine import Engine
    from mnviewer.errors import ModelError

    try:
        return Engine(spec.model_id, spec.precision, spec.device, hint="LATENCY",
                      source_hw=source_hw)
    except ModelError as exc:
        raise type(exc)(f"variant {flag} {spec}: {exc}") from exc


def _run(pipeline: PairPipeline, stats: ComparisonStats, announce: str) -> int:
    """Feed every pair to the statistics; a signal stops the loop, its exit code returned."""
    codes: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
    stopped: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if stopped:
            raise KeyboardInterrupt
        stopped.append(codes[signum])
        pipeline.stop()

    previous = {s: signal.signal(s, on_signal) for s in codes}
    print(announce, file=sys.stderr, flush=True)
    try:
        add = stats.add
        for pair in pipeline:
            add(pair.a.top[0].index, pair.a.infer_ms, pair.b.top[0].index, pair.b.infer_ms)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return stopped[0] if stopped else 0


def _header(stats: ComparisonStats, frames: int, wall_s: float, source_name: str) -> str:
    from mnviewer.comparison import summary_text

    fps = frames / wall_s if wall_s > 0 else 0.0
    return (f"{source_name}: {frames} frames in {wall_s:.2f} s ({fps:.1f} pairs/s)\n"
            + summary_text(stats))
