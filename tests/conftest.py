"""Shared fixtures: the ../shared test data; an isolated cache and offline mirror per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import mirror_list

REPO_ROOT = Path(__file__).resolve().parents[1]
INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"
# Building the bundle and the .deb alone may take 20 minutes on a slow machine.
PACKAGE_TIMEOUT_S = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("package") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(PACKAGE_TIMEOUT_S))


def find_shared_dir() -> Path:
    """The shared test-data folder: MNVIEWER_TEST_DATA, else ../shared beside the checkout.

    It is not checked here: the `shared_dir` fixture fails the test when it is missing.
    """
    env = os.environ.get("MNVIEWER_TEST_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared test data folder (models/, media/, ...); fails the test when it is missing."""
    path = find_shared_dir()
    if not (path / "models").is_dir() or not (path / "media").is_dir():
        pytest.fail(
            f"shared test data not found at {path} (needs models/ and media/): "
            "set MNVIEWER_TEST_DATA or put the 'shared' folder beside the repository",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session, so tests can share fetched files."""
    return tmp_path_factory.mktemp("mnviewer-home")


@pytest.fixture(autouse=True)
def _isolated_home(
    monkeypatch: pytest.MonkeyPatch, session_home: Path, shared_dir: Path
) -> None:
    # No test may read or write the user's real cache; a test can still setenv its own values.
    monkeypatch.setenv("MNVIEWER_HOME", str(session_home))
    monkeypatch.setenv("MNVIEWER_MIRROR", mirror_list(shared_dir))


@pytest.fixture(scope="module")
def import_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of the test module's own, so the models it imports stay out of other tests."""
    return tmp_path_factory.mktemp("import-home")


@pytest.fixture(scope="module")
def insects(import_home: Path, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> str:
    """The third-party insect classifier, imported as 'insects' from a copy then deleted
    (the cache keeps its own)."""
    import shutil

    from tests.integration.conftest import run_cli

    copy = tmp_path_factory.mktemp("elsewhere") / INSECTS
    shutil.copy(shared_dir / "models" / INSECTS, copy)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MNVIEWER_HOME", str(import_home))
        env.setenv("MNVIEWER_MIRROR", mirror_list(shared_dir))
        proc = run_cli("models", "add", str(copy), "--id", "insects")
    assert proc.returncode == 0, proc.stderr
    copy.unlink()
    return "insects"
