"""A live MJPEG stream that drops and comes back: `run` says so and counts it."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mjpeg_server import MjpegServer

WAIT_S = 60.0


@pytest.fixture
def server() -> Iterator[MjpegServer]:
    server = MjpegServer().start()
    yield server
    server.stop()


class StderrLines:
    """A process's stderr lines, gathered on a thread so a test can wait for one."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        assert proc.stderr is not None
        stream = proc.stderr
        threading.Thread(target=lambda: [self._lines.put(line) for line in stream],
                         daemon=True).start()

    def wait_for(self, pattern: str) -> re.Match[str]:
        deadline = time.monotonic() + WAIT_S
        while True:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match


def wait_for_rows(path: Path, count: int) -> int:
    """Wait until the JSONL file holds at least count lines; returns how many it holds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        rows = path.read_text().count("\n") if path.exists() else 0
        if rows >= count:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {count} lines in {WAIT_S} s")


def start_run(server: MjpegServer, out: Path, summary: Path) -> subprocess.Popen:
    """`mnviewer run` on the server's stream, its stderr piped for StderrLines."""
    return subprocess.Popen(
        [sys.executable, "-m", "mnviewer", "run", "--source", server.url, "--out", str(out),
         "--summary", str(summary)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=dict(os.environ))


def test_run_says_when_a_stream_is_lost_and_back(server: MjpegServer, tmp_path: Path) -> None:
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = start_run(server, out, summary)
    try:
        stderr = StderrLines(proc)
        wait_for_rows(out, 10)
        server.stop()
        down = time.monotonic()
        stderr.wait_for(r"warning: source lost, retrying: stream http://127\.0\.0\.1")
        server.start()
        back = stderr.wait_for(r"warning: stream http://127\.0\.0\.1:\d+/ is back after "
                               r"([\d.]+) s")
        outage = time.monotonic() - down
        gap = float(back.group(1))
        assert 0 < gap <= outage + 1.0
        wait_for_rows(out, wait_for_rows(out, 1) + 10)  # frames flow again
        proc.send_signal(signal.SIGINT)
        assert proc.wait(WAIT_S) == 130
    finally:
        proc.kill()
        proc.wait()
    warnings = [line for line in stderr.seen if "warning:" in line]
    assert len(warnings) == 2, stderr.seen
    result = json.loads(summary.read_text())
    assert result["reconnects"] == 1
    assert abs(result["lost_s"] - gap) < 0.1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["frame"] for r in rows] == sorted(r["frame"] for r in rows)


def test_run_stopped_while_the_stream_is_lost_counts_the_loss(server: MjpegServer,
                                                              tmp_path: Path) -> None:
    out, summary = tmp_path / "r.jsonl", tmp_path / "s.json"
    proc = start_run(server, out, summary)
    try:
        stderr = StderrLines(proc)
        wait_for_rows(out, 5)
        server.stop()
        stderr.wait_for(r"warning: source lost, retrying")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(WAIT_S) == 130
    finally:
        proc.kill()
        proc.wait()
    result = json.loads(summary.read_text())
    assert result["interrupted"] == "SIGINT"
    assert result["reconnects"] == 0 and result["lost_s"] > 0
    assert result["frames"] == len(out.read_text().splitlines()) >= 5


def test_pipeline_rides_out_a_loss_longer_than_the_read_timeout(server: MjpegServer) -> None:
    """Reads raise SourceLost every timeout_s while the stream is down; the pipeline goes on."""
    from mnviewer.engine import Engine
    from mnviewer.pipeline import Pipeline
    from mnviewer.sources import SourceEvent, open_source

    timeout_s = 0.5
    events: queue.Queue[SourceEvent] = queue.Queue()
    results: list[int] = []
    errors: list[BaseException] = []
    source = open_source(server.url, timeout_s=timeout_s)
    source.listen(events.put)
    pipeline = Pipeline(source, Engine("mobilenet-v1-0.25-128", "int8", "CPU"))

    def consume() -> None:
        try:
            results.extend(r.index for r in pipeline)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    with source:
        thread.start()
        deadline = time.monotonic() + WAIT_S
        while len(results) < 5 and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.05)
        server.stop()
        assert events.get(timeout=WAIT_S).kind == "lost"
        deadline = time.monotonic() + WAIT_S
        while source.lost_s < 4 * timeout_s and time.monotonic() < deadline:
            time.sleep(0.05)  # several reads time out meanwhile
        server.start()
        back = events.get(timeout=WAIT_S)
        assert back.kind == "back" and back.gap_s is not None and back.gap_s >= 4 * timeout_s
        before = len(results)
        deadline = time.monotonic() + WAIT_S
        while len(results) < before + 5 and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.05)
        pipeline.stop()
    thread.join(WAIT_S)
    assert errors == [] and len(results) >= before + 5
    assert source.reconnects == 1
