"""`mnviewer bench` as a command: the table, --json/--csv, --images and the twin speed-up."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from mnviewer.models.catalog import Catalog, twin_of
from tests.integration.conftest import one_error_line, run_cli

SMALL = "mobilenet-v1-0.25-128"
SAMPLE_IMAGES = 5


@pytest.fixture
def few_images(shared_dir: Path, tmp_path: Path) -> Path:
    """The first few ImageNet sample images with their index.csv lines."""
    source = shared_dir / "imagenet-sample"
    folder = tmp_path / "images"
    folder.mkdir()
    lines = (source / "index.csv").read_text().splitlines()
    for line in lines[1:1 + SAMPLE_IMAGES]:
        shutil.copy(source / line.split(",")[0], folder)
    (folder / "index.csv").write_text("\n".join(lines[:1 + SAMPLE_IMAGES]) + "\n")
    return folder


def test_bench_writes_json_and_csv_with_top1_and_twin_speedup(few_images: Path,
                                                              tmp_path: Path) -> None:
    as_json, as_csv = tmp_path / "bench.json", tmp_path / "bench.csv"
    proc = run_cli("bench", "--model", SMALL, f"{SMALL}-fullconv", "--seconds", "0.2",
                   "--images", str(few_images), "--json", str(as_json), "--csv", str(as_csv))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(as_json.read_text())
    assert [r["id"] for r in rows] == [SMALL, f"{SMALL}-fullconv"]
    mobile, full = rows
    assert full["macs"] > 5 * mobile["macs"]
    assert mobile["mac_ratio"] == round(full["macs"] / mobile["macs"], 2)
    assert mobile["speedup_vs_fullconv"] == round(
        full["latency_ms"]["p50"] / mobile["latency_ms"]["p50"], 2)
    assert full["speedup_vs_fullconv"] is None and full["mac_ratio"] is None
    # The twin gives the same predictions: the same top-1 over the same images.
    assert mobile["top1"] is not None and mobile["top1"] == full["top1"]
    assert mobile["top1"] * SAMPLE_IMAGES == round(mobile["top1"] * SAMPLE_IMAGES)
    assert all(r["throughput_fps"] > 0 and r["latency_ms"]["p90"] >= r["latency_ms"]["p50"]
               for r in rows)
    table = proc.stdout
    assert f"{mobile['speedup_vs_fullconv']:.1f}x faster, {mobile['mac_ratio']:.1f}x fewer MACs" \
        in table
    with as_csv.open(newline="") as fh:
        records = list(csv.DictReader(fh))
    assert [r["id"] for r in records] == [SMALL, f"{SMALL}-fullconv"]
    assert float(records[0]["speedup_vs_fullconv"]) == mobile["speedup_vs_fullconv"]
    assert float(records[0]["top1"]) == mobile["top1"] and records[1]["mac_ratio"] == ""


@pytest.mark.slow
def test_bench_all_measures_every_model_and_twin(built_all: float, catalog: Catalog,
                                                 tmp_path: Path) -> None:
    as_json = tmp_path / "all.json"
    proc = run_cli("bench", "--all", "--seconds", "0.05", "--json", str(as_json))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(as_json.read_text())
    assert [r["id"] for r in rows] == [m.id for m in catalog.models]
    with_twin = {m.id for m in catalog.models if twin_of(m)}
    assert with_twin and all((r["speedup_vs_fullconv"] is not None) == (r["id"] in with_twin)
                             for r in rows)


def test_bench_bad_arguments_exit_2(tmp_path: Path) -> None:
    one_error_line(run_cli("bench", "--model", SMALL, "--seconds", "0"), 2, "--seconds")
    one_error_line(run_cli("bench", "--model", SMALL, "--json",
                           str(tmp_path / "missing" / "b.json")), 2, "missing")
    one_error_line(run_cli("bench", "--model", SMALL, "--images", str(tmp_path / "nowhere")),
                   2, "nowhere")
