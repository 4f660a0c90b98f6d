"""Fixtures for tests that run the real models: built once per session into the session cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnviewer.catalog import Catalog, load_catalog
from mnviewer.evaluate import LabelledImage, load_labelled_images


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def built_all(session_home: Path, shared_dir: Path, catalog: Catalog) -> float:
    """Every model and twin in every precision; returns the build time in seconds."""
    import time

    from mnviewer.build import build_models

    saved = {k: os.environ.get(k) for k in ("MNVIEWER_HOME", "MNVIEWER_MIRROR")}
    os.environ["MNVIEWER_HOME"] = str(session_home)
    os.environ["MNVIEWER_MIRROR"] = os.pathsep.join(
        [str(shared_dir / "models"), str(shared_dir / "media")])
    try:
        start = time.perf_counter()
        build_models(list(catalog.models), ["int8", "fp16", "fp32"], catalog=catalog)
        return time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def imagenet_sample(shared_dir: Path) -> list[LabelledImage]:
    return load_labelled_images(shared_dir / "imagenet-sample")


def run_cli(*args: str, env: dict | None = None, timeout: float = 300,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `mnviewer` command in a subprocess, with the test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "mnviewer", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=cwd)
