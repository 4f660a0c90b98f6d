"""Headless mode: consumes the pipeline, writes per-frame JSONL, a summary and an annotated video.

Output is never left half-written: JSONL lines are written whole and flushed one by one (a
failed write is cut back to the last complete line), the summary and the video are written
under temporary names and renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from mnviewer.engine import Engine
from mnviewer.errors import OutputError, UsageError
from mnviewer.pipeline import FrameResult, Pipeline, percentiles
from mnviewer.sources import FrameSource


def _check_writable(path: Path, what: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder: give a file name")
    if not folder.is_dir():
        raise UsageError(f"cannot write {what} {path}: folder {folder} does not exist; "
                         "create it or choose another path")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{what} {path} is not writable: choose another path")


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


class JsonlWriter:
    """One JSON object per line, flushed per line; a failed write leaves only whole lines."""

    def __init__(self, target: str):
        self.name = target
        self._stdout = target == "-"
        # Kept open across the run and closed in close(): one flush per frame.
        self._fh: IO[str] = sys.stdout if self._stdout else open(  # noqa: SIM115
            target, "w", encoding="utf-8")
        self._good = 0

    def write(self, obj: dict) -> None:
        line = json.dumps(obj, separators=(",", ":")) + "\n"
        try:
            self._fh.write(line)
            self._fh.flush()
        except OSError as exc:
            self._cut_back()
            raise OutputError(f"cannot write {self.name} ({exc.strerror or exc}): free disk "
                              "space or choose another --out; the lines written so far are "
                              "complete") from exc
        self._good += len(line.encode())

    def _cut_back(self) -> None:
        if self._stdout:
            return
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            os.truncate(self.name, self._good)

    def close(self) -> None:
        if not self._stdout and not self._fh.closed:
            try:
                self._fh.close()
            except OSError:
                self._cut_back()


def frame_record(result: FrameResult) -> dict:
    return {
        "frame": result.index,
        "t_ms": round(result.frame.t_ms, 3),
        "top": [{"index": p.index, "label": p.label, "score": round(p.score, 5)}
                for p in result.top],
        "infer_ms": round(result.infer_ms, 3),
    }


def draw_overlay(image: np.ndarray, result: FrameResult) -> np.ndarray:
    """The frame with labels, scores, FPS and latency drawn on a copy."""
    out = image.copy()
    h, w = out.shape[:2]
    scale = max(0.4, min(w, h) / 720)
    lines = [f"{p.score:5.1%}  {p.label.split(',')[0]}" for p in result.top]
    lines.append(f"{result.fps:5.1f} FPS  {result.infer_p50_ms:.2f} ms  "
                 f"{result.model_id} {result.precision} {result.device}")
    step = int(26 * scale) + 4
    cv2.rectangle(out, (0, 0), (w, step * len(lines) + 8), (0, 0, 0), -1)
    for i, (line, p) in enumerate(zip(lines, [*result.top, None], strict=False)):
        y = step * (i + 1)
        if p is not None:
            cv2.rectangle(out, (4, y - step + 8), (4 + int(p.score * 120 * scale), y + 2),
                          (60, 160, 60), -1)
        cv2.putText(out, line, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (255, 255, 255),
                    1, cv2.LINE_AA)
    return out


class VideoRecorder:
    """Annotated frames into an .mp4 written under a temporary name, renamed when complete."""

    def __init__(self, path: Path, fps: float):
        self.path = path
        self.fps = fps if fps and fps > 0 else 30.0
        self._tmp = _temp_name(path)
        self._writer: cv2.VideoWriter | None = None

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            self._size = (w, h)
            self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter.fourcc(*"mp4v"),
                                           self.fps, self._size)
            if not self._writer.isOpened():
                raise OutputError(f"cannot write video {self.path}: choose an .mp4 path")
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size)
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            os.replace(self._tmp, self.path)


@dataclass
class HeadlessRun:
    """One headless run over a source: iterate `run()`; `stop()` ends it early from anywhere."""

    source: FrameSource
    engine: Engine
    top_k: int = 5
    max_frames: int | None = None
    out: str | None = None
    summary_path: Path | None = None
    video_path: Path | None = None
    interrupted: str | None = None
    top1_counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for path, what in ((self.summary_path, "summary file"), (self.video_path, "video file")):
            if path is not None:
                _check_writable(path, what)
        if self.out not in (None, "-"):
            _check_writable(Path(str(self.out)), "output file")
        self.pipeline = Pipeline(self.source, self.engine, top_k=self.top_k,
                                 max_frames=self.max_frames)

    def stop(self, reason: str = "interrupted") -> None:
        self.interrupted = reason
        self.pipeline.stop()

    def run(self) -> dict:
        """Process the frames; the summary is written even when stopped or failing midway."""
        writer = JsonlWriter(self.out) if self.out else None
        recorder = VideoRecorder(self.video_path, self.source.info.fps or 30.0) \
            if self.video_path else None
        error: BaseException | None = None
        results = iter(self.pipeline)
        try:
            for result in results:
                self.top1_counts[result.top[0].label] += 1
                if writer is not None:
                    writer.write(frame_record(result))
                if recorder is not None:
                    recorder.write(draw_overlay(result.frame.image, result))
        except BaseException as exc:
            error = exc
            raise
        finally:
            results.close()  # type: ignore[attr-defined]
            if writer is not None:
                writer.close()
            if recorder is not None:
                recorder.close()
            summary = self.summary(error)
            if self.summary_path is not None:
                write_json_atomic(self.summary_path, summary)
        return summary

    def summary(self, error: BaseException | None = None) -> dict:
        totals = self.pipeline.totals
        wall = totals.wall_s
        info = self.source.info
        return {
            "frames": totals.frames,
            "wall_s": round(wall, 3),
            "fps": round(totals.frames / wall, 2) if wall > 0 else 0.0,
            "infer_ms": percentiles(totals.infer_ms),
            "capture_ms": percentiles(totals.capture_ms),
            "total_ms": percentiles(totals.total_ms),
            "model": self.engine.model_id,
            "precision": self.engine.precision,
            "device": self.engine.executing_device,
            "top1_counts": dict(self.top1_counts.most_common()),
            "source": {"name": info.name, "kind": info.kind, "width": info.width,
                       "height": info.height, "fps": info.fps,
                       "dropped": self.source.dropped, "truncated": self.source.truncated},
            "interrupted": self.interrupted,
            "error": str(error) if error is not None and not isinstance(error, KeyboardInterrupt)
            else None,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def write_json_atomic(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write under a temporary name, then rename: never a half-written file at `path`."""
    tmp = _temp_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path} ({exc.strerror}): free disk space or choose "
                          "another path") from exc


def summary_table(summary: dict) -> str:
    """A short human-readable summary for stderr."""
    infer = summary["infer_ms"]
    top = list(summary["top1_counts"].items())[:3]
    lines = [
        f"{summary['model']} {summary['precision']} on {summary['device']}: "
        f"{summary['frames']} frames in {summary['wall_s']:.2f} s ({summary['fps']:.1f} FPS)",
        f"inference ms  p50 {infer['p50']:.2f}  p90 {infer['p90']:.2f}  p99 {infer['p99']:.2f}",
    ]
    if top:
        lines.append("top-1  " + "; ".join(f"{label.split(',')[0]}: {n}" for label, n in top))
    if summary.get("interrupted"):
        lines.append(f"stopped early: {summary['interrupted']}")
    return "\n".join(lines)
