"""`mnviewer models list/info/build` and `mnviewer eval` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.conftest import run_cli


def test_models_list_json_reports_counted_numbers(built_all: float) -> None:
    proc = run_cli("models", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["id"]: row for row in json.loads(proc.stdout)}
    assert {"id", "macs", "params", "input_size", "precisions", "built", "fetched"} <= \
        set(rows["mobilenet-v1-1.0-224"])
    assert rows["mobilenet-v1-1.0-224"]["macs"] == 568_741_376
    assert rows["mobilenet-v1-1.0-224-fullconv"]["built"] is True
    assert rows["conv-mobilenet-1.0-224"]["trained"] is False
    table = run_cli("models", "list").stdout
    assert "untrained speed reference" in table


def test_models_info_json(built_all: float) -> None:
    proc = run_cli("models", "info", "mobilenet-v2-1.0-224", "--json")
    info = json.loads(proc.stdout)
    assert info["precisions"] == ["int8", "fp16", "fp32"]
    assert info["input_size"] == [224, 224] and info["classes"] == 1001
    assert info["license"] == "Apache-2.0"
    assert all(Path(p).is_file() for p in info["files"].values())


def test_eval_json(built_all: float, shared_dir: Path) -> None:
    proc = run_cli("eval", "--model", "mobilenet-v1-0.5-160", "--images",
                   str(shared_dir / "imagenet-sample"), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["images"] == 100 and 0.5 < result["top1"] <= result["top5"] <= 1


def test_eval_folder_without_index_csv(tmp_path: Path) -> None:
    proc = run_cli("eval", "--model", "mobilenet-v1-0.25-128", "--images", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "index.csv" in proc.stderr


def test_unknown_model_id_is_a_usage_error() -> None:
    for args in (["models", "build", "mobilenet-v9"], ["models", "info", "mobilenet-v9"],
                 ["run", "--source", "x.mp4", "--model", "mobilenet-v9"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, args
        assert "unknown model id 'mobilenet-v9'" in proc.stderr
        assert proc.stderr.count("\n") == 1


def test_unwritable_cache_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = run_cli("models", "build", "mobilenet-v1-0.25-128", "--precision", "int8",
                   env={"MNVIEWER_HOME": str(blocker / "home")})
    assert proc.returncode == 6, proc.stderr  # the cache is output that cannot be written
    assert proc.stderr.count("\n") == 1 and "MNVIEWER_HOME" in proc.stderr


def test_empty_mirror_and_no_network_leave_nothing_half_written(tmp_path: Path) -> None:
    empty = tmp_path / "mirror"
    empty.mkdir()
    home = tmp_path / "home"
    proc = run_cli("models", "build", "mobilenet-v1-0.25-128",
                   env={"MNVIEWER_HOME": str(home), "MNVIEWER_MIRROR": str(empty),
                        "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})
    assert proc.returncode == 4
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mnviewer: error")]
    assert len(errors) == 1 and str(empty) in errors[0]
    leftovers = [p for p in home.rglob("*") if p.is_file()]
    assert leftovers == []


def test_corrupt_source_in_cache_is_fetched_again(tmp_path: Path, shared_dir: Path) -> None:
    home = tmp_path / "home"
    assert run_cli("models", "fetch", "mobilenet-v1-0.25-128",
                   env={"MNVIEWER_HOME": str(home)}).returncode == 0
    cached = home / "sources" / "mobilenet_v1_0.25_128_quant.tflite"
    cached.write_bytes(cached.read_bytes()[:1000])
    proc = run_cli("models", "build", "mobilenet-v1-0.25-128", "--precision", "int8",
                   env={"MNVIEWER_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert cached.read_bytes() == (shared_dir / "models" / cached.name).read_bytes()
