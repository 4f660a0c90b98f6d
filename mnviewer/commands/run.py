"""`mnviewer run`: headless classification of a video, camera, images or stream."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mnviewer.models.catalog import PRECISIONS

if TYPE_CHECKING:
    from mnviewer.sources import SourceEvent

DEFAULT_MODEL = "mobilenet-v1-1.0-224"


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "run", help="classify a video, camera, image folder or stream without a window",
        description="Classify every frame of a source and write per-frame results and a "
        "summary. Exit codes: 0 ok, 2 bad arguments, 3 source error, 4 model or device "
        "error, 6 output failed while writing, 130/143 stopped by Ctrl+C/SIGTERM (the "
        "summary is still written).",
    )
    cmd.add_argument("--source", required=True, metavar="SRC",
                     help="video file, image file or folder, camera index, or stream URL; "
                     "'demo' for the demo video")
    cmd.add_argument("--model", default=DEFAULT_MODEL, metavar="ID")
    cmd.add_argument("--precision", default="int8", choices=PRECISIONS)
    cmd.add_argument("--device", default="CPU", help="CPU, GPU, NPU, AUTO, HETERO:..., ...")
    cmd.add_argument("--top-k", type=int, default=5, metavar="K", help="labels per frame (1-10)")
    cmd.add_argument("--out", metavar="FILE", help="per-frame JSONL ('-' for stdout)")
    cmd.add_argument("--summary", type=Path, metavar="FILE", help="summary JSON")
    cmd.add_argument("--save-video", type=Path, metavar="FILE", help="annotated .mp4")
    cmd.add_argument("--max-frames", type=int, metavar="N")
    cmd.add_argument("--realtime", action="store_true",
                     help="pace files at their native FPS instead of as fast as possible")
    cmd.add_argument("--quiet", action="store_true", help="no summary table on stderr")
    cmd.set_defaults(func=_cmd_run)


def resolve_source(text: str) -> str:
    """'demo' means the demo video, fetched into the cache (or found in the bundle)."""
    if text != "demo":
        return text
    from mnviewer.models import fetch

    return str(fetch.demo_video())


def _warn(event: SourceEvent) -> None:
    """One line on stderr per skipped image, lost source and source back."""
    print(f"mnviewer: warning: {event.text}", file=sys.stderr, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from mnviewer.engine import Engine, check_device, check_top_k
    from mnviewer.errors import UsageError
    from mnviewer.headless import HeadlessRun, check_outputs, summary_table
    from mnviewer.models.catalog import load_catalog
    from mnviewer.sources import open_source

    check_top_k(args.top_k)
    if args.max_frames is not None and args.max_frames < 1:
        raise UsageError(f"--max-frames {args.max_frames} must be at least 1")
    load_catalog().get(args.model)
    check_device(args.device)  # before a camera or stream is opened for nothing
    check_outputs(args.out, args.summary, args.save_video)
    source = open_source(resolve_source(args.source), realtime=args.realtime)
    with source:
        # Files run as fast as possible: keep every core busy. Live and paced sources want each
        # frame's answer soonest.
        hint = "LATENCY" if source.info.live or args.realtime else "THROUGHPUT"
        engine = Engine(args.model, args.precision, args.device, hint=hint,
                        source_hw=(source.info.height, source.info.width))
        job = HeadlessRun(source, engine, top_k=args.top_k, max_frames=args.max_frames,
                          out=args.out, summary_path=args.summary, video_path=args.save_video,
                          on_event=_warn)
        codes: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
        stopped: list[int] = []

        def on_signal(signum: int, _frame: object) -> None:
            if stopped:  # a second signal: stop waiting for a graceful end
                for s, handler in previous.items():
                    signal.signal(s, handler)
                raise KeyboardInterrupt
            stopped.append(codes[signum])
            job.stop(signal.Signals(signum).name)

        previous = {s: signal.signal(s, on_signal) for s in codes}
        try:
            summary = job.run()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    if source.truncated:
        info = source.info
        print(f"mnviewer: warning: video {info.name} ended after {summary['frames']} of its "
              f"{info.frame_count} frames (cut short or damaged): the results cover the frames "
              "that decode; replace the file to get them all", file=sys.stderr)
    if not args.quiet:
        print(summary_table(summary), file=sys.stderr)
    return stopped[0] if stopped else 0
