"""`mnviewer bench`: latency, throughput, MACs, params and top-1 of model variants."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mnviewer.commands.run import DEFAULT_MODEL
from mnviewer.models.catalog import FULLCONV_SUFFIX, PRECISIONS

METHOD = """\
Method: each variant is compiled twice from the built IR, taking uint8 RGB at the model's own
resolution (no resize: the network alone, as LiteRT measures it). Latency: one request, LATENCY
hint, synchronous calls back to back; each call's wall time is recorded after a warm-up of
0.3 s that is excluded; p50 and p90 are reported. Throughput: THROUGHPUT hint, the device's
optimal number of requests kept busy for the same time; completed frames per second. Top-1
(with --images) runs the full pipeline, preprocessing included.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "bench", help="measure latency and throughput of model variants",
        description="Benchmark model variants on this machine.\n\n" + METHOD
        + "\nEach MobileNet measured together with its -fullconv twin (same precision and "
        "device) also gets its measured speed-up beside the theoretical MAC ratio.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = cmd.add_mutually_exclusive_group()
    which.add_argument("--model", nargs="+", action="extend", metavar="ID",
                       help="model ids (default: mobilenet-v1-1.0-224 and its twin)")
    which.add_argument("--all", action="store_true", help="every model and twin")
    cmd.add_argument("--precision", nargs="+", action="extend", choices=PRECISIONS,
                     metavar="P", help="int8, fp16, fp32 (default: int8)")
    cmd.add_argument("--device", nargs="+", action="extend", metavar="D",
                     help="devices, each measured as its own series (default: CPU)")
    cmd.add_argument("--seconds", type=float, default=2.0, metavar="S",
                     help="measuring time per variant and mode (default 2)")
    cmd.add_argument("--images", type=Path, metavar="DIR",
                     help="folder with index.csv for top-1")
    cmd.add_argument("--json", type=Path, metavar="FILE", help="write the rows as JSON")
    cmd.add_argument("--csv", type=Path, metavar="FILE", help="write the rows as CSV")
    cmd.add_argument("--plot", type=Path, action="append", metavar="FILE",
                     help="write the accuracy-against-cost chart (.png or .svg; repeat for "
                     "both): top-1 (measured with --images, else each checkpoint's published "
                     "figure, drawn hollow) against cost, one series per device, Pareto "
                     "front dashed")
    cmd.add_argument("--plot-axis", choices=("latency", "macs", "params"), default="latency",
                     help="the chart's x axis: measured latency p50 (default), MACs or "
                     "parameters, all log scale")
    cmd.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mnviewer import bench
    from mnviewer.atomic import write_text_atomic
    from mnviewer.engine import check_device
    from mnviewer.errors import UsageError
    from mnviewer.headless import check_writable
    from mnviewer.models.catalog import load_catalog

    catalog = load_catalog()
    wanted = None if args.all else args.model or [DEFAULT_MODEL, DEFAULT_MODEL + FULLCONV_SUFFIX]
    ids = [s.id for s in catalog.resolve(wanted)]
    if args.seconds <= 0:
        raise UsageError(f"--seconds {args.seconds} must be positive")
    devices = [check_device(d) for d in (args.device or ["CPU"])]
    for path, what in ((args.json, "JSON file"), (args.csv, "CSV file"),
                       *((p, "chart file") for p in args.plot or [])):
        if path is not None:
            check_writable(path, what)
    for path in args.plot or []:
        if path.suffix.lower() not in (".png", ".svg"):
            raise UsageError(f"chart file {path} must end in .png or .svg: choose such a name")
    precisions = list(dict.fromkeys(args.precision or ["int8"]))
    bar = tqdm(total=len(ids) * len(devices) * len(precisions), unit="variant",
               file=sys.stderr, disable=not sys.stderr.isatty())

    def progress(done: int, total: int, what: str) -> None:
        bar.n = done
        bar.set_description(what)
        bar.refresh()

    rows = bench.run_benchmark(ids, precisions, devices, seconds=args.seconds,
                               images=args.images, on_progress=progress)
    bar.close()
    print(bench.rows_to_table(rows))
    if args.json:
        write_text_atomic(args.json, bench.rows_to_json(rows))
    if args.csv:
        write_text_atomic(args.csv, bench.rows_to_csv(rows))
    for path in args.plot or []:
        bench.write_chart(path, rows, args.plot_axis, images=args.images)
    return 0
