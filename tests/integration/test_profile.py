"""`mnviewer profile` and the profiling module: per-layer time from OpenVINO's counters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mnviewer.engine import Engine
from mnviewer.profiling import KINDS, profile_model
from tests.integration.conftest import one_error_line, run_cli

SMALL = "mobilenet-v1-0.25-128"
KIND_KEYS = {"ms", "macs", "share_macs", "share_time"}
LAYER_KEYS = {"name", "kind", "macs", "ms", "exec_type", "precision", "node_type"}


def test_int8_profile_adds_up() -> None:
    profile = profile_model(SMALL, "int8", "CPU", warmup=2, requests=10)
    engine = Engine(SMALL, "int8")
    assert profile.model == SMALL and profile.device == "CPU" and profile.requests == 10
    assert list(profile.kinds) == list(KINDS)
    # Every counted layer is matched to an executed node: the MACs add up to the model's.
    assert sum(k.macs for k in profile.kinds.values()) == engine.macs
    assert sum(k.share_time for k in profile.kinds.values()) == pytest.approx(1, abs=1e-3)
    assert sum(k.share_macs for k in profile.kinds.values()) == pytest.approx(1, abs=1e-3)
    assert profile.total_ms == pytest.approx(sum(layer.ms for layer in profile.layers),
                                             rel=1e-3)
    kinds = profile.kinds
    assert kinds["dense3x3"].macs == 0 and kinds["depthwise"].ms > 0
    assert kinds["pointwise"].share_macs > 0.75  # 1x1 convolutions hold most of the work
    by_kind = {layer.kind for layer in profile.layers}
    assert {"stem", "depthwise", "pointwise", "classifier"} <= by_kind
    for layer in profile.layers:
        if layer.kind in ("depthwise", "pointwise"):
            # The int8 build runs its convolutions with int8 kernels.
            assert layer.precision.upper() in ("U8", "I8"), layer
            assert layer.exec_type and layer.ms >= 0
    data = profile.to_json()
    assert {"model", "precision", "device", "total_ms", "kinds", "layers"} <= set(data)
    assert set(data["kinds"]["pointwise"]) == KIND_KEYS
    assert set(data["layers"][0]) == LAYER_KEYS
    json.dumps(data)


def test_reference_network_matches_the_paper_share_of_1x1() -> None:
    """The paper's Table 2: 94.86% of MobileNet V1 1.0-224's mult-adds are in 1x1 convs."""
    profile = profile_model("mobilenet-v1-1.0-224", "int8", "CPU", warmup=1, requests=3)
    assert profile.kinds["pointwise"].share_macs == pytest.approx(0.9486, abs=0.002)


def test_twin_and_fp32() -> None:
    twin = profile_model(f"{SMALL}-fullconv", "int8", "CPU", warmup=1, requests=3)
    assert twin.kinds["depthwise"].macs == 0 and twin.kinds["dense3x3"].share_macs > 0.8
    fp32 = profile_model(SMALL, "fp32", "CPU", warmup=1, requests=3)
    convs = [layer for layer in fp32.layers if layer.kind in ("pointwise", "depthwise")]
    assert convs and all(layer.precision.upper() in ("F32", "FP32") for layer in convs)


def test_counters_are_off_for_classifying_engines() -> None:
    """Profiling costs nothing unless asked for: the engines that classify frames run
    without performance counters."""
    engine = Engine(SMALL, "int8")
    assert str(engine.compiled.get_property("PERF_COUNT")).upper() in ("NO", "FALSE")


def test_command_prints_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    proc = run_cli("profile", "--model", SMALL, "--requests", "5", "--warmup", "1",
                   "--layers", "3", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["model"] == SMALL and data["precision"] == "int8" and data["device"] == "CPU"
    assert set(data["kinds"]) == set(KINDS)
    lines = proc.stdout.splitlines()
    assert any(line.startswith("1x1 conv") for line in lines)
    assert "median of 5 requests after 1 warm-up" in proc.stdout
    assert sum(1 for line in lines if line.startswith(("Convolution", "GroupConvolution",
                                                       "FakeQuantize"))) <= 3


def test_help_states_the_method() -> None:
    proc = run_cli("profile", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "warm-up" in text and "median over --requests (default 100)" in text
    assert "PERF_COUNT" in text


@pytest.mark.parametrize(("args", "code", "words"), [
    (("--model", "nosuch"), 2, ("nosuch", SMALL)),
    (("--model", SMALL, "--requests", "0"), 2, ("--requests",)),
    (("--model", SMALL, "--device", "NPU"), 4, ("NPU", "CPU")),
    (("--model", SMALL, "--device", "HETERO:NOSUCH"), 4, ("HETERO:NOSUCH",
                                                          "performance counters")),
])
def test_bad_input(args: tuple[str, ...], code: int, words: tuple[str, ...]) -> None:
    one_error_line(run_cli("profile", *args), code, *words)
