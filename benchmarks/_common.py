"""Shared set-up for the benchmark scripts: an isolated cache with the ../shared mirror."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MNVIEWER_TEST_DATA", REPO.parent / "shared"))


def setup_env() -> Path:
    """Point mnviewer at the shared mirror; keep the user's cache unless MNVIEWER_HOME is set."""
    os.environ.setdefault(
        "MNVIEWER_MIRROR", os.pathsep.join([str(SHARED / "models"), str(SHARED / "media")]))
    os.environ.setdefault("MNVIEWER_HOME", str(Path(tempfile.gettempdir()) / "mnviewer-bench"))
    return SHARED
