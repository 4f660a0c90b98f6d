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
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import cv2
import numpy as np

from mnviewer.atomic import temp_name, write_text_atomic
from mnviewer.engine import Engine
from mnviewer.errors import OutputError, UsageError
from mnviewer.pipeline import FrameResult, Pipeline, percentiles
from mnviewer.sources import FrameSource, SourceEvent


def check_writable(path: Path, what: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder: give a file name")
    if not folder.is_dir():
        raise UsageError(f"cannot write {what} {path}: folder {folder} does not exist; "
                         "create it or choose another path")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{what} {path} is not writable: choose another path")


VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv")


def check_outputs(out: str | None, summary: Path | None, video: Path | None) -> None:
    """Fail before any work when an output path cannot be written."""
    for path, what in ((summary, "summary file"), (video, "video file")):
        if path is not None:
            check_writable(path, what)
    if video is not None and video.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"video file {video} must end in .mp4, .avi or .mkv: "
                         "choose such a name")
    if out not in (None, "-"):
        check_writable(Path(str(out)), "output file")


class JsonlWriter:
    """One JSON object per line, flushed per line; a failed write leaves only whole lines."""

    def __init__(self, target: str):
        self.name = target
        self._stdout = target == "-"
        try:
            # Kept open across the run and closed in close(): one flush per frame.
            self._fh: IO[str] = sys.stdout if self._stdout else open(  # noqa: SIM115
                target, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputError(f"cannot write {target} ({exc.strerror}): choose another "
                              "--out") from exc
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
        self._good += len(line)  # json.dumps escapes to ASCII: characters are bytes

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
        self._tmp = temp_name(path)
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            self._size = (w, h)
            writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter.fourcc(*"mp4v"),
                                     self.fps, self._size)
            if not writer.isOpened():
                raise OutputError(f"cannot write video {self.path}: choose an .mp4 path")
            self._writer = writer
            self.frames = 0
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size)
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        """Finish the file and rename it into place; a video that failed to write is removed."""
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if not self._tmp.is_file() or self._tmp.stat().st_size == 0:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write video {self.path}: free disk space or choose "
                              "another --save-video path")
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
    # Told of skipped images and of a live source lost and back (from a capture thread).
    on_event: Callable[[SourceEvent], None] | None = None
    skipped: int = 0

    def __post_init__(self) -> None:
        check_outputs(self.out, self.summary_path, self.video_path)
        self.pipeline = Pipeline(self.source, self.engine, top_k=self.top_k,
                                 max_frames=self.max_frames)

    def stop(self, reason: str = "interrupted") -> None:
        self.interrupted = reason
        self.pipeline.stop()
        if self.source.info.live:
            # A live read waits up to its timeout, again and again while the source is lost:
            # closing the source from aside ends the wait now.
            threading.Thread(target=self.source.close, name="close source", daemon=True).start()

    def run(self) -> dict:
        """Process the frames; the summary is written even when stopped or failing midway."""
        writer = JsonlWriter(self.out) if self.out else None
        recorder = VideoRecorder(self.video_path, self.source.info.fps or 30.0) \
            if self.video_path else None
        error: BaseException | None = None
        self.source.listen(self._event)
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
            # The listener refers back to this run: drop it, or the cycle keeps the compiled
            # model alive into interpreter shutdown.
            self.source.listen(None)
            summary = self._finish(results, writer, recorder, error)
        return summary

    def _event(self, event: SourceEvent) -> None:
        if event.kind == "skipped":
            self.skipped += 1
        if self.on_event is not None:
            self.on_event(event)

    def _finish(self, results: object, writer: JsonlWriter | None,
                recorder: VideoRecorder | None, error: BaseException | None) -> dict:
        """Close everything, each step on its own, and write the summary in any case."""
        failures: list[BaseException] = []
        for step in (getattr(results, "close", None),
                     writer.close if writer else None, recorder.close if recorder else None):
            if step is None:
                continue
            try:
                step()
            except Exception as exc:
                failures.append(exc)
        summary = self.summary(error or (failures[0] if failures else None))
        if self.summary_path is not None:
            write_json_atomic(self.summary_path, summary)
        if failures and error is None:
            raise failures[0]
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
            "post_ms": percentiles(totals.post_ms),
            "total_ms": percentiles(totals.total_ms),
            "model": self.engine.model_id,
            "precision": self.engine.precision,
            "device": self.engine.executing_device,
            "top1_counts": dict(self.top1_counts.most_common()),
            "reconnects": self.source.reconnects,
            "lost_s": round(self.source.lost_s, 3),
            "source": {"name": info.name, "kind": info.kind, "width": info.width,
                       "height": info.height, "fps": info.fps,
                       "dropped": self.source.dropped, "truncated": self.source.truncated,
                       "skipped": self.skipped},
            "interrupted": self.interrupted,
            "error": str(error) if error is not None and not isinstance(error, KeyboardInterrupt)
            else None,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def write_json_atomic(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


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
    if summary.get("reconnects") or summary.get("lost_s"):
        lines.append(f"source lost {summary['lost_s']:.1f} s in all, back "
                     f"{summary['reconnects']}x")
    if summary.get("interrupted"):
        lines.append(f"stopped early: {summary['interrupted']}")
    return "\n".join(lines)
