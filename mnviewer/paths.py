"""Where mnviewer keeps its files: the cache (MNVIEWER_HOME), the bundled read-only models."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent


def home() -> Path:
    """The writable cache folder: MNVIEWER_HOME, else the platform's user cache."""
    env = os.environ.get("MNVIEWER_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("mnviewer", appauthor=False))


def sources_dir() -> Path:
    return home() / "sources"


def models_dir() -> Path:
    return home() / "models"


def compile_cache_dir() -> Path:
    return home() / "ov-cache"


def data_root() -> Path:
    """Folder holding models/ and resources/: the checkout, or the frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    return PACKAGE_DIR.parent


def catalog_file() -> Path:
    return data_root() / "models" / "catalog.json"


def resources_dir() -> Path:
    return data_root() / "resources"


def bundled_models_dir() -> Path | None:
    """Read-only prebuilt models shipped inside a bundle, if any."""
    env = os.environ.get("MNVIEWER_BUNDLED_MODELS")
    path = Path(env) if env else data_root() / "prebuilt"
    return path if path.is_dir() else None


def bundled_sources_dir() -> Path | None:
    """Read-only source files (labels, demo video) shipped inside a bundle, if any."""
    path = data_root() / "prebuilt" / "sources"
    return path if path.is_dir() else None
