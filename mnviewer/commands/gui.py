"""`mnviewer gui` (and `mnviewer` with no command): the desktop app."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnviewer.models.catalog import PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `gui` command to the top-level subparsers."""
    cmd = subparsers.add_parser(
        "gui", help="open the desktop app (the default command)",
        description="Live classification with a side-by-side comparison against full "
        "convolution. Without options the window restores the last source, model, precision "
        "and device; on a first run it opens the first camera, else the demo video.",
    )
    cmd.add_argument("--source", metavar="SRC",
                     help="camera index, video or image file, image folder or stream URL; "
                     "'demo' for the demo video")
    cmd.add_argument("--model", metavar="ID", help="model id (see 'mnviewer models list')")
    cmd.add_argument("--precision", choices=PRECISIONS)
    cmd.add_argument("--device", help="CPU, GPU, NPU, AUTO, ... (see 'mnviewer devices')")
    cmd.add_argument("--quit-after", type=int, metavar="N",
                     help="process N frames, then close (for tests and smoke tests)")
    cmd.add_argument("--screenshot", type=Path, metavar="FILE",
                     help="with --quit-after: save a PNG of the whole window before closing")
    cmd.set_defaults(func=_cmd_gui)


def _check(args: argparse.Namespace) -> None:
    from mnviewer.engine import check_device
    from mnviewer.errors import UsageError
    from mnviewer.models.catalog import load_catalog

    if args.model is not None:
        load_catalog().get(args.model)
    if args.device is not None:
        args.device = check_device(args.device)
    if args.quit_after is not None and args.quit_after < 1:
        raise UsageError(f"--quit-after {args.quit_after} must be at least 1")
    if args.screenshot is not None:
        if args.quit_after is None:
            raise UsageError("--screenshot needs --quit-after N (the shot is taken then)")
        folder = args.screenshot.parent
        if not folder.is_dir():
            raise UsageError(f"screenshot folder {folder} does not exist: create it first")


def _cmd_gui(args: argparse.Namespace) -> int:
    # Qt is imported only now, so the other commands start without it.
    _check(args)
    from mnviewer.gui.app import GuiOptions, run_app

    return run_app(GuiOptions(source=args.source, model=args.model, precision=args.precision,
                              device=args.device, quit_after=args.quit_after,
                              screenshot=args.screenshot))
