"""`mnviewer compare` and the comparison module: any two variants on the same real frames."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mnviewer.comparison import (
    ComparisonStats,
    PairPipeline,
    Side,
    VariantSpec,
    headline,
    parse_variant,
)
from mnviewer.engine import Engine
from mnviewer.errors import UsageError
from mnviewer.sources import open_source
from tests.integration.conftest import one_error_line, run_cli

SMALL = "mobilenet-v1-0.25-128"
JSON_KEYS = {"frames", "a", "b", "speedup", "mac_ratio", "top1_agreement", "disagreements"}
SIDE_KEYS = {"id", "precision", "device", "latency_ms", "macs", "params"}


def _video(shared_dir: Path) -> str:
    return str(shared_dir / "media" / "bottle-detection.mp4")


# --- specs and statistics ----------------------------------------------------------------

def test_spec_defaults_and_parts() -> None:
    assert parse_variant(SMALL) == VariantSpec(SMALL, "int8", "CPU")
    assert parse_variant(f"{SMALL}:fp32") == VariantSpec(SMALL, "fp32", "CPU")
    assert parse_variant(f"{SMALL}:FP16:cpu") == VariantSpec(SMALL, "fp16", "CPU")
    # A device string with its own colons passes through whole.
    assert parse_variant(f"{SMALL}:int8:HETERO:CPU").device == "HETERO:CPU"
    assert str(parse_variant(f"{SMALL}::")) == f"{SMALL}:int8:CPU"


@pytest.mark.parametrize(("text", "named", "choice"), [
    ("nosuch", "nosuch", SMALL),
    (f"{SMALL}:int4", "int4", "fp32"),
    (f"{SMALL}:int8:NPU", "NPU", "CPU"),
    (":int8", "names no model", "model[:precision[:device]]"),
])
def test_bad_spec_names_it_and_lists_choices(text: str, named: str, choice: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_variant(text)
    message = str(info.value)
    assert named in message and choice in message and "\n" not in message


def _sides(macs_a: int = 100, macs_b: int = 400) -> tuple[Side, Side]:
    return (Side(VariantSpec("m-a"), "CPU", macs_a, 10),
            Side(VariantSpec("m-b", "fp32"), "CPU", macs_b, 40))


def test_stats_count_agreement_latency_and_ratios() -> None:
    stats = ComparisonStats(*_sides())
    assert stats.top1_agreement is None and stats.speedup is None
    assert "measuring" in headline(stats)
    pairs = [(1, 1.0, 1, 3.0), (2, 1.0, 2, 3.0), (3, 1.0, 4, 3.0), (5, 1.0, 5, 3.0)]
    agreed = [stats.add(*pair) for pair in pairs]
    assert agreed == [True, True, False, True]
    assert stats.frames == 4 and stats.disagreements == 1
    assert stats.top1_agreement == 0.75
    assert stats.speedup == 3.0 and stats.mac_ratio == 4.0
    data = stats.to_json()
    assert set(data) == JSON_KEYS
    assert set(data["a"]) == SIDE_KEYS and set(data["a"]["latency_ms"]) == {"p50", "p90"}
    assert data["b"]["precision"] == "fp32" and data["a"]["macs"] == 100
    text = headline(stats)
    assert "4.0× fewer MACs" in text and "3.00× faster" in text and "1 of 4" in text
    json.dumps(data)  # serialisable as it stands
    stats.reset()
    assert stats.frames == 0 and stats.top1_agreement is None


def test_stats_say_slower_and_more_macs() -> None:
    stats = ComparisonStats(*_sides(macs_a=400, macs_b=100))
    stats.add(1, 4.0, 1, 2.0)
    assert stats.speedup == 0.5 and stats.mac_ratio == 0.25
    assert "4.0× more MACs" in headline(stats) and "2.00× slower" in headline(stats)


def test_stats_window_keeps_recent_latencies_and_counts_every_frame() -> None:
    stats = ComparisonStats(*_sides(), window=3)
    for ms in (100.0, 100.0, 1.0, 1.0, 1.0):
        stats.add(7, ms, 8, 2 * ms)
    assert stats.latency_ms("a") == {"p50": 1.0, "p90": 1.0}
    assert stats.speedup == 2.0
    assert stats.frames == 5 and stats.disagreements == 5 and stats.top1_agreement == 0.0
    stats.reset()
    assert stats.latency_ms("b") == {"p50": 0.0, "p90": 0.0} and stats.frames == 0


# --- the paired frame loop ----------------------------------------------------------------

@pytest.mark.parametrize("overlap_read", [True, False])
def test_pairs_come_in_frame_order_and_match_each_engine_alone(shared_dir: Path,
                                                               overlap_read: bool) -> None:
    """Both sides see the same frames; the agreement equals what each engine says alone."""
    frames = 30
    with open_source(_video(shared_dir)) as source:
        hw = (source.info.height, source.info.width)
        a = Engine(SMALL, "int8", hint="LATENCY", source_hw=hw)
        b = Engine(SMALL, "fp32", hint="LATENCY", source_hw=hw)
        pairs = list(PairPipeline(source, a, b, max_frames=frames, overlap_read=overlap_read))
    assert [p.frame.index for p in pairs] == list(range(frames))
    assert all(p.a.frame_id == p.b.frame_id == p.frame.index for p in pairs)
    assert all(p.a.infer_ms > 0 and p.b.infer_ms > 0 for p in pairs)
    alone = [(a.infer(p.frame.image, 1).top[0].index, b.infer(p.frame.image, 1).top[0].index)
             for p in pairs]
    assert [(p.a.top[0].index, p.b.top[0].index) for p in pairs] == alone
    assert [p.agree for p in pairs] == [x == y for x, y in alone]


# --- the command --------------------------------------------------------------------------

def test_int8_against_fp32(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    proc = run_cli("compare", "--source", _video(shared_dir), "--a", SMALL,
                   "--b", f"{SMALL}:fp32:CPU", "--max-frames", "60", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert set(data) == JSON_KEYS and data["frames"] == 60
    assert (data["a"]["precision"], data["b"]["precision"]) == ("int8", "fp32")
    assert data["a"]["id"] == data["b"]["id"] == SMALL
    assert data["a"]["macs"] == data["b"]["macs"] > 0 and data["mac_ratio"] == 1.0
    assert data["a"]["latency_ms"]["p90"] >= data["a"]["latency_ms"]["p50"] > 0
    assert data["speedup"] == pytest.approx(
        data["b"]["latency_ms"]["p50"] / data["a"]["latency_ms"]["p50"], rel=0.01)
    assert data["disagreements"] == round((1 - data["top1_agreement"]) * 60)
    assert f"A: {SMALL} int8 on CPU" in proc.stdout and f"B: {SMALL} fp32 on CPU" in proc.stdout
    assert "top-1 agreement" in proc.stdout


def test_json_to_stdout_and_twin_agrees(shared_dir: Path) -> None:
    """A MobileNet and its full-convolution twin give the same predictions at more MACs."""
    proc = run_cli("compare", "--source", _video(shared_dir), "--a", SMALL,
                   "--b", f"{SMALL}-fullconv", "--max-frames", "20", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["top1_agreement"] == 1.0 and data["disagreements"] == 0
    assert data["mac_ratio"] > 5
    assert "fewer MACs" in proc.stderr


def test_same_variant_is_allowed_and_said(shared_dir: Path) -> None:
    proc = run_cli("compare", "--source", _video(shared_dir), "--a", SMALL, "--b",
                   f"{SMALL}:int8:CPU", "--max-frames", "10", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["top1_agreement"] == 1.0
    assert "same variant" in proc.stderr


@pytest.mark.parametrize(("spec", "code", "words"), [
    ("nosuch-model", 2, ("nosuch-model", SMALL)),
    (f"{SMALL}:int3", 2, ("int3", "int8, fp16, fp32")),
    (f"{SMALL}:int8:NPU", 2, ("NPU", "CPU")),
    (f"{SMALL}:int8:HETERO:NOSUCH", 4, ("--b", "HETERO:NOSUCH", "cannot compile")),
])
def test_bad_variant(shared_dir: Path, spec: str, code: int, words: tuple[str, ...]) -> None:
    proc = run_cli("compare", "--source", _video(shared_dir), "--a", SMALL, "--b", spec,
                   "--max-frames", "3")
    one_error_line(proc, code, *words)


def test_bad_source_and_arguments(tmp_path: Path, shared_dir: Path) -> None:
    one_error_line(run_cli("compare", "--source", str(tmp_path / "none.mp4"), "--a", SMALL,
                           "--b", SMALL), 3, "none.mp4")
    one_error_line(run_cli("compare", "--source", _video(shared_dir), "--a", SMALL, "--b",
                           SMALL, "--max-frames", "0"), 2, "--max-frames")
    one_error_line(run_cli("compare", "--source", _video(shared_dir), "--a", SMALL, "--b",
                           SMALL, "--json", str(tmp_path / "no" / "x.json")), 2, "x.json")


def test_ctrl_c_keeps_the_result(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnviewer", "compare", "--source", _video(shared_dir), "--a",
         SMALL, "--b", f"{SMALL}:fp32", "--realtime", "--json", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # printed once both variants are compiled
        assert "comparing" in line, line
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    data = json.loads(out.read_text())
    assert set(data) == JSON_KEYS and data["frames"] < 1189
    assert f"{data['frames']} frames" in stdout
