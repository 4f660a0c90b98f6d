"""Helpers shared by the test modules (no fixtures here: those live in the conftest.py files)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

# Every proxy variable urllib and FFmpeg honour: tests drop them all before setting their own.
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
              "all_proxy", "ALL_PROXY")


def closed_port() -> int:
    """A local TCP port nobody listens on, so a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mirror_list(shared_dir: Path) -> str:
    """The MNVIEWER_MIRROR value for the shared test data: its models/ and media/ folders."""
    return os.pathsep.join([str(shared_dir / "models"), str(shared_dir / "media")])
