"""`mnviewer batch` on a real local Ray cluster: complete outputs, a worker or a node lost
mid-file, Ctrl+C then resume, a corrupt video, and a local cluster started and shut down.

Ray is a test requirement (`make test` installs mnviewer[cluster]): without it this module
fails to import rather than being skipped.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import ray  # noqa: F401  (a missing extra fails here)
from ray.cluster_utils import Cluster

from mnviewer.cli import main
from tests.integration.test_batch import (
    MODEL,
    cut_clip,
    make_corrupt,
    output_tree,
    read_jsonl,
    without_timings,
)

PARTIAL = re.compile(r"^\..*\.partial-(\d+)-\d+\.jsonl$")


@dataclass
class LocalCluster:
    """A head node without CPUs (the driver attaches there) and one worker node to lose."""

    cluster: Cluster
    node: object

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def replace_node(self) -> None:
        """Kill the worker node as a crash would, then bring up a fresh one."""
        self.cluster.remove_node(self.node, allow_graceful=False)
        self.node = self.cluster.add_node(num_cpus=2)
        self.cluster.wait_for_nodes()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[LocalCluster]:
    cluster = Cluster(initialize_head=True, connect=False, head_node_args={
        "num_cpus": 0,
        # Notice a lost node within seconds rather than the default half minute.
        "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4},
    })
    node = cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    yield LocalCluster(cluster, node)
    cluster.shutdown()


@pytest.fixture(scope="module")
def short_clips(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """Five different real 120-frame videos."""
    root = tmp_path_factory.mktemp("ray-clips")
    video = shared_dir / "media" / "bottle-detection.mp4"
    for i in range(5):
        cut_clip(video, root / f"clip{i}.mp4", 120, start=200 * i)
    return root


def start_batch(sources: list[Path], out: Path, *args: str) -> subprocess.Popen:
    """`mnviewer batch` in its own process (output to files: nothing blocks on a pipe)."""
    log = open(out.parent / f"{out.name}.log", "w")  # noqa: SIM115 (owned by the child)
    return subprocess.Popen(
        [sys.executable, "-m", "mnviewer", "batch", *map(str, sources), "--out-dir", str(out),
         "--model", MODEL, *args], stdout=log, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, out: Path, timeout: float = 300) -> tuple[int, str]:
    code = proc.wait(timeout=timeout)
    return code, (out.parent / f"{out.name}.log").read_text()


def wait_for(condition: Callable[[], object], what: str, timeout: float = 120) -> object:
    """Poll a condition on the file system until it holds (fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def partial_in_progress(out: Path, lines: int) -> Path | None:
    """A temporary JSONL that already holds at least `lines` lines."""
    for path in out.rglob(".*partial-*.jsonl") if out.exists() else []:
        try:
            if path.read_bytes().count(b"\n") >= lines:
                return path
        except FileNotFoundError:
            continue
    return None


def assert_complete(out: Path, name: str, frames: int) -> None:
    """The source's output holds every frame once, in order, and its summary says done."""
    lines = read_jsonl(out / f"{name}.jsonl")
    assert [line["frame"] for line in lines] == list(range(frames))
    summary = json.loads((out / "summary.json").read_text())
    entry = next(e for e in summary["sources"] if e["output"] == f"{name}.jsonl")
    assert (entry["status"], entry["frames"]) == ("done", frames)
    assert not list(out.rglob(".*partial*"))


def test_folder_of_shared_videos_gives_complete_outputs(ray_cluster: LocalCluster,
                                                        shared_dir: Path,
                                                        tmp_path: Path) -> None:
    media = shared_dir / "media"
    out = tmp_path / "out"
    code, log = finish(start_batch([media], out, "--ray", ray_cluster.address,
                                   "--workers", "2"), out)
    assert code == 0, log
    # The folder's videos, and the folder itself as one source of its photos.
    assert_complete(out, "media/bottle-detection.mp4", 1189)
    assert_complete(out, "media/car-detection.mp4", 377)
    assert_complete(out, "media", 8)
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["files"], summary["frames"], summary["done"]) == (3, 1189 + 377 + 8, 3)
    # Ray runs the very same per-source run as this process does.
    local = tmp_path / "local"
    assert main(["batch", str(media), "--out-dir", str(local), "--model", MODEL,
                 "--quiet"]) == 0
    assert output_tree(out) == output_tree(local)


def test_worker_killed_mid_file_loses_nothing(ray_cluster: LocalCluster, shared_dir: Path,
                                              tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = start_batch([shared_dir / "media" / "bottle-detection.mp4"], out,
                       "--ray", ray_cluster.address)
    partial = wait_for(lambda: partial_in_progress(out, 100), "a file half done")
    assert isinstance(partial, Path)
    match = PARTIAL.match(partial.name)
    assert match, partial.name
    os.kill(int(match.group(1)), signal.SIGKILL)  # the Ray worker writing it
    assert partial.exists()  # killed before its output was complete
    code, log = finish(proc, out)
    assert code == 0, log
    assert_complete(out, "bottle-detection.mp4", 1189)


def test_node_lost_mid_file_loses_nothing(ray_cluster: LocalCluster, shared_dir: Path,
                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    media = shared_dir / "media"
    proc = start_batch([media / "bottle-detection.mp4", media / "car-detection.mp4"], out,
                       "--ray", ray_cluster.address, "--workers", "2")
    partial = wait_for(lambda: partial_in_progress(out, 100), "a file half done")
    assert isinstance(partial, Path)
    ray_cluster.replace_node()
    assert partial.exists()  # lost before its output was complete
    code, log = finish(proc, out)
    assert code == 0, log
    assert_complete(out, "bottle-detection.mp4", 1189)
    assert_complete(out, "car-detection.mp4", 377)


def test_stopped_then_resumed_equals_uninterrupted(ray_cluster: LocalCluster,
                                                   short_clips: Path, tmp_path: Path) -> None:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    args = ("--ray", ray_cluster.address, "--workers", "2")
    code, log = finish(start_batch([short_clips], whole, *args), whole)
    assert code == 0, log

    proc = start_batch([short_clips], resumed, *args)
    wait_for(lambda: list(resumed.glob("*.summary.json")), "a first finished source")
    proc.send_signal(signal.SIGINT)
    code, log = finish(proc, resumed)
    assert code == 130, log
    stopped = json.loads((resumed / "summary.json").read_text())
    assert stopped["interrupted"] == "SIGINT"
    finished = [e["output"] for e in stopped["sources"] if e["status"] == "done"]
    assert finished and stopped["pending"] >= 1
    for name in finished:  # every source reported done is complete
        assert len(read_jsonl(resumed / name)) == 120

    code, log = finish(start_batch([short_clips], resumed, *args), resumed)
    assert code == 0, log
    again = json.loads((resumed / "summary.json").read_text())
    assert sorted(e["output"] for e in again["sources"] if e["status"] == "skipped") == \
        sorted(finished)
    assert output_tree(resumed) == output_tree(whole)


def test_corrupt_video_fails_alone(ray_cluster: LocalCluster, short_clips: Path,
                                   shared_dir: Path, tmp_path: Path) -> None:
    broken = make_corrupt(tmp_path / "broken.mp4", shared_dir / "media" / "car-detection.mp4")
    out = tmp_path / "out"
    sources = [short_clips / "clip0.mp4", broken, short_clips / "clip1.mp4"]
    code, log = finish(start_batch(sources, out, "--ray", ray_cluster.address, "--retries",
                                   "1", "--quiet"), out)
    assert code == 3, log
    errors = [line for line in log.splitlines() if line.startswith("mnviewer: error:")]
    assert len(errors) == 1 and "broken.mp4" in errors[0] and "tried 2 times" in errors[0]
    summary = json.loads((out / "summary.json").read_text())
    assert [(e["status"], e["frames"]) for e in summary["sources"]] == \
        [("done", 120), ("failed", 0), ("done", 120)]
    assert "not a readable video" in summary["sources"][1]["reason"]
    assert not (out / "broken.mp4.jsonl").exists()


def test_local_cluster_is_started_and_shut_down(short_clips: Path, tmp_path: Path) -> None:
    # A short folder of its own for Ray's sockets (their paths must stay under 108 bytes).
    ray_tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    out = tmp_path / "out"
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp)}
    proc = subprocess.run(
        [sys.executable, "-m", "mnviewer", "batch", str(short_clips / "clip0.mp4"),
         str(short_clips / "clip1.mp4"), "--out-dir", str(out), "--model", MODEL,
         "--ray", "local", "--workers", "2"], capture_output=True, text=True, env=env,
        timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert_complete(out, "clip0.mp4", 120)
    assert_complete(out, "clip1.mp4", 120)
    assert list((ray_tmp / "ray").glob("session_*")), "Ray did not run under RAY_TMPDIR"
    left = [p.info for p in psutil.process_iter(["pid", "cmdline"])
            if str(ray_tmp) in " ".join(p.info["cmdline"] or [])]
    assert left == [], left
    assert without_timings(json.loads((out / "summary.json").read_text()))["files"] == 2
