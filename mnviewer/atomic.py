"""Small file helpers: atomic writes and one-line reasons from exceptions."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from mnviewer.errors import OutputError


def temp_name(path: Path) -> Path:
    """A hidden sibling name unique to this process, for writing before a rename."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}-{threading.get_ident()}"
                          f"{path.suffix}")


def with_extension(path: Path, kind: str) -> Path:
    """`path`, with '.kind' added when its name does not end in it (any letter case)."""
    return path if path.suffix.lower() == f".{kind}" else path.with_name(f"{path.name}.{kind}")


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


def write_bytes_durable(path: Path, data: bytes, *, hint: str = "choose another path") -> None:
    """Temporary name, fsync, rename: the file is either the old one or the whole new one,
    also after a power loss."""
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path} ({exc.strerror or exc}): free disk space or "
                          f"{hint}") from exc


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def reason(exc: BaseException) -> str:
    """The informative line of a (possibly multi-line) runtime error message."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Exception from", "Check '"))]
    text = (useful or lines or [type(exc).__name__])[-1]
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 200 else text[:197] + "..."
