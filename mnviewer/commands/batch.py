"""`mnviewer batch`: classify many recorded sources, in this process or on a Ray cluster."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from mnviewer.commands.run import DEFAULT_MODEL
from mnviewer.models.catalog import PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "batch", help="classify many video files or image folders, optionally on Ray",
        description="Classify every frame of many sources into DIR/<source>.jsonl and "
        "DIR/<source>.summary.json, and write DIR/summary.json. Complete outputs are skipped, "
        "so running the same command again finishes what is missing. Exit codes: 0 ok, 2 bad "
        "arguments, 3 a source failed on every try (the others complete), 4 model or device "
        "error, 6 output error, 130/143 stopped by Ctrl+C/SIGTERM (summary.json is written; a "
        "second Ctrl+C stops at once).",
    )
    cmd.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="video file, folder (searched recursively; a folder of images is one "
                     "source), glob, or @list.txt (one source per line)")
    cmd.add_argument("--out-dir", required=True, type=Path, metavar="DIR")
    cmd.add_argument("--model", default=DEFAULT_MODEL, metavar="ID")
    cmd.add_argument("--precision", default="int8", choices=PRECISIONS)
    cmd.add_argument("--device", default="CPU", help="CPU, GPU, NPU, AUTO, ...")
    cmd.add_argument("--top-k", type=int, default=5, metavar="K", help="labels per frame (1-10)")
    cmd.add_argument("--max-frames", type=int, metavar="N", help="at most N frames per source")
    cmd.add_argument("--ray", metavar="ADDRESS",
                     help="run on Ray: 'local' starts a cluster on this machine, 'auto' joins a "
                     "running one (or RAY_ADDRESS), or ray://HOST:PORT")
    cmd.add_argument("--workers", type=int, metavar="N",
                     help="sources in progress at once on Ray (default: the CPUs of the "
                     "cluster divided by --threads-per-worker)")
    cmd.add_argument("--threads-per-worker", type=int, metavar="T",
                     help="inference threads per source (default on --ray local: this "
                     "machine's cores divided by --workers; on a cluster: 1; without --ray: "
                     "all cores)")
    cmd.add_argument("--retries", type=int, default=3, metavar="R",
                     help="tries after the first for a source that fails or whose worker dies")
    cmd.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    cmd.set_defaults(func=_cmd_batch)


def _check_args(args: argparse.Namespace) -> None:
    from mnviewer.engine import check_top_k
    from mnviewer.errors import UsageError

    check_top_k(args.top_k)
    for name in ("max_frames", "workers", "threads_per_worker"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} {value} must be at least 1")
    if args.retries < 0:
        raise UsageError(f"--retries {args.retries} must be 0 or more")
    if args.workers is not None and args.ray is None:
        raise UsageError("--workers needs --ray: without it the sources run one after another")


def _threads(args: argparse.Namespace) -> int | None:
    import os

    if args.threads_per_worker or args.ray is None:
        return args.threads_per_worker
    if args.ray == "local":
        return max(1, (os.cpu_count() or 1) // (args.workers or os.cpu_count() or 1))
    return 1


def _cmd_batch(args: argparse.Namespace) -> int:
    from mnviewer.batch.plan import Expected, SourceTask, plan_sources, prepare_out_dir
    from mnviewer.batch.runner import BatchRun, Executor, InProcess, Outcome
    from mnviewer.batch.worker import WorkerSetup, ship_model
    from mnviewer.engine import check_device
    from mnviewer.models.catalog import load_catalog

    _check_args(args)
    if args.ray is not None:
        from mnviewer.batch.cluster import check_ray_installed

        check_ray_installed()
    load_catalog().get(args.model)
    device = check_device(args.device)
    tasks = plan_sources(args.sources, args.out_dir)
    prepare_out_dir(args.out_dir)
    # Pinned threads of several workers on one machine would land on the same cores.
    shared = args.ray is not None and not (args.ray == "local" and args.workers == 1)
    setup = WorkerSetup(args.model, args.precision, device, args.top_k, args.max_frames,
                        _threads(args), share_cores=shared)
    expected = Expected(args.model, args.precision, args.top_k, args.max_frames)

    def failed(task: SourceTask, outcome: Outcome) -> None:
        why = str(outcome.reason)
        named = why if task.path in why else f"{task.path}: {why}"
        print(f"mnviewer: error: {named}", file=sys.stderr)

    job = BatchRun(tasks, args.out_dir, expected, quiet=args.quiet, on_failure=failed)
    cleanup: list = []

    def make_executor() -> Executor:
        if args.ray is None:
            return InProcess(setup, args.retries)
        from mnviewer.batch.cluster import RayExecutor

        executor = RayExecutor(args.ray, setup, ship_model(args.model, args.precision),
                               args.workers, args.retries)
        cleanup.append(executor)
        return executor.__enter__()

    codes: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
    stopped: list[int] = []
    stop_batch: list = []

    def on_signal(signum: int, _frame: object) -> None:
        if stopped:  # a second signal: stop at once
            for s, handler in previous.items():
                signal.signal(s, handler)
            raise KeyboardInterrupt
        stopped.append(codes[signum])
        for stop in stop_batch:
            stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in codes}
    try:
        summary = job.run(make_executor, stop_hook=stop_batch.append)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for executor in cleanup:
            executor.__exit__(None, None, None)
    if not args.quiet:
        print(f"batch: {summary['files']} files ({summary['done']} done, {summary['skipped']} "
              f"skipped, {summary['failed']} failed, {summary['pending']} not finished), "
              f"{summary['frames']} frames; {summary['wall_s']:.1f} s, {summary['fps']:.1f} "
              f"FPS on new frames; summary in {args.out_dir / 'summary.json'}", file=sys.stderr)
    if stopped:
        return stopped[0]
    return 3 if summary["failed"] else 0
