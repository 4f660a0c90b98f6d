"""`mnviewer eval`: top-1 and top-5 of a model over a labelled image folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mnviewer.models.catalog import PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "eval", help="top-1/top-5 accuracy over a folder of labelled images",
        description="Accuracy of one model over a folder with index.csv (file,imagenet_index; "
        "0-based ImageNet classes; the 1001-class models' background output is skipped). "
        "Images are centre-cropped to 87.5%% and resized inside the compiled model.",
    )
    cmd.add_argument("--model", required=True, metavar="ID")
    cmd.add_argument("--precision", default="int8", choices=PRECISIONS)
    cmd.add_argument("--device", default="CPU")
    cmd.add_argument("--images", required=True, type=Path, metavar="DIR")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(func=_cmd_eval)


def _cmd_eval(args: argparse.Namespace) -> int:
    from mnviewer.engine import Engine
    from mnviewer.evaluate import evaluate, load_labelled_images
    from mnviewer.models.catalog import load_catalog

    load_catalog().get(args.model)
    images = load_labelled_images(args.images)
    result = evaluate(Engine(args.model, args.precision, args.device), images)
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        print(f"{result.model} {result.precision} on {result.device}: "
              f"top-1 {result.top1:.1%}  top-5 {result.top5:.1%}  ({result.images} images)")
    return 0
