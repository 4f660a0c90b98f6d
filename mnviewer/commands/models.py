"""`mnviewer models ...`: fetch source files, build OpenVINO IR, list and describe models."""

from __future__ import annotations

import argparse
import json
import sys
import time

from mnviewer.models.catalog import Catalog, ModelSpec, load_catalog

# OpenVINO and the fetchers are imported where used: every command's parser is built at each
# start, and `mnviewer --help` or `mnviewer run` should not pay for them.


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `models` command and its actions to the top-level subparsers."""
    parser = subparsers.add_parser(
        "models", help="fetch and manage the models",
        description="Fetch and manage the MobileNet models mnviewer knows.",
    )
    actions = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    _register_fetch(actions)
    _register_build(actions)
    _register_list(actions)
    _register_add(actions)


def _register_fetch(actions: argparse._SubParsersAction) -> None:
    fetch = actions.add_parser(
        "fetch", help="download or copy the models' source files into the cache",
        description="Get the source files of the given models (all models and the demo video "
        "when no ID is given) from the cache, the folders or URLs in MNVIEWER_MIRROR, or "
        "their pinned URLs; every file is sha256-checked.",
    )
    fetch.add_argument("ids", nargs="*", metavar="ID", help="model id (default: all models)")
    fetch.set_defaults(func=_cmd_fetch)


def _cmd_fetch(args: argparse.Namespace) -> int:
    from mnviewer.models.fetch import fetch_with_origin, files_for_models

    catalog = load_catalog()
    specs = catalog.resolve(args.ids)
    names = files_for_models(specs, include_demo=not args.ids, catalog=catalog)
    # A progress bar only helps a person watching; in a pipe or log it is noise.
    progress = sys.stderr.isatty()
    for name in names:
        fetched = fetch_with_origin(catalog.sources[name], progress=progress)
        print(f"ok {name} (from {fetched.origin})", flush=True)
    return 0


def _register_build(actions: argparse._SubParsersAction) -> None:
    cmd = actions.add_parser(
        "build", help="convert models to OpenVINO IR (int8, fp16, fp32) in the cache",
        description="Build OpenVINO IR for the given models (all, with their -fullconv twins, "
        "when no ID is given). Fetches missing source files first. Incremental: a model whose "
        "sources and builder are unchanged is not built again unless --force.",
    )
    cmd.add_argument("ids", nargs="*", metavar="ID", help="model id (default: all models)")
    cmd.add_argument("--precision", default="int8,fp16,fp32",
                     help="comma-separated precisions (default: int8,fp16,fp32)")
    cmd.add_argument("--force", action="store_true", help="rebuild even if up to date")
    cmd.set_defaults(func=_cmd_build)


def _cmd_build(args: argparse.Namespace) -> int:
    from mnviewer.models import builder as build

    catalog = load_catalog()
    specs = catalog.resolve(args.ids)
    precisions = build.parse_precisions(args.precision)
    start = time.perf_counter()
    built = build.build_models(
        specs, precisions, force=args.force, catalog=catalog,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    for item in built:
        print(f"ok {item.id} {item.precision} {item.xml}")
    print(f"built {len(built)} model files in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    return 0


def _register_list(actions: argparse._SubParsersAction) -> None:
    lister = actions.add_parser("list", help="list the models with MACs, parameters and status")
    lister.add_argument("--json", action="store_true", help="print JSON instead of a table")
    lister.set_defaults(func=_cmd_list)
    info = actions.add_parser("info", help="everything known about one model")
    info.add_argument("id", metavar="ID")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_cmd_info)


def describe(spec: ModelSpec, catalog: Catalog) -> dict:
    """A model's numbers (counted from its built graph) and status, as printed by list/info."""
    from mnviewer.models import builder as build
    from mnviewer.models.catalog import twin_of
    from mnviewer.models.fetch import is_fetched

    found = build.find_all_built(spec.id)
    precisions = [b.precision for b in found]
    meta = found[0].meta if found else {}
    licenses = sorted({catalog.sources[n].license for n in spec.model_sources}) or ["Apache-2.0"]
    row = {
        "id": spec.id,
        "family": spec.family,
        "width": spec.width,
        "macs": meta.get("macs"),
        "params": meta.get("params"),
        "input_size": [spec.resolution, spec.resolution],
        "classes": spec.classes,
        "precisions": precisions,
        "built": bool(precisions),
        "fetched": all(is_fetched(n, catalog=catalog) for n in spec.sources),
        "trained": spec.trained,
        "fullconv_of": spec.base_id or None,
        "twin": twin_of(spec),
        "license": ", ".join(licenses),
        "origin": spec.origin,
    }
    if spec.origin == "user":
        record = spec.user
        row.update(
            available=list(spec.precisions), format=record["format"], file=record["file"],
            preprocessing=record["preprocessing"], labels_from=record["labels_from"],
            background_class=record["background_class"],
            int8={"native": "from the file's quantization",
                  "calibrated": "NNCF post-training quantization"}.get(record.get("int8") or "",
                                                                       "not available"),
        )
        if record.get("calibration"):
            row["calibration"] = record["calibration"]
    return row


def _register_add(actions: argparse._SubParsersAction) -> None:
    add = actions.add_parser(
        "add", help="import your own image classifier (.tflite, .onnx or OpenVINO IR)",
        description="Import an image classifier so that every command and the app take it like "
        "a built-in model: int8/fp16/fp32 and, with depthwise convolutions, a '-fullconv' twin. "
        "The file is copied into the cache. Preprocessing is read from the file (TFLite "
        "metadata and input quantization, ONNX metadata_props, the Model API's model_info in "
        "an IR); the options override it. Mean and scale are in 0..255 pixel units: the model "
        "gets (pixel - mean) / scale.",
    )
    add.add_argument("file", metavar="FILE", help=".tflite, .onnx, or IR .xml (with its .bin)")
    add.add_argument("--id", dest="model_id", help="model id (default: from the file name)")
    add.add_argument("--labels", metavar="FILE", help="labels, one per line, in output order")
    add.add_argument("--mean", metavar="V[,V,V]", help="mean per channel, in pixel units")
    add.add_argument("--scale", metavar="V[,V,V]", help="scale per channel, in pixel units")
    order = add.add_mutually_exclusive_group()
    order.add_argument("--rgb", dest="channels", action="store_const", const="RGB",
                       help="the model takes RGB input")
    order.add_argument("--bgr", dest="channels", action="store_const", const="BGR",
                       help="the model takes BGR input")
    add.add_argument("--layout", type=str.upper, choices=("NCHW", "NHWC"),
                     help="the input's layout, when the graph does not say")
    add.add_argument("--input-size", type=int, metavar="N",
                     help="the input's side, when the graph does not fix it")
    add.add_argument("--calibration", metavar="DIR",
                     help="images for int8 of a float model (NNCF; 300 are enough)")
    add.add_argument("--force", action="store_true", help="replace a model of the same id")
    add.add_argument("--json", action="store_true", help="print the imported model as JSON")
    add.set_defaults(func=_cmd_add)
    remove = actions.add_parser("remove", help="remove an imported model and its built files")
    remove.add_argument("id", metavar="ID")
    remove.set_defaults(func=_cmd_remove)


def _cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mnviewer.models.importer import ImportOptions, parse_values
    from mnviewer.models.user import import_model

    options = ImportOptions(
        model_id=args.model_id, labels=Path(args.labels) if args.labels else None,
        mean=parse_values(args.mean, "--mean"), scale=parse_values(args.scale, "--scale"),
        channels=args.channels, layout=args.layout, input_size=args.input_size,
        calibration=Path(args.calibration) if args.calibration else None, force=args.force,
    )
    start = time.perf_counter()
    # Progress helps a person watching; in a log, only the result and errors matter.
    watching = sys.stderr.isatty()
    model_id = import_model(Path(args.file), options, show_progress=watching,
                            progress=lambda msg: print(msg, file=sys.stderr, flush=True)
                            if watching else None)
    catalog = load_catalog()
    info = describe(catalog.get(model_id), catalog)
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print(f"ok {model_id}: {_millions(info['macs'])} MACs, {_millions(info['params'])} "
              f"params, {','.join(info['precisions'])}"
              + (f", twin {info['twin']}" if info.get("twin") else ""))
        if "int8" not in info["precisions"]:
            print(f"no int8 for {model_id}: it is a float model; import it again with "
                  "--calibration DIR --force to quantize it", file=sys.stderr)
    if watching:
        print(f"imported in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    from mnviewer.models.user import remove_model

    remove_model(args.id)
    print(f"removed {args.id}")
    return 0


def _millions(value: int | None) -> str:
    return "-" if value is None else f"{value / 1e6:.1f}M"


def _cmd_list(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    rows = [describe(spec, catalog) for spec in catalog.models]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'id':36} {'MACs':>8} {'params':>8} {'input':>7}  {'built':16} fetched")
    for row in rows:
        note = "" if row["trained"] else "  (untrained speed reference)"
        note += "  (yours)" if row["origin"] == "user" else ""
        print(f"{row['id']:36} {_millions(row['macs']):>8} {_millions(row['params']):>8} "
              f"{row['input_size'][0]:>7}  {','.join(row['precisions']) or '-':16} "
              f"{'yes' if row['fetched'] else 'no'}{note}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from mnviewer.models import builder as build

    catalog = load_catalog()
    spec = catalog.get(args.id)
    info = describe(spec, catalog)
    info["paper"] = {"macs": spec.paper_macs or None, "params": spec.paper_params or None}
    info["sources"] = [
        {"name": n, "url": catalog.sources[n].url, "sha256": catalog.sources[n].sha256,
         "license": catalog.sources[n].license} for n in spec.sources
    ]
    info["files"] = {b.precision: str(b.xml) for b in build.find_all_built(spec.id)}
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    for key, value in info.items():
        if key == "sources":
            for src in value:
                print(f"{'source':12} {src['name']} ({src['license']}) {src['url']}")
        elif key == "files":
            for precision, path in value.items():
                print(f"{precision + ' IR':12} {path}")
        else:
            print(f"{key:12} {value}")
    return 0
