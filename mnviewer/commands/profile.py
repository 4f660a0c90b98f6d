"""`mnviewer profile`: where one request of a model spends its time, layer by layer."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

from mnviewer.models.catalog import PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    from mnviewer.profiling import DEFAULT_REQUESTS, DEFAULT_WARMUP, KINDS, METHOD

    cmd = subparsers.add_parser(
        "profile", help="time per layer and per layer kind, from OpenVINO's counters",
        description=_wrap("Where one inference request spends its time: per layer (name, kind, "
        "MACs, time, executed kernel and precision) and per kind (" + ", ".join(KINDS)
        + "; pointwise = 1x1 convolutions, dense3x3 = the dense 3x3 convolutions of the "
        "full-convolution twins and Conv MobileNet) with their shares of MACs and of time.\n\n"
        + METHOD.replace(f"{DEFAULT_WARMUP} warm-up", "--warmup (default "
                         f"{DEFAULT_WARMUP}) warm-up").replace(
            f"over {DEFAULT_REQUESTS} synchronous", f"over --requests (default "
            f"{DEFAULT_REQUESTS}) synchronous")
        + "\n\nExit codes: 0 ok, 2 bad arguments, 4 model or device error (also a device "
        "without performance counters), 6 output failed."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("--model", required=True, metavar="ID")
    cmd.add_argument("--precision", default="int8", choices=PRECISIONS)
    cmd.add_argument("--device", default="CPU", help="CPU, GPU, NPU, ... (default CPU)")
    cmd.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, metavar="N",
                     help=f"requests run before counting (default {DEFAULT_WARMUP})")
    cmd.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, metavar="N",
                     help=f"requests measured, each layer's median taken (default "
                     f"{DEFAULT_REQUESTS})")
    cmd.add_argument("--layers", type=int, default=10, metavar="N",
                     help="slowest layers listed (default 10, 0 for none, -1 for all)")
    cmd.add_argument("--json", type=Path, metavar="FILE", help="write the profile as JSON")
    cmd.set_defaults(func=_cmd_profile)


def _wrap(text: str) -> str:
    return "\n\n".join(textwrap.fill(p, 90) for p in text.split("\n\n"))


def _cmd_profile(args: argparse.Namespace) -> int:
    from mnviewer.atomic import write_text_atomic
    from mnviewer.errors import UsageError
    from mnviewer.headless import check_writable
    from mnviewer.models.catalog import load_catalog
    from mnviewer.profiling import layers_table, profile_model, profile_table

    load_catalog().get(args.model)
    if args.requests < 1:
        raise UsageError(f"--requests {args.requests} must be at least 1")
    if args.warmup < 0:
        raise UsageError(f"--warmup {args.warmup} must not be negative")
    if args.json is not None:
        check_writable(args.json, "JSON file")
    profile = profile_model(args.model, args.precision, args.device, warmup=args.warmup,
                            requests=args.requests)
    print(profile_table(profile))
    if args.layers:
        print()
        print(layers_table(profile, None if args.layers < 0 else args.layers))
    if args.json is not None:
        write_text_atomic(args.json, json.dumps(profile.to_json(), indent=1) + "\n")
    return 0
