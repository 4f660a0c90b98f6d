"""Your own model: .tflite, .onnx and IR files imported, built, run and refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from mnviewer.engine import Engine
from mnviewer.evaluate import LabelledImage, evaluate
from mnviewer.models import builder
from mnviewer.models.catalog import load_catalog
from tests.helpers import mirror_list
from tests.integration.conftest import one_error_line, run_cli
from tests.model_export import to_ir, to_onnx

INSECTS = "mobilenet_v2_1.0_224_inat_insect_quant.tflite"
REFERENCE = "mobilenet-v1-0.25-128"


@pytest.fixture(autouse=True)
def _home(import_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNVIEWER_HOME", str(import_home))


def _add(*args: str) -> subprocess.CompletedProcess:
    return run_cli("models", "add", *args)


def _info(model_id: str) -> dict:
    proc = run_cli("models", "info", model_id, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _conv_precisions(engine: Engine) -> Counter:
    out: Counter = Counter()
    for op in engine.compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        if info["layerType"].astype(str) in ("Convolution", "GroupConvolution"):
            out[info["runtimePrecision"].astype(str)] += 1
    return out


def _nothing_left(import_home: Path, model_id: str) -> None:
    assert not (import_home / "user-models" / model_id).exists()
    assert not (import_home / "models" / model_id).exists()
    leftovers = list((import_home / "user-models").glob(f".{model_id}.*"))
    assert not leftovers, leftovers


def _litert_reference_top1(path: Path, image: np.ndarray) -> int:
    """The file's true top-1 from LiteRT's reference kernels (XNNPACK gives zeros here)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    size = int(inp["shape"][1])
    h, w = image.shape[:2]
    side = min(h, w) * 7 // 8
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top:top + side, left:left + side]
    rgb = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR),
                       cv2.COLOR_BGR2RGB)
    interp.set_tensor(inp["index"], rgb[None].astype(np.uint8))
    interp.invoke()
    return int(np.argmax(interp.get_tensor(interp.get_output_details()[0]["index"])[0]))


# ---------------------------------------------------------------------------- .tflite


def test_quantized_tflite_reads_its_preprocessing_and_labels_from_the_file(insects: str
                                                                           ) -> None:
    info = _info(insects)
    assert info["origin"] == "user" and info["format"] == "tflite"
    assert info["classes"] == 1022 and info["background_class"] is False
    assert info["labels_from"].startswith("file:")
    prep = info["preprocessing"]
    assert prep["decided"]["mean_scale"] == "file: input quantization"
    assert prep["mean"] == [128.0] * 3 and prep["scale"] == [128.0] * 3
    assert prep["layout"] == "NHWC" and prep["input_size"] == 224
    assert info["precisions"] == ["int8", "fp16", "fp32"]
    assert info["twin"] == "insects-fullconv" and info["int8"].startswith("from the file")
    assert info["macs"] > 250e6 and info["params"] > 3e6


def test_imported_tflite_names_the_species_litert_reference_kernels_name(
        insects: str, shared_dir: Path) -> None:
    image = cv2.imread(str(shared_dir / "media" / "dragonfly.bmp"))
    expected = _litert_reference_top1(shared_dir / "models" / INSECTS, image)
    labels = (shared_dir / "models" / "inat_insect_labels.txt").read_text().splitlines()
    for precision in ("int8", "fp32"):
        top = Engine(insects, precision).infer(image, top_k=3).top
        assert top[0].index == expected, (precision, top, labels[expected])
        assert top[0].label == labels[expected]
        assert top[0].score > 0.05  # the direct read_model path gives all-zero scores


def test_imported_int8_runs_every_convolution_in_int8_and_its_twin_agrees(
        insects: str, imagenet_sample: list[LabelledImage]) -> None:
    engine = Engine(insects, "int8")
    precisions = _conv_precisions(engine)
    assert set(precisions) <= {"u8", "i8"}, precisions
    twin = Engine(insects + "-fullconv", "int8")
    assert set(_conv_precisions(twin)) <= {"u8", "i8"}
    images = imagenet_sample[:20]
    assert evaluate(engine, images).predictions == evaluate(twin, images).predictions
    assert twin.macs / engine.macs > 5


def test_imported_model_runs_through_the_cli_by_id(insects: str, shared_dir: Path) -> None:
    image = shared_dir / "media" / "dragonfly.bmp"
    proc = run_cli("run", "--source", str(image), "--model", insects, "--out", "-")
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout.splitlines()[0])
    expected = _litert_reference_top1(shared_dir / "models" / INSECTS, cv2.imread(str(image)))
    labels = (shared_dir / "models" / "inat_insect_labels.txt").read_text().splitlines()
    assert line["top"][0]["index"] == expected
    assert line["top"][0]["label"] == labels[expected]
    listed = run_cli("models", "list", "--json")
    ids = [row["id"] for row in json.loads(listed.stdout)]
    assert insects in ids and insects + "-fullconv" in ids


# ---------------------------------------------------------------------------- .onnx and IR


@pytest.fixture(scope="module")
def exported(import_home: Path, shared_dir: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The reference catalog model's fp32 weights as ONNX (plain and with metadata_props)
    and as an IR with Model API model_info."""
    folder = tmp_path_factory.mktemp("exported")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MNVIEWER_HOME", str(import_home))
        env.setenv("MNVIEWER_MIRROR", mirror_list(shared_dir))
        fp32 = builder.ensure_built(REFERENCE, "fp32").xml
    labels = (shared_dir / "models" / "imagenet_labels.txt").read_text().splitlines()
    plain = to_onnx(fp32, folder / "plain.onnx")
    tagged = to_onnx(fp32, folder / "tagged.onnx", metadata={
        "model_info mean_values": "127.5 127.5 127.5", "model_info scale_values": "127.5",
        "Image.BitmapPixelFormat": "Rgb8"})
    ir = to_ir(plain, folder / "model.xml", {
        "model_type": "Classification", "mean_values": "127.5 127.5 127.5",
        "scale_values": "127.5 127.5 127.5", "reverse_input_channels": "True",
        "labels": " ".join(label.replace(" ", "_") for label in labels)})
    return {"plain": plain, "tagged": tagged, "ir": ir,
            "labels": shared_dir / "models" / "imagenet_labels.txt"}


def _same_top1_as_reference(model_id: str, images: list[LabelledImage]) -> None:
    ours = evaluate(Engine(model_id, "fp32"), images)
    reference = evaluate(Engine(REFERENCE, "fp32"), images)
    assert ours.predictions == reference.predictions


def test_onnx_with_flags_predicts_as_the_catalog_model(
        exported: dict, imagenet_sample: list[LabelledImage]) -> None:
    proc = _add(str(exported["plain"]), "--id", "onnx-flags", "--mean", "127.5",
                "--scale", "127.5", "--labels", str(exported["labels"]))
    assert proc.returncode == 0, proc.stderr
    info = _info("onnx-flags")
    assert info["preprocessing"]["layout"] == "NCHW"
    assert info["preprocessing"]["decided"]["mean_scale"] == "flag"
    assert info["precisions"] == ["fp16", "fp32"] and info["int8"] == "not available"
    _same_top1_as_reference("onnx-flags", imagenet_sample)


def test_onnx_metadata_props_and_ir_model_info_need_no_flags(
        exported: dict, imagenet_sample: list[LabelledImage]) -> None:
    for model_id, key in (("onnx-meta", "tagged"), ("ir-model-info", "ir")):
        labels = ["--labels", str(exported["labels"])] if key == "tagged" else []
        proc = _add(str(exported[key]), "--id", model_id, *labels)
        assert proc.returncode == 0, proc.stderr
        info = _info(model_id)
        assert info["preprocessing"]["decided"]["mean_scale"] == "file: model_info"
        assert info["preprocessing"]["mean"] == [127.5] * 3
        _same_top1_as_reference(model_id, imagenet_sample[:50])
    ir = _info("ir-model-info")
    assert ir["labels_from"] == "file: model_info" and ir["background_class"] is True
    engine = Engine("ir-model-info", "fp32")
    assert "tench" in engine.labels[0]  # underscores stand for spaces in model_info labels


def test_channel_order_from_onnx_metadata_is_applied(
        exported: dict, imagenet_sample: list[LabelledImage], tmp_path: Path) -> None:
    """A network trained on BGR input: Image.BitmapPixelFormat says so; forcing RGB on the
    same file changes its predictions, so the order really reaches the graph."""
    bgr = to_onnx(builder.find_built(REFERENCE, "fp32").xml, tmp_path / "bgr.onnx", bgr=True,
                  metadata={"Image.BitmapPixelFormat": "Bgr8",
                            "Image.NominalPixelRange": "Normalized_1_1"})
    labels = ["--labels", str(exported["labels"])]
    assert _add(str(bgr), "--id", "bgr-net", *labels).returncode == 0
    info = _info("bgr-net")
    assert info["preprocessing"]["channels"] == "BGR"
    assert info["preprocessing"]["decided"]["mean_scale"] == "file: Image.NominalPixelRange"
    _same_top1_as_reference("bgr-net", imagenet_sample[:50])
    assert _add(str(bgr), "--id", "bgr-as-rgb", "--rgb", *labels).returncode == 0
    wrong = evaluate(Engine("bgr-as-rgb", "fp32"), imagenet_sample[:50]).predictions
    right = evaluate(Engine("bgr-net", "fp32"), imagenet_sample[:50]).predictions
    assert wrong != right


def test_a_failed_forced_import_keeps_the_earlier_one(exported: dict, tmp_path: Path,
                                                      import_home: Path) -> None:
    assert _add(str(exported["plain"]), "--id", "kept", "--mean", "127.5", "--scale",
                "127.5").returncode == 0
    labels = tmp_path / "short.txt"
    labels.write_text("a\nb\n")
    proc = _add(str(exported["plain"]), "--id", "kept", "--force", "--mean", "127.5",
                "--scale", "127.5", "--labels", str(labels))
    one_error_line(proc, 4, "2 labels")
    assert Engine("kept", "fp32").labels[17] == "class 17"
    assert not list((import_home / "user-models").glob(".kept.*"))


def test_float_model_without_calibration_says_int8_is_not_offered(exported: dict) -> None:
    assert _add(str(exported["plain"]), "--id", "no-int8", "--mean", "127.5", "--scale",
                "127.5").returncode == 0
    proc = run_cli("run", "--source", "demo", "--model", "no-int8", "--precision", "int8",
                   "--max-frames", "1")
    one_error_line(proc, 2, "no-int8", "--calibration")


def test_onnx_without_normalization_names_the_missing_flags(exported: dict,
                                                            import_home: Path) -> None:
    one_error_line(_add(str(exported["plain"]), "--id", "bare"), 2, "--mean", "--scale")
    one_error_line(_add(str(exported["plain"]), "--id", "bare", "--mean", "127.5"), 2,
                   "--scale")
    _nothing_left(import_home, "bare")


def test_nncf_int8_of_a_float_model_runs_int8_and_reports_agreement(
        exported: dict, shared_dir: Path, imagenet_sample: list[LabelledImage]) -> None:
    proc = _add(str(exported["plain"]), "--id", "calibrated", "--mean", "127.5", "--scale",
                "127.5", "--labels", str(exported["labels"]), "--calibration",
                str(shared_dir / "imagenet-sample"))
    assert proc.returncode == 0, proc.stderr
    info = _info("calibrated")
    assert info["precisions"] == ["int8", "fp16", "fp32"]
    assert info["calibration"]["images"] == 100
    agreement = info["calibration"]["top1_agreement"]
    fp32 = evaluate(Engine("calibrated", "fp32"), imagenet_sample)
    int8 = evaluate(Engine("calibrated", "int8"), imagenet_sample)
    same = np.mean(np.array(fp32.predictions) == np.array(int8.predictions))
    assert agreement == pytest.approx(same, abs=0.011)
    assert set(_conv_precisions(Engine("calibrated", "int8"))) <= {"u8", "i8"}
    twin = Engine("calibrated-fullconv", "int8")
    assert set(_conv_precisions(twin)) <= {"u8", "i8"}
    assert evaluate(twin, imagenet_sample[:30]).predictions == int8.predictions[:30]


def test_dequantized_softmax_output_gets_no_second_softmax(tmp_path: Path) -> None:
    """A QDQ model whose softmax is requantized at the output keeps its own softmax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from mnviewer.models import importer

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(4, 3, 8, 8)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array(1 / 255, np.float32), "s"),
             numpy_helper.from_array(np.array(0, np.uint8), "z")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("Flatten", ["c"], ["f"]),
             helper.make_node("Softmax", ["f"], ["p"], axis=1),
             helper.make_node("QuantizeLinear", ["p", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    path = tmp_path / "qdq.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    desc = importer.describe(path, importer.ImportOptions(mean=(0.0,), scale=(1.0,)),
                             builder.shared_core())
    base = importer.base_graph(desc)
    kinds = [op.get_type_name() for op in base.get_ordered_ops()]
    assert kinds.count("Softmax") == 1, kinds


# ---------------------------------------------------------------------------- bad input


def test_files_that_are_not_models_are_refused_with_nothing_left(
        tmp_path: Path, import_home: Path, shared_dir: Path, exported: dict) -> None:
    text = tmp_path / "notes.tflite"
    text.write_text("just some text\n")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    truncated = tmp_path / "cut.tflite"
    truncated.write_bytes((shared_dir / "models" / INSECTS).read_bytes()[:200_000])
    garbage = tmp_path / "noise.onnx"
    garbage.write_bytes(os.urandom(4096))
    unsupported = tmp_path / "model.pb"
    unsupported.write_bytes(b"\x08\x01")
    cases = [(text, "TFL3"), (empty, "empty"), (truncated, "cut.tflite"),
             (garbage, "noise.onnx"), (unsupported, "unsupported")]
    for path, word in cases:
        proc = _add(str(path), "--id", "bad", "--mean", "0", "--scale", "1")
        one_error_line(proc, 4, str(path.name), word)
        _nothing_left(import_home, "bad")


def test_graphs_that_are_not_image_classifiers_are_refused(shared_dir: Path, import_home: Path
                                                           ) -> None:
    extractor = shared_dir / "models" / "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
    one_error_line(_add(str(extractor), "--id", "bad"), 4, "not an image classifier",
                   "[1, N]")
    head = shared_dir / "models" / "mobilenet_quant_v1_224_head_layers.tflite"
    one_error_line(_add(str(head), "--id", "bad"), 4, "not an image classifier", "channels")
    _nothing_left(import_home, "bad")


def test_an_op_openvino_cannot_read_is_named(tmp_path: Path, import_home: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("FancyPooling", ["x"], ["y"], domain="com.example")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13),
                                             helper.make_opsetid("com.example", 1)])
    path = tmp_path / "custom.onnx"
    onnx.save(model, str(path))
    one_error_line(_add(str(path), "--id", "bad", "--mean", "0", "--scale", "1"), 4,
                   "FancyPooling")
    _nothing_left(import_home, "bad")


def test_labels_that_do_not_match_name_both_counts(shared_dir: Path, tmp_path: Path,
                                                   import_home: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"l{i}" for i in range(10)) + "\n")
    proc = _add(str(shared_dir / "models" / INSECTS), "--id", "bad", "--labels", str(labels))
    one_error_line(proc, 4, "10 labels", "1022 outputs")
    _nothing_left(import_home, "bad")


def test_duplicate_id_needs_force_and_calibration_needs_images(
        insects: str, shared_dir: Path, exported: dict, tmp_path: Path, import_home: Path) -> None:
    proc = _add(str(shared_dir / "models" / INSECTS), "--id", insects)
    one_error_line(proc, 4, insects, "--force")
    assert (import_home / "user-models" / insects).is_dir()
    catalog_id = run_cli("models", "add", str(exported["plain"]), "--id", REFERENCE)
    one_error_line(catalog_id, 4, REFERENCE, "built-in")
    empty = tmp_path / "no-images"
    empty.mkdir()
    (empty / "readme.txt").write_text("nothing here")
    proc = _add(str(exported["plain"]), "--id", "bad", "--mean", "127.5", "--scale", "127.5",
                "--calibration", str(empty))
    one_error_line(proc, 4, str(empty), "no readable images")
    _nothing_left(import_home, "bad")


def test_labels_fall_back_to_class_numbers(exported: dict) -> None:
    assert _add(str(exported["plain"]), "--id", "unlabelled", "--mean", "127.5",
                "--scale", "127.5").returncode == 0
    engine = Engine("unlabelled", "fp32")
    assert engine.labels[17] == "class 17" and len(engine.labels) == 1001


def test_remove_deletes_the_model_and_its_twin(exported: dict, import_home: Path) -> None:
    assert _add(str(exported["plain"]), "--id", "short-lived", "--mean", "127.5",
                "--scale", "127.5").returncode == 0
    Engine("short-lived-fullconv", "fp32")
    assert (import_home / "models" / "short-lived-fullconv").is_dir()
    assert run_cli("models", "remove", "short-lived").returncode == 0
    _nothing_left(import_home, "short-lived")
    assert not (import_home / "models" / "short-lived-fullconv").exists()
    assert all(m.id != "short-lived" for m in load_catalog().models)
    one_error_line(run_cli("models", "remove", "short-lived"), 2, "short-lived")


def test_an_import_killed_midway_leaves_nothing(exported: dict, shared_dir: Path,
                                                import_home: Path) -> None:
    cmd = [sys.executable, "-m", "mnviewer", "models", "add", str(exported["plain"]), "--id",
           "killed", "--mean", "127.5", "--scale", "127.5", "--calibration",
           str(shared_dir / "imagenet-sample")]
    proc = subprocess.Popen(cmd, env=dict(os.environ), stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list((import_home / "user-models").glob(".killed.partial-*")):
            assert proc.poll() is None, "the import ended before it staged anything"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert all(m.id != "killed" for m in load_catalog().models)
    # The next import removes what the killed one left.
    assert _add(str(exported["plain"]), "--id", "after-kill", "--mean", "127.5",
                "--scale", "127.5").returncode == 0
    _nothing_left(import_home, "killed")
