"""`mnviewer batch` in one process: outputs as `run` writes them, skip-if-done, failures, and the
fence that keeps Ray out of every other command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from mnviewer.cli import main
from tests.integration.conftest import one_error_line, run_cli

MODEL = "mobilenet-v1-0.25-128"
TIMING_KEYS = {"wall_s", "fps", "infer_ms", "capture_ms", "post_ms", "total_ms", "finished_at"}


def cut_clip(video: Path, out: Path, frames: int, start: int = 0) -> Path:
    """A real short video: `frames` frames of `video` from `start`, re-encoded with OpenCV."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer = None
    written = 0
    index = 0
    while written < frames:
        ok, image = cap.read()
        if not ok:
            break
        if index >= start:
            if writer is None:
                h, w = image.shape[:2]
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
            writer.write(image)
            written += 1
        index += 1
    cap.release()
    assert writer is not None
    writer.release()
    assert written == frames, f"{video} has fewer than {start + frames} frames"
    return out


def make_corrupt(out: Path, video: Path) -> Path:
    """The first 20 kB of a real video: a container that opens but whose frames do not decode."""
    out.write_bytes(video.read_bytes()[:20_000])
    return out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_timings(obj: object) -> object:
    """The object with every timing (which differs from run to run) left out."""
    if isinstance(obj, dict):
        return {k: without_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [without_timings(v) for v in obj]
    return obj


def output_tree(out_dir: Path) -> dict[str, object]:
    """Every file under out_dir, JSON and JSONL parsed, timings and run statuses left out."""
    tree: dict[str, object] = {}
    for path in sorted(out_dir.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out_dir).as_posix()
        if path.suffix == ".jsonl":
            tree[rel] = without_timings(read_jsonl(path))
            continue
        data = without_timings(json.loads(path.read_text(encoding="utf-8")))
        if rel == "summary.json":
            assert isinstance(data, dict)
            for key in ("done", "skipped"):
                data.pop(key)
            for entry in data["sources"]:
                assert entry["status"] in ("done", "skipped"), entry
                entry["status"] = "complete"
        tree[rel] = data
    return tree


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Path:
    """A folder of real sources: two short videos (one in a subfolder) and a folder of photos."""
    root = tmp_path_factory.mktemp("batch-sources")
    media = shared_dir / "media"
    (root / "cam2").mkdir()
    cut_clip(media / "bottle-detection.mp4", root / "bottle.mp4", 40)
    cut_clip(media / "car-detection.mp4", root / "cam2" / "cars.mp4", 30)
    (root / "photos").mkdir()
    for name in ("cat.bmp", "parrot.jpg"):
        shutil.copy(media / name, root / "photos" / name)
    return root


def batch(*args: str) -> int:
    return main(["batch", *args, "--model", MODEL, "--quiet"])


def test_folder_gives_the_outputs_of_run(clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert batch(str(clips), "--out-dir", str(out)) == 0
    summary = json.loads((out / "summary.json").read_text())
    entries = {e["output"]: e for e in summary["sources"]}
    assert set(entries) == {"bottle.mp4.jsonl", "cam2/cars.mp4.jsonl", "photos.jsonl"}
    assert [entries[k]["frames"] for k in sorted(entries)] == [40, 30, 2]
    assert all(e["status"] == "done" for e in entries.values())
    assert (summary["files"], summary["frames"], summary["failed"]) == (3, 72, 0)
    # Each source's lines and summary are what `mnviewer run` writes for it.
    for source, name in ((clips / "bottle.mp4", "bottle.mp4"),
                         (clips / "cam2" / "cars.mp4", "cam2/cars.mp4"),
                         (clips / "photos", "photos")):
        single = tmp_path / f"{source.name}.jsonl"
        proc = run_cli("run", "--source", str(source), "--model", MODEL, "--out", str(single),
                       "--quiet")
        assert proc.returncode == 0, proc.stderr
        assert without_timings(read_jsonl(out / f"{name}.jsonl")) == \
            without_timings(read_jsonl(single))
        per_source = json.loads((out / f"{name}.summary.json").read_text())
        assert per_source["model"] == MODEL and per_source["interrupted"] is None
        assert per_source["batch"]["source_bytes"] > 0
    assert not [p for p in out.rglob(".*partial*")]


def test_rerun_skips_complete_outputs_and_redoes_changed_ones(clips: Path, tmp_path: Path,
                                                             shared_dir: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(clips, src)
    out = tmp_path / "out"
    assert batch(str(src), "--out-dir", str(out)) == 0
    first = output_tree(out)
    leftover = out / "cam2" / ".cars.mp4.partial-1-2.jsonl"
    leftover.write_text('{"frame": 0}\n')
    # The same name, another size: its output no longer matches and is made again.
    cut_clip(shared_dir / "media" / "bottle-detection.mp4", src / "bottle.mp4", 25, start=100)
    assert batch(str(src), "--out-dir", str(out)) == 0
    summary = json.loads((out / "summary.json").read_text())
    status = {e["output"]: (e["status"], e["frames"]) for e in summary["sources"]}
    assert status == {"bottle.mp4.jsonl": ("done", 25), "cam2/cars.mp4.jsonl": ("skipped", 30),
                      "photos.jsonl": ("skipped", 2)}
    assert not leftover.exists()
    assert output_tree(out)["cam2/cars.mp4.jsonl"] == first["cam2/cars.mp4.jsonl"]
    # Another number of labels per frame is another result: nothing is skipped.
    assert main(["batch", str(src), "--out-dir", str(out), "--model", MODEL, "--top-k", "2",
                 "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {e["status"] for e in summary["sources"]} == {"done"}
    assert len(read_jsonl(out / "photos.jsonl")[0]["top"]) == 2


def test_list_file_and_glob(clips: Path, tmp_path: Path) -> None:
    listing = clips / "list.txt"
    listing.write_text("# sources\nbottle.mp4\n\nphotos\n")
    out = tmp_path / "out"
    proc = run_cli("batch", f"@{listing}", str(clips / "cam2" / "*.mp4"), "--out-dir", str(out),
                   "--model", MODEL)
    listing.unlink()
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert [e["output"] for e in summary["sources"]] == \
        ["bottle.mp4.jsonl", "photos.jsonl", "cam2/cars.mp4.jsonl"]
    assert "3 files (3 done" in proc.stderr


def test_corrupt_video_fails_alone(clips: Path, tmp_path: Path, shared_dir: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(clips, src)
    make_corrupt(src / "broken.mp4", shared_dir / "media" / "car-detection.mp4")
    out = tmp_path / "out"
    proc = run_cli("batch", str(src), "--out-dir", str(out), "--model", MODEL, "--quiet",
                   "--retries", "1")
    one_error_line(proc, 3, "broken.mp4", "tried 2 times")
    summary = json.loads((out / "summary.json").read_text())
    status = {e["output"]: e["status"] for e in summary["sources"]}
    assert status.pop("broken.mp4.jsonl") == "failed"
    assert set(status.values()) == {"done"}
    failed = next(e for e in summary["sources"] if e["status"] == "failed")
    assert "not a readable video" in failed["reason"]
    assert not (out / "broken.mp4.jsonl").exists()
    assert not (out / "broken.mp4.summary.json").exists()


def test_bad_arguments_are_one_line(clips: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    one_error_line(run_cli("batch", str(clips / "*.nothing"), "--out-dir", out), 2,
                   "matches no file")
    one_error_line(run_cli("batch", str(clips / "missing.mp4"), "--out-dir", out), 2,
                   "missing.mp4", "not found")
    one_error_line(run_cli("batch", str(clips), "--out-dir", out, "--workers", "2"), 2,
                   "--workers needs --ray")


def test_ray_missing_says_how_to_install(clips: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.mkdir()
    # A `ray` that cannot be imported, as on an installation without the extra.
    (blocker / "ray.py").write_text("raise ImportError('No module named ray')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(blocker), *sys.path])}
    proc = run_cli("batch", str(clips), "--out-dir", str(tmp_path / "out"), "--ray", "local",
                   env=env)
    one_error_line(proc, 2, "pip install 'mnviewer[cluster]'")


def test_batch_without_ray_and_other_commands_never_load_ray(clips: Path,
                                                             tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from mnviewer.cli import build_parser, main\n"
        "build_parser()\n"
        f"assert main(['batch', {str(clips / 'photos')!r}, '--out-dir', "
        f"{str(tmp_path / 'out')!r}, '--model', {MODEL!r}, '--quiet']) == 0\n"
        f"assert main(['run', '--source', {str(clips / 'bottle.mp4')!r}, '--model', "
        f"{MODEL!r}, '--quiet']) == 0\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_shipped_model_compiles_where_its_sources_are_missing(
        clips: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from mnviewer.batch import worker
    from mnviewer.batch.plan import plan_sources
    from mnviewer.engine import core
    from mnviewer.models.builder import find_built

    shipped = worker.ship_model(MODEL, "int8")
    # A machine with an empty cache and no way to fetch the model's sources.
    (tmp_path / "no-mirror").mkdir()
    monkeypatch.setenv("MNVIEWER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MNVIEWER_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.setenv("MNVIEWER_FETCH_TIMEOUT", "1")
    monkeypatch.delenv("MNVIEWER_BUNDLED_MODELS", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(worker, "_engines", {})
    assert find_built(MODEL, "int8") is None
    pinning = core().get_property("CPU", "ENABLE_CPU_PINNING")
    setup = worker.WorkerSetup(MODEL, "int8", "CPU", top_k=5, max_frames=None, threads=1,
                               share_cores=True)
    (task,) = plan_sources([str(clips / "photos")], tmp_path / "out")
    try:
        assert worker.run_on_worker(task, setup, shipped) == {"frames": 2, "truncated": False}
        engine = worker._engines[setup]
        assert engine.compiled.get_property("INFERENCE_NUM_THREADS") == 1
        assert engine.compiled.get_property("ENABLE_CPU_PINNING") is False
    finally:
        core().set_property("CPU", {"ENABLE_CPU_PINNING": pinning})
    assert read_jsonl(Path(task.jsonl))[0]["top"][0]["label"]
