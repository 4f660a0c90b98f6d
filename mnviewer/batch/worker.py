"""One source of a batch: the headless run of `mnviewer run`, written exactly once.

The JSONL goes to a temporary name, is fsynced and renamed; the summary follows the same way and
is renamed last, so a summary in place means both files are complete. An attempt that dies
leaves only a temporary file, which the next run removes. The same function runs in the
command's own process and in Ray workers (`run_on_worker`), which compile the model once each.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mnviewer.atomic import reason, temp_name, write_bytes_durable
from mnviewer.batch.plan import SourceTask
from mnviewer.engine import Engine
from mnviewer.errors import OutputError
from mnviewer.headless import HeadlessRun


class Stopped(Exception):
    """The source's run was stopped before its end: nothing of it was kept."""


@dataclass(frozen=True)
class WorkerSetup:
    """How every source of a batch is run; also the key of a worker's compiled model."""

    model: str
    precision: str
    device: str
    top_k: int
    max_frames: int | None
    threads: int | None  # INFERENCE_NUM_THREADS; None lets OpenVINO use every core
    share_cores: bool = False  # several workers on one machine: no CPU pinning


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform or file system allows it
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def process_source(task: SourceTask, engine: Engine, setup: WorkerSetup,
                   on_start: Callable[[HeadlessRun], None] | None = None) -> dict:
    """Classify every frame of one source into its JSONL and summary; returns the summary.

    Raises Stopped when the run was stopped early (the partial output is removed), and the
    source's or output's error when it fails.
    """
    from mnviewer.sources import open_source

    jsonl, summary_path = Path(task.jsonl), Path(task.summary)
    try:
        jsonl.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {jsonl.parent} ({exc.strerror}): choose another "
                          "--out-dir") from exc
    tmp_jsonl = temp_name(jsonl)
    try:
        with open_source(task.path) as source:
            job = HeadlessRun(source, engine, top_k=setup.top_k, max_frames=setup.max_frames,
                              out=str(tmp_jsonl))
            if on_start is not None:
                on_start(job)
            summary = job.run()
        if job.interrupted:
            raise Stopped(job.interrupted)
        summary["batch"] = {"source_path": task.path, "source_bytes": task.size,
                            "top_k": setup.top_k, "max_frames": setup.max_frames}
        try:
            _fsync_file(tmp_jsonl)
            os.replace(tmp_jsonl, jsonl)
        except OSError as exc:
            raise OutputError(f"cannot write {jsonl} ({exc.strerror or exc}): free disk space "
                              "or choose another --out-dir") from exc
        write_bytes_durable(summary_path, (json.dumps(summary, indent=1) + "\n").encode(),
                            hint="choose another --out-dir")
        _fsync_dir(jsonl.parent)
        return summary
    finally:
        tmp_jsonl.unlink(missing_ok=True)


# --- in a Ray worker ------------------------------------------------------------------------

ShippedModel = dict  # {"id", "precision", "files": {name: bytes}}
_engines: dict[WorkerSetup, Engine] = {}


def ship_model(model_id: str, precision: str) -> ShippedModel:
    """The built model's files as bytes, to compile on workers that lack them."""
    from mnviewer.models.builder import LABELS, META, ensure_built

    built = ensure_built(model_id, precision)
    names = [built.xml.name, built.xml.with_suffix(".bin").name, META, LABELS]
    return {"id": model_id, "precision": precision,
            "files": {name: (built.folder / name).read_bytes() for name in names}}


def install_shipped(shipped: ShippedModel) -> None:
    """Make the shipped model findable here unless this machine's cache already holds it.

    The files go to a folder of their own that mnviewer reads as prebuilt models (checked by
    size), so a worker on another machine never needs the model's sources.
    """
    from mnviewer.models.builder import find_built

    if find_built(shipped["id"], shipped["precision"]) is not None:
        return
    digest = hashlib.sha256()
    for name in sorted(shipped["files"]):
        digest.update(name.encode() + shipped["files"][name])
    root = Path(tempfile.gettempdir()) / "mnviewer-shipped" / digest.hexdigest()[:16]
    folder = root / shipped["id"]
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in shipped["files"].items():
        tmp = temp_name(folder / name)
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)
    os.environ["MNVIEWER_BUNDLED_MODELS"] = str(root)


def worker_engine(setup: WorkerSetup, shipped: ShippedModel | None) -> Engine:
    """This process's compiled model for `setup`, compiled on first use."""
    engine = _engines.get(setup)
    if engine is None:
        from mnviewer.engine import core

        if shipped is not None:
            install_shipped(shipped)
        if setup.share_cores:
            # Workers sharing a machine each get their share of threads; pinned threads
            # of several processes would land on the same cores.
            core().set_property("CPU", {"ENABLE_CPU_PINNING": False})
        engine = Engine(setup.model, setup.precision, setup.device, hint="THROUGHPUT",
                        threads=setup.threads)
        _engines[setup] = engine
    return engine


def run_on_worker(task: SourceTask, setup: WorkerSetup,
                  shipped: ShippedModel | None = None) -> dict:
    """The task Ray runs: one source; returns what the driver needs of its summary.

    A failing source returns its reason instead of raising: the driver decides whether to try
    again, and Ray's own retries stay for workers and nodes that die.
    """
    try:
        summary = process_source(task, worker_engine(setup, shipped), setup)
    except Exception as exc:
        return {"error": reason(exc)}
    return {"frames": summary["frames"], "truncated": summary["source"]["truncated"]}
