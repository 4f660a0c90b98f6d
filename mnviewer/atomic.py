"""Small file helpers: atomic writes and one-line reasons from exceptions."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from mnviewer.errors import OutputError


def temp_name(path: Path) -> Path:
    """A hidden sibling name unique to this process, for writing before a rename."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}-{threading.get_ident()}"
                          f"{path.suffix}")


def write_text_atomic(path: Path, text: str, *, hint: str = "choose another path") -> None:
    """Write under a temporary name, then rename: never a half-written file at `path`."""
    tmp = temp_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path} ({exc.strerror or exc}): free disk space or "
                          f"{hint}") from exc


def reason(exc: BaseException) -> str:
    """The informative line of a (possibly multi-line) runtime error message."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Exception from", "Check '"))]
    text = (useful or lines or [type(exc).__name__])[-1]
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 200 else text[:197] + "..."
