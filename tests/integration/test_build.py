"""The model zoo: int8 really runs int8, twins predict the same, counts match the paper."""

from __future__ import annotations

import json
import os
from collections import Counter

import openvino as ov
import pytest

from mnviewer.engine import Engine
from mnviewer.errors import ModelError
from mnviewer.evaluate import evaluate
from mnviewer.models import builder as build
from mnviewer.models import stats
from mnviewer.models.catalog import Catalog, twin_of

MOBILENETS = ["mobilenet-v1-1.0-224", "mobilenet-v1-0.75-192", "mobilenet-v1-0.5-160",
              "mobilenet-v1-0.25-128", "mobilenet-v2-1.0-224", "mobilenet-v2-1.0-224-ptq"]


def _runtime_conv_precisions(engine: Engine) -> Counter:
    runtime = engine.compiled.get_runtime_model()
    out: Counter = Counter()
    for op in runtime.get_ordered_ops():
        info = op.get_rt_info()
        kind = info["layerType"].astype(str)
        if kind in ("Convolution", "GroupConvolution", "Deconvolution"):
            out[info["runtimePrecision"].astype(str)] += 1
    return out


def test_build_everything_is_fast_and_complete(built_all: float, catalog: Catalog) -> None:
    assert built_all < 180, f"building every model took {built_all:.0f} s"
    for spec in catalog.models:
        assert build.built_precisions(spec.id) == ["int8", "fp16", "fp32"], spec.id


@pytest.mark.parametrize("model_id", [*MOBILENETS, "conv-mobilenet-1.0-224",
                                      "mobilenet-v1-1.0-224-fullconv"])
def test_int8_runs_every_convolution_in_int8(built_all: float, model_id: str) -> None:
    precisions = _runtime_conv_precisions(Engine(model_id, "int8"))
    assert precisions, "no convolution found in the runtime graph"
    assert set(precisions) <= {"u8", "i8"}, precisions


def test_fp32_runs_in_fp32_on_cpu(built_all: float) -> None:
    precisions = _runtime_conv_precisions(Engine("mobilenet-v1-0.25-128", "fp32"))
    assert set(precisions) == {"f32"}, precisions


def test_fp32_has_no_fake_quantize_and_fp16_is_compressed(built_all: float) -> None:
    core = ov.Core()
    fp32 = core.read_model(str(build.find_built("mobilenet-v1-1.0-224", "fp32").xml))
    kinds = Counter(op.get_type_name() for op in fp32.get_ordered_ops())
    assert kinds["FakeQuantize"] == 0
    fp16 = build.find_built("mobilenet-v1-1.0-224", "fp16")
    assert fp16.xml.with_suffix(".bin").stat().st_size < \
        0.6 * fp16.folder.joinpath("fp32.bin").stat().st_size


# Published (MobileNet paper and TF model zoo) MACs and parameters, in millions. The tables
# round to whole millions, so a count is accepted within 3% or within that rounding.
PUBLISHED = {
    "mobilenet-v1-1.0-224": (569, 4.2), "mobilenet-v1-0.75-192": (233, 2.6),
    "mobilenet-v1-0.5-160": (77, 1.3), "mobilenet-v1-0.25-128": (14, 0.47),
    "conv-mobilenet-1.0-224": (4866, 29.3), "mobilenet-v2-1.0-224": (300, 3.5),
    "mobilenet-v2-1.0-224-ptq": (300, 3.5),
}


def _close(counted: float, published: float, rounding: float) -> bool:
    return abs(counted - published) <= max(0.03 * published, rounding / 2)


@pytest.mark.parametrize(("model_id", "published"), PUBLISHED.items())
def test_macs_and_params_match_the_published_tables(built_all: float, model_id: str,
                                                    published: tuple[float, float]) -> None:
    meta = build.find_built(model_id, "int8").meta
    macs_m, params_m = meta["macs"] / 1e6, meta["params"] / 1e6
    assert _close(macs_m, published[0], 1.0), f"{macs_m:.1f} M MACs vs {published[0]}"
    assert _close(params_m, published[1], 0.1 if published[1] >= 1 else 0.01), \
        f"{params_m:.2f} M params vs {published[1]}"


def test_stats_agree_across_precisions_and_twins_cost_full_convolution(built_all: float
                                                                       ) -> None:
    core = ov.Core()
    counts = {p: stats.count(core.read_model(str(build.find_built("mobilenet-v1-1.0-224",
                                                                     p).xml)))
              for p in ("int8", "fp16", "fp32")}
    assert len({(c.macs, c.params) for c in counts.values()}) == 1
    twin = build.find_built("mobilenet-v1-1.0-224-fullconv", "int8").meta
    assert 4.7e9 < twin["macs"] < 4.95e9  # the paper's Conv MobileNet: 4.87 G
    assert twin["macs"] / counts["int8"].macs > 8


@pytest.mark.parametrize("precision", ["int8", "fp16", "fp32"])
@pytest.mark.parametrize("model_id", MOBILENETS)
def test_fullconv_twin_predicts_the_same_top1_on_every_image(
        built_all: float, imagenet_sample: list, catalog: Catalog, model_id: str,
        precision: str) -> None:
    twin_id = twin_of(catalog.get(model_id))
    assert twin_id is not None
    base = evaluate(Engine(model_id, precision), imagenet_sample)
    twin = evaluate(Engine(twin_id, precision), imagenet_sample)
    differ = [imagenet_sample[i].name for i, (a, b) in
              enumerate(zip(base.predictions, twin.predictions, strict=True)) if a != b]
    assert not differ, f"{twin_id} {precision} disagrees on {differ}"


def test_accuracy_ranks_by_width_and_int8_stays_close_to_fp32(built_all: float,
                                                              imagenet_sample: list) -> None:
    top1 = {(m, p): evaluate(Engine(m, p), imagenet_sample).top1
            for m in MOBILENETS for p in ("int8", "fp32")}
    widths = ["mobilenet-v1-0.25-128", "mobilenet-v1-0.5-160", "mobilenet-v1-0.75-192",
              "mobilenet-v1-1.0-224"]
    ranked = [top1[(m, "int8")] for m in widths]
    assert ranked == sorted(ranked) and len(set(ranked)) == 4, ranked
    for m in MOBILENETS:
        assert abs(top1[(m, "int8")] - top1[(m, "fp32")]) <= 0.02 + 1e-9, (m, top1)
    assert top1[("mobilenet-v1-1.0-224", "int8")] >= 0.7


def test_conv_mobilenet_is_untrained(built_all: float, imagenet_sample: list) -> None:
    result = evaluate(Engine("conv-mobilenet-1.0-224", "int8"), imagenet_sample[:20])
    assert result.top1 <= 0.1
    assert build.find_built("conv-mobilenet-1.0-224", "int8").meta["trained"] is False


def test_second_build_is_incremental(built_all: float, catalog: Catalog) -> None:
    messages: list[str] = []
    build.build_models(list(catalog.models), ["int8", "fp16", "fp32"], catalog=catalog,
                       progress=messages.append)
    assert messages == []


def test_truncated_model_file_is_detected_and_rebuilt(built_all: float, catalog: Catalog
                                                      ) -> None:
    found = build.find_built("mobilenet-v1-0.5-160", "fp16")
    bin_file = found.xml.with_suffix(".bin")
    data = bin_file.read_bytes()
    bin_file.write_bytes(data[: len(data) // 2])
    assert build.find_built("mobilenet-v1-0.5-160", "fp16") is None
    messages: list[str] = []
    build.build_models([catalog.get("mobilenet-v1-0.5-160")], ["fp16"], catalog=catalog,
                       progress=messages.append)
    assert messages and bin_file.read_bytes() == data


def test_model_file_changed_in_place_is_rebuilt(built_all: float, catalog: Catalog) -> None:
    found = build.find_built("mobilenet-v1-0.75-192", "int8")
    bin_file = found.xml.with_suffix(".bin")
    data = bin_file.read_bytes()
    bin_file.write_bytes(bytes(len(data)))  # same size, zeros
    assert build.find_built("mobilenet-v1-0.75-192", "int8") is None
    build.build_models([catalog.get("mobilenet-v1-0.75-192")], ["int8"], catalog=catalog)
    assert bin_file.read_bytes() == data


def test_corrupt_model_xml_gives_a_model_error(built_all: float) -> None:
    found = build.find_built("mobilenet-v1-0.25-128", "fp32")
    original = found.xml.read_bytes()
    meta_file = found.folder / build.META
    meta_text = meta_file.read_text()
    garbage = b"<net>" + b"x" * (len(original) - 5)
    try:
        stat = found.xml.stat()
        found.xml.write_bytes(garbage)  # same size and time: only reading it can tell
        os.utime(found.xml, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        with pytest.raises(ModelError, match="corrupt"):
            Engine("mobilenet-v1-0.25-128", "fp32")
    finally:
        found.xml.write_bytes(original)
        meta_file.write_text(meta_text)
    assert json.loads(meta_text)["precisions"]["fp32"]["xml_size"] == len(original)
