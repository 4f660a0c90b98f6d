"""The sources of a batch as Ray tasks: one task per source, retried by Ray when a worker or node
dies. The only module that imports Ray, inside the functions that need it."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from mnviewer.atomic import reason
from mnviewer.batch.plan import SourceTask
from mnviewer.batch.runner import Outcome, Record
from mnviewer.batch.worker import ShippedModel, WorkerSetup, run_on_worker
from mnviewer.errors import UsageError

INSTALL_HINT = "pip install 'mnviewer[cluster]'"
# What workers need to find the cache and the offline mirror as this process does.
PASSED_ENV = ("MNVIEWER_HOME", "MNVIEWER_MIRROR", "MNVIEWER_BUNDLED_MODELS")
CANCEL_WAIT_S = 10.0
POLL_S = 0.5  # how often the driver looks at a Ctrl+C while tasks run


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def check_ray_installed() -> None:
    import_ray()


def worker_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    env.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    env.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    return env


class RayExecutor:
    """Connects to (or starts) a Ray cluster on enter, disconnects (or shuts it down) on exit.

    At most `workers` tasks are in flight, each reserving `setup.threads` CPUs; the rest wait
    in this process, so a stop never has thousands of queued tasks to cancel.
    """

    def __init__(self, address: str, setup: WorkerSetup, shipped: ShippedModel,
                 workers: int | None, retries: int):
        self.address = address
        self.setup = setup
        self.shipped = shipped
        self.workers = workers
        self.retries = retries
        self._stopped = False
        self._ray = import_ray()

    def __enter__(self) -> RayExecutor:
        ray = self._ray
        threads = self.setup.threads or 1
        common: dict[str, Any] = {"runtime_env": {"env_vars": worker_env()},
                                  "logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if self.address == "local":
                workers = self.workers or os.cpu_count() or 1
                ray.init(address="local", num_cpus=workers * threads,
                         include_dashboard=False, **common)
            else:
                ray.init(address=self.address, **common)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
            raise UsageError(f"cannot connect to Ray at {self.address} ({reason(exc)}): start "
                             "a cluster with 'ray start --head' or use --ray local") from exc
        if self.workers is None:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            self.workers = max(1, cpus // threads)
        return self

    def __exit__(self, *exc: object) -> None:
        self._ray.shutdown()

    def stop(self) -> None:
        self._stopped = True

    def run(self, tasks: list[SourceTask], record: Record) -> None:
        ray = self._ray
        remote = ray.remote(run_on_worker).options(num_cpus=self.setup.threads or 1,
                                                   max_retries=self.retries)
        shipped = ray.put(self.shipped)
        waiting = list(reversed(tasks))
        failures: dict[str, int] = {}
        running: dict[Any, SourceTask] = {}
        while (waiting or running) and not self._stopped:
            while waiting and len(running) < (self.workers or 1):
                task = waiting.pop()
                running[remote.remote(task, self.setup, shipped)] = task
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S,
                                fetch_local=False)
            for ref in ready:
                task = running.pop(ref)
                outcome, again = self._outcome(ref)
                if again and failures.get(task.path, 0) < self.retries and not self._stopped:
                    failures[task.path] = failures.get(task.path, 0) + 1
                    waiting.append(task)  # tried again next, before the sources not begun
                    continue
                record(task, outcome)
        if running:
            self._cancel(running, record)

    def _outcome(self, ref: Any) -> tuple[Outcome, bool]:
        """How the task ended, and whether the source failed (rather than Ray giving up on a
        worker or node that died on every try), which the driver tries again."""
        ray = self._ray
        tries = f"(tried {self.retries + 1} times)"
        try:
            result = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the worker or node died on every try
            return Outcome("failed", reason=f"{reason(exc)} {tries}"), False
        if "error" in result:
            return Outcome("failed", reason=f"{result['error']} {tries}"), True
        return Outcome("done", result["frames"], truncated=bool(result["truncated"])), False

    def _cancel(self, running: dict[Any, SourceTask], record: Record) -> None:
        """Cancel the running tasks; keep the results of those that finished meanwhile."""
        ray = self._ray
        for ref in running:
            ray.cancel(ref)
        deadline = time.monotonic() + CANCEL_WAIT_S
        ready: list[Any] = []
        rest = list(running)
        while rest and time.monotonic() < deadline:  # short waits: a second Ctrl+C gets in
            done, rest = ray.wait(rest, num_returns=len(rest), timeout=POLL_S,
                                  fetch_local=False)
            ready.extend(done)
        for ref in rest:
            ray.cancel(ref, force=True)
        for ref in ready:
            outcome, _ = self._outcome(ref)
            if outcome.status == "done":  # others were cancelled: their sources stay pending
                record(running[ref], outcome)
