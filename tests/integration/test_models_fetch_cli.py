"""`mnviewer models fetch` as a user runs it: a real process, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROXY_VARS, closed_port, mirror_list
from tests.integration.conftest import one_error_line

MODEL_ID = "mobilenet-v1-0.25-128"


def run_cli(
    *args: str, home: Path, mirror: str, offline: bool = False
) -> subprocess.CompletedProcess:
    """Run `python -m mnviewer ARGS` with its own cache and mirror list."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(MNVIEWER_HOME=str(home), MNVIEWER_MIRROR=mirror)
    if offline:
        # urllib honours these, so every download hits a closed local port: no network, at once.
        proxy = f"http://127.0.0.1:{closed_port()}"
        env.update(http_proxy=proxy, https_proxy=proxy)
    return subprocess.run(
        [sys.executable, "-m", "mnviewer", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture
def mirror(shared_dir: Path) -> str:
    return mirror_list(shared_dir)


def test_fetch_one_model_from_mirror_then_cache(tmp_path: Path, mirror: str) -> None:
    first = run_cli("models", "fetch", MODEL_ID, home=tmp_path, mirror=mirror, offline=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "ok mobilenet_v1_0.25_128_quant.tflite (from mirror)",
        "ok imagenet_labels.txt (from mirror)",
    ]
    assert (tmp_path / "sources" / "mobilenet_v1_0.25_128_quant.tflite").is_file()
    again = run_cli("models", "fetch", MODEL_ID, home=tmp_path, mirror=mirror, offline=True)
    assert again.returncode == 0, again.stderr
    assert all(line.endswith("(from cache)") for line in again.stdout.splitlines())


def test_unknown_id_exits_2_with_one_line(tmp_path: Path, mirror: str) -> None:
    done = run_cli("models", "fetch", "mobilenet-v9-bogus", home=tmp_path, mirror=mirror)
    one_error_line(done, 2, "mobilenet-v9-bogus")


def test_bad_mirror_and_no_network_fails_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-mirror"
    done = run_cli("models", "fetch", MODEL_ID, home=tmp_path / "home", mirror=str(missing),
                   offline=True)
    assert done.returncode == 4, done.stderr  # a model that cannot be had is a model error
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "MNVIEWER_MIRROR" in lines[0]


def test_file_missing_from_mirror_and_no_network(tmp_path: Path, shared_dir: Path) -> None:
    done = run_cli("models", "fetch", MODEL_ID, home=tmp_path,
                   mirror=str(shared_dir / "media"), offline=True)
    # Exit code 4: a model that cannot be had is a model error.
    one_error_line(done, 4, "cannot download mobilenet_v1_0.25_128_quant.tflite",
                   "MNVIEWER_MIRROR")
