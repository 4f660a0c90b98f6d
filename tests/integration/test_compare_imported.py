"""An imported model is a variant like any other: compare, profile and the chart take it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import run_cli

INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"


@pytest.fixture(autouse=True)
def _home(import_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNVIEWER_HOME", str(import_home))


def test_imported_model_against_its_twin(insects: str, shared_dir: Path) -> None:
    proc = run_cli("compare", "--source", str(shared_dir / "media" / "bottle-detection.mp4"),
                   "--a", insects, "--b", f"{insects}-fullconv:int8:CPU", "--max-frames", "10",
                   "--json", "-")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["a"]["id"] == insects and data["b"]["id"] == f"{insects}-fullconv"
    assert data["frames"] == 10 and data["mac_ratio"] > 1
    assert data["top1_agreement"] == 1.0  # the twin gives the same predictions


def test_imported_model_is_profiled_and_charted_without_a_published_top1(
        insects: str, tmp_path: Path) -> None:
    proc = run_cli("profile", "--model", insects, "--requests", "3", "--warmup", "1",
                   "--json", str(tmp_path / "p.json"))
    assert proc.returncode == 0, proc.stderr
    kinds = json.loads((tmp_path / "p.json").read_text())["kinds"]
    assert kinds["depthwise"]["macs"] > 0 and kinds["pointwise"]["share_macs"] > 0.5
    svg = tmp_path / "c.svg"
    bench = run_cli("bench", "--model", insects, "mobilenet-v1-0.25-128", "--seconds", "0.2",
                    "--plot", str(svg))
    assert bench.returncode == 0, bench.stderr
    text = svg.read_text()
    assert "not plotted (no top-1): insects int8<" in text
    assert "v1-0.25-128 int8" in text
