"""Which sources a batch covers, where each one's outputs go, and which are already complete."""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mnviewer.errors import OutputError, UsageError
from mnviewer.sources import IMAGE_EXTENSIONS

VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg",
                              ".mpeg", ".ts", ".wmv", ".flv", ".3gp"})
PARTIAL_MARK = ".partial-"  # in the names mnviewer.atomic.temp_name gives


@dataclass(frozen=True)
class SourceTask:
    """One source and its two output files (absolute paths as strings: sent to workers)."""

    path: str
    rel: str  # output name relative to the output folder, without .jsonl
    jsonl: str
    summary: str
    size: int  # bytes of the video, or of all images of an image folder


@dataclass(frozen=True)
class Expected:
    """What a finished output must record to be reused: the same model run on the same input."""

    model: str
    precision: str
    top_k: int
    max_frames: int | None


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith(".")


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in IMAGE_EXTENSIONS)


def _walk(folder: Path, skip: Path) -> list[Path]:
    """Video files under `folder`, and each folder holding images (one source each)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and Path(os.path.abspath(here / d)) != skip)
        if any(Path(f).suffix.lower() in IMAGE_EXTENSIONS and not f.startswith(".")
               for f in files):
            found.append(here)
        found.extend(here / f for f in sorted(files) if _is_video(here / f))
    return found


def _expand(spec: str, skip: Path, base: Path) -> list[Path]:
    if spec.startswith("@"):
        listing = (base / Path(spec[1:]).expanduser())
        try:
            lines = listing.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"list file {listing} is not readable ({exc.strerror}): "
                             "check the path after '@'") from exc
        found: list[Path] = []
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#"):
                found.extend(_expand(line, skip, listing.parent))
        return found
    path = base / Path(spec).expanduser()
    if any(ch in spec for ch in "*?["):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            raise UsageError(f"{spec} matches no file: check the pattern")
        return [p for m in matches for p in _expand_path(Path(m), skip)]
    if not path.exists():
        raise UsageError(f"source {spec} not found: check the path")
    found = _expand_path(path, skip)
    if not found:
        raise UsageError(f"folder {spec} holds no videos or images: choose another folder")
    return found


def _expand_path(path: Path, skip: Path) -> list[Path]:
    return _walk(path, skip) if path.is_dir() else [path]


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in _images_in(path))
    return path.stat().st_size


def plan_sources(specs: list[str], out_dir: Path) -> list[SourceTask]:
    """Every source the arguments name, in order, with its output paths under out_dir.

    Output names are the sources' paths relative to their deepest common folder, so sources
    from different folders never share an output name.
    """
    out = Path(os.path.abspath(out_dir))
    seen: dict[Path, None] = {}
    for spec in specs:
        for path in _expand(spec, out, Path.cwd()):
            seen.setdefault(Path(os.path.abspath(path)), None)
    paths = list(seen)
    if not paths:
        raise UsageError("no sources given: name video files, folders, globs or @list.txt")
    root = Path(os.path.commonpath([p.parent for p in paths]))
    tasks = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        base = out / rel
        tasks.append(SourceTask(str(path), rel, f"{base}.jsonl", f"{base}.summary.json",
                                _size(path)))
    return tasks


def prepare_out_dir(out_dir: Path) -> int:
    """Create the output folder and remove temporary files left by killed attempts."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {out_dir} ({exc.strerror}): "
                          "choose another --out-dir") from exc
    if not os.access(out_dir, os.W_OK):
        raise OutputError(f"output folder {out_dir} is not writable: choose another --out-dir")
    return remove_partials(out_dir)


def remove_partials(out_dir: Path) -> int:
    """Remove mnviewer's temporary files under out_dir (only while no attempt is running);
    returns how many there were."""
    removed = 0
    for root, _dirs, files in os.walk(out_dir):
        for name in files:
            if name.startswith(".") and PARTIAL_MARK in name:
                Path(root, name).unlink(missing_ok=True)
                removed += 1
    return removed


def finished_frames(task: SourceTask, expected: Expected) -> int | None:
    """The frame count of a complete earlier output of this source, else None.

    Complete means: the summary (renamed into place after the JSONL) exists, records the same
    model, precision, labels per frame, frame limit and source size, and the run ended cleanly.
    """
    try:
        summary = json.loads(Path(task.summary).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or not Path(task.jsonl).is_file():
        return None
    batch = summary.get("batch") or {}
    same = (summary.get("model") == expected.model
            and summary.get("precision") == expected.precision
            and batch.get("top_k") == expected.top_k
            and batch.get("max_frames") == expected.max_frames
            and batch.get("source_bytes") == task.size
            and not summary.get("interrupted") and not summary.get("error"))
    frames = summary.get("frames")
    return frames if same and isinstance(frames, int) else None
