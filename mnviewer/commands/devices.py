"""`mnviewer devices`: the inference devices OpenVINO sees on this machine."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser("devices", help="list the inference devices OpenVINO reports")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(func=_cmd_devices)


def describe_devices() -> list[dict]:
    """Id, full name, capabilities and (for the CPU) thread count of each device."""
    from mnviewer.engine import core, device_name

    c = core()
    rows = []
    for device in c.available_devices:
        row: dict = {"id": device, "name": device_name(device)}
        try:
            row["capabilities"] = [str(x) for x in c.get_property(device,
                                                                 "OPTIMIZATION_CAPABILITIES")]
        except RuntimeError:
            row["capabilities"] = []
        if device == "CPU":
            try:
                row["threads"] = int(c.get_property(device, "INFERENCE_NUM_THREADS")) or None
            except RuntimeError:
                row["threads"] = None
            if not row.get("threads"):
                import os

                row["threads"] = len(os.sched_getaffinity(0)) if hasattr(
                    os, "sched_getaffinity") else os.cpu_count()
        rows.append(row)
    return rows


def _cmd_devices(args: argparse.Namespace) -> int:
    rows = describe_devices()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        extra = f"  threads {row['threads']}" if "threads" in row else ""
        print(f"{row['id']:6} {row['name']}{extra}")
        print(f"{'':6} {', '.join(row['capabilities'])}")
    print("AUTO   picks the best present device (the executing one is reported when running)")
    return 0
