"""Fixtures for tests that run the real models: built once per session into the session cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnviewer.evaluate import LabelledImage, load_labelled_images
from mnviewer.models.catalog import Catalog, load_catalog
from tests.helpers import mirror_list


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def built_all(session_home: Path, shared_dir: Path, catalog: Catalog) -> float:
    """Every model and twin in every precision; returns the build time in seconds."""
    import time

    from mnviewer.models.builder import build_models

    with pytest.MonkeyPatch.context() as env:
        env.setenv("MNVIEWER_HOME", str(session_home))
        env.setenv("MNVIEWER_MIRROR", mirror_list(shared_dir))
        start = time.perf_counter()
        build_models(list(catalog.models), ["int8", "fp16", "fp32"], catalog=catalog)
        return time.perf_counter() - start


@pytest.fixture(scope="session")
def imagenet_sample(shared_dir: Path) -> list[LabelledImage]:
    return load_labelled_images(shared_dir / "imagenet-sample")


def run_cli(*args: str, env: dict | None = None, timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `mnviewer` command in a subprocess, with the test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    # UTF-8 whatever this process's locale says: concurrent OpenVINO model reads can leave it
    # at "C" (libopenvino sets and restores LC_ALL around parsing), which decodes as ASCII.
    return subprocess.run([sys.executable, "-m", "mnviewer", *args], capture_output=True,
                          text=True, encoding="utf-8", env=full_env, timeout=timeout, cwd=cwd)


def one_error_line(proc: subprocess.CompletedProcess, code: int, *words: str) -> None:
    """The process exited with `code` and wrote one line to stderr, naming every word."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
