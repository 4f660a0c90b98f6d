"""Settings remembered between runs: one typed dataclass, stored as JSON in the config folder.

The folder is platformdirs' user_config_dir("mnviewer"), or MNVIEWER_CONFIG_DIR when set (tests
always set it). Unknown keys and values of the wrong type or out of range are dropped with a
warning, so a hand-edited or older file never stops the app from starting.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, get_type_hints

import platformdirs

from mnviewer.atomic import write_text_atomic
from mnviewer.engine import MAX_TOP_K
from mnviewer.errors import OutputError
from mnviewer.models.catalog import PRECISIONS

CONFIG_ENV = "MNVIEWER_CONFIG_DIR"
FILE_NAME = "settings.json"
DEFAULT_MODEL = "mobilenet-v1-1.0-224"
IMAGE_SECONDS_RANGE = (0.2, 600.0)


class SettingsWarning(UserWarning):
    """A stored setting was dropped: unknown key, wrong type or out of range."""


@dataclass
class Settings:
    """Everything the window restores at start."""

    source: str = ""  # "" means the default: the first camera, else the demo video
    model: str = DEFAULT_MODEL
    precision: str = "int8"
    device: str = "CPU"
    top_k: int = 5
    overlay: bool = True
    mirror: bool = False  # horizontal flip of the displayed picture
    plot: bool = True
    geometry: str = ""  # QWidget.saveGeometry() in base64
    snapshot_dir: str = ""  # "" means <Pictures>/mnviewer
    fetch_mirror: str = ""  # MNVIEWER_MIRROR for runs where the variable is not set
    image_seconds: float = 2.0  # how long each picture of an image folder stays on screen


_VALID: dict[str, Callable[[Any], bool]] = {
    "precision": lambda v: v in PRECISIONS,
    "top_k": lambda v: 1 <= v <= MAX_TOP_K,
    "model": lambda v: bool(v),
    "device": lambda v: bool(v),
    "image_seconds": lambda v: IMAGE_SECONDS_RANGE[0] <= v <= IMAGE_SECONDS_RANGE[1],
}


def config_dir() -> Path:
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("mnviewer", appauthor=False))


def settings_path() -> Path:
    return config_dir() / FILE_NAME


def snapshot_folder(settings: Settings) -> Path:
    """Where S puts snapshots and recordings unless a path is chosen."""
    if settings.snapshot_dir:
        return Path(settings.snapshot_dir).expanduser()
    return Path(platformdirs.user_pictures_dir()) / "mnviewer"


def parse_settings(data: object) -> Settings:
    """Settings from decoded JSON; anything unusable is dropped with a SettingsWarning."""
    if not isinstance(data, dict):
        warnings.warn("settings file does not hold an object: using defaults",
                      SettingsWarning, stacklevel=2)
        return Settings()
    types = get_type_hints(Settings)
    kept: dict[str, Any] = {}
    for key, value in data.items():
        expected = types.get(key)
        if expected is float and type(value) is int:
            value = float(value)  # a hand-edited file may say 3 for 3.0
        if expected is None:
            _drop(key, "unknown setting")
        elif type(value) is not expected:
            _drop(key, f"expected {expected.__name__}, found {type(value).__name__}")
        elif not _VALID.get(key, lambda _v: True)(value):
            _drop(key, f"value {value!r} is out of range")
        else:
            kept[key] = value
    return Settings(**kept)


def _drop(key: str, why: str) -> None:
    warnings.warn(f"setting '{key}' dropped ({why})", SettingsWarning, stacklevel=3)


def load_settings(path: Path | None = None) -> Settings:
    """The stored settings, or the defaults when there is no readable file."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        warnings.warn(f"cannot read {path} ({exc.strerror}): using defaults",
                      SettingsWarning, stacklevel=2)
        return Settings()
    try:
        data = json.loads(text)
    except ValueError:
        warnings.warn(f"{path} is not JSON: using defaults", SettingsWarning, stacklevel=2)
        return Settings()
    return parse_settings(data)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically (temporary file, then rename)."""
    path = path or settings_path()
    hint = f"set {CONFIG_ENV} to a writable folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot save settings to {path} ({exc.strerror}): {hint}") from exc
    write_text_atomic(path, json.dumps(asdict(settings), indent=1) + "\n", hint=hint)
