"""Drives a batch: skips complete outputs, hands the rest to an executor (this process or Ray),
retries, reports progress and writes DIR/summary.json, also when stopped."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mnviewer.atomic import reason, write_bytes_durable
from mnviewer.batch.plan import Expected, SourceTask, finished_frames, remove_partials
from mnviewer.batch.worker import Stopped, WorkerSetup, process_source
from mnviewer.engine import Engine
from mnviewer.headless import HeadlessRun


@dataclass
class Outcome:
    """How one source ended in this run."""

    status: str  # "done", "skipped", "failed", "pending" (not reached: the batch was stopped)
    frames: int = 0
    reason: str | None = None
    truncated: bool = False


Record = Callable[[SourceTask, Outcome], None]


class Executor(Protocol):
    def run(self, tasks: list[SourceTask], record: Record) -> None:
        """Run every task, calling record() as each one ends; return early once stopped."""

    def stop(self) -> None:
        """Stop submitting and stop the sources in progress (callable from a signal handler)."""


class InProcess:
    """The sources one after another in this process, with one compiled model."""

    def __init__(self, setup: WorkerSetup, retries: int):
        self.setup = setup
        self.retries = retries
        self._stopped = False
        self._job: HeadlessRun | None = None
        self._engine: Engine | None = None

    def run(self, tasks: list[SourceTask], record: Record) -> None:
        self._compiled()  # a model or device that fails ends the batch here (exit 4)
        for task in tasks:
            if self._stopped:
                return
            outcome = self._run_one(task)
            if outcome is None:
                return
            record(task, outcome)

    def _run_one(self, task: SourceTask) -> Outcome | None:
        why = ""
        for _ in range(self.retries + 1):
            try:
                summary = process_source(task, self._compiled(), self.setup,
                                         on_start=self._started)
            except Stopped:
                return None
            except Exception as exc:  # one source's failure never ends the batch
                why = reason(exc)
                if self._stopped:
                    return None
                continue
            finally:
                self._job = None
            return Outcome("done", summary["frames"],
                           truncated=bool(summary["source"]["truncated"]))
        return Outcome("failed", reason=f"{why} (tried {self.retries + 1} times)")

    def _compiled(self) -> Engine:
        if self._engine is None:
            s = self.setup
            self._engine = Engine(s.model, s.precision, s.device, hint="THROUGHPUT",
                                  threads=s.threads)
        return self._engine

    def _started(self, job: HeadlessRun) -> None:
        self._job = job
        if self._stopped:
            job.stop()

    def stop(self) -> None:
        self._stopped = True
        job = self._job
        if job is not None:
            job.stop("stopped")


class Progress:
    """Files and frames done with an ETA: a tqdm bar on a terminal, plain lines otherwise."""

    def __init__(self, total: int, quiet: bool = False):
        self.total = total
        self.quiet = quiet
        self.files = 0
        self.frames = 0
        self.started = time.perf_counter()
        self._bar = None
        if not quiet and total and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="file", file=sys.stderr, desc="batch")

    def advance(self, frames: int) -> None:
        self.files += 1
        self.frames += frames
        if self._bar is not None:
            self._bar.set_postfix(frames=self.frames, refresh=False)
            self._bar.update(1)
        elif not self.quiet:
            spent = time.perf_counter() - self.started
            eta = spent / self.files * (self.total - self.files)
            print(f"batch: {self.files}/{self.total} files, {self.frames} frames, "
                  f"ETA {time.strftime('%H:%M:%S', time.gmtime(eta))}", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass
class BatchRun:
    """One batch over planned sources; `run()` returns the summary written to summary.json."""

    tasks: list[SourceTask]
    out_dir: Path
    expected: Expected
    quiet: bool = False
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    interrupted: str | None = None
    on_failure: Callable[[SourceTask, Outcome], None] | None = None

    def run(self, make_executor: Callable[[], Executor],
            stop_hook: Callable[[Callable[[str], None]], None] | None = None) -> dict:
        """Skip what is complete, run the rest with the executor, write summary.json."""
        started = time.perf_counter()
        todo = []
        for task in self.tasks:
            frames = finished_frames(task, self.expected)
            if frames is None:
                todo.append(task)
            else:
                self.outcomes[task.path] = Outcome("skipped", frames)
        progress = Progress(len(todo), self.quiet)
        executor: Executor | None = None

        def record(task: SourceTask, outcome: Outcome) -> None:
            self.outcomes[task.path] = outcome
            progress.advance(outcome.frames)
            if outcome.status == "failed" and self.on_failure is not None:
                self.on_failure(task, outcome)

        def stop(why: str) -> None:
            self.interrupted = why
            if executor is not None:
                executor.stop()

        if stop_hook is not None:
            stop_hook(stop)
        try:
            if todo:
                executor = make_executor()
                if self.interrupted:
                    executor.stop()
                executor.run(todo, record)
            if not self.interrupted:  # every attempt has ended: what is left is from dead ones
                remove_partials(self.out_dir)
        finally:
            progress.close()
        summary = self.summary(time.perf_counter() - started, progress.frames)
        write_json_durable(self.out_dir / "summary.json", summary)
        return summary

    def summary(self, wall_s: float, new_frames: int) -> dict:
        sources = []
        for task in self.tasks:
            outcome = self.outcomes.get(task.path, Outcome("pending"))
            entry: dict = {"source": task.path, "output": f"{task.rel}.jsonl",
                           "status": outcome.status, "frames": outcome.frames}
            if outcome.reason:
                entry["reason"] = outcome.reason
            if outcome.truncated:
                entry["truncated"] = True
            sources.append(entry)
        counts = {s: sum(e["status"] == s for e in sources)
                  for s in ("done", "skipped", "failed", "pending")}
        return {
            "files": len(self.tasks),
            "frames": sum(e["frames"] for e in sources),
            "wall_s": round(wall_s, 3),
            "fps": round(new_frames / wall_s, 2) if wall_s > 0 else 0.0,
            **counts,
            "model": self.expected.model,
            "precision": self.expected.precision,
            "interrupted": self.interrupted,
            "sources": sources,
        }


def write_json_durable(path: Path, data: dict) -> None:
    """Temporary name, fsync, rename: the file is either the old one or the whole new one."""
    write_bytes_durable(path, (json.dumps(data, indent=1) + "\n").encode("utf-8"),
                        hint="choose another --out-dir")
