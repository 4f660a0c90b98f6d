"""Command line: argument parsing and dispatch; the only place that exits the process."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from mnviewer import __version__
from mnviewer.errors import MnviewerError

# Each module under mnviewer.commands registers its subcommands with `register(subparsers)`.
COMMAND_MODULES = ("models", "evaluate", "run", "batch", "bench", "compare",
                   "profile", "devices", "gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnviewer",
        description="Live MobileNet classification with OpenVINO, and its speed against "
        "full convolution. With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"mnviewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mnviewer.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        code = args.func(args)
    except MnviewerError as exc:
        print(f"mnviewer: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mnviewer: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


def run() -> None:
    # OpenCV and FFmpeg print their own warnings for every bad file; the CLI says it in one line.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    sys.exit(main())


if __name__ == "__main__":
    run()
