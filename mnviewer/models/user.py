"""The user's own models: imported into the cache, then listed, built and run like catalog ones.

Each imported model is a folder `<cache>/user-models/<id>/` holding a copy of the file (so it
keeps working when the original moves), its labels, `model.json` (sha256, preprocessing,
classes) and, for a float model quantized at import, the int8 graph. The folder is written
under a temporary name and renamed into place, and its built models are made before the
import reports success: an interrupted or failed import leaves nothing under the model's name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mnviewer import paths
from mnviewer.atomic import sha256_of
from mnviewer.errors import ImportFailed, OutputError, UsageError
from mnviewer.models.catalog import FULLCONV_SUFFIX, ModelSpec, SourceFile

if TYPE_CHECKING:  # the importer loads OpenVINO: listing the catalog must not
    import openvino as ov

    from mnviewer.models.importer import Description, ImportOptions

RECORD = "model.json"
LABELS = "labels.txt"
INT8 = "int8.xml"
INT8_BIN = "int8.bin"
USER_LICENSE = "the model's own (imported by the user)"
BACKGROUND_NAMES = ("background", "__background__")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

Progress = Callable[[str], None]


def user_dir() -> Path:
    return paths.home() / "user-models"


def slug(name: str) -> str:
    """A model id from a file name: lower case, letters, digits, '.', '_' and '-'."""
    text = re.sub(r"[^a-z0-9._-]+", "-", Path(name).stem.lower()).strip("-._")
    return text[:64] or "model"


def check_id(model_id: str) -> str:
    if not ID_PATTERN.match(model_id) or model_id.endswith(FULLCONV_SUFFIX):
        raise UsageError(f"model id '{model_id}' is not usable: use lower-case letters, digits, "
                         f"'.', '_' or '-' (up to 64), not ending in '{FULLCONV_SUFFIX}'")
    return model_id


# ---------------------------------------------------------------------------- the registry


def _read_record(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("id") == folder.name else None


def records() -> list[dict]:
    """Every imported model's record, by id."""
    try:
        folders = sorted(p for p in user_dir().iterdir()
                         if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    return [r for f in folders if (r := _read_record(f)) is not None]


def spec_of(record: dict) -> ModelSpec:
    prep = record["preprocessing"]
    names = [f"{record['id']}/{record['source']}", f"{record['id']}/{LABELS}"]
    if record.get("int8") == "calibrated":
        names += [f"{record['id']}/{INT8}", f"{record['id']}/{INT8_BIN}"]
    return ModelSpec(
        id=record["id"], family="user", width=1.0, resolution=int(prep["input_size"]),
        labels=names[1], sources=tuple(names), assemble="import", trained=True,
        classes=int(record["classes"]), paper_macs=0.0, paper_params=0.0,
        origin="user", user=record,
    )


def user_entries(taken: set[str]) -> tuple[dict[str, SourceFile], list[ModelSpec]]:
    """Source files and specs of the imported models, for the catalog."""
    sources: dict[str, SourceFile] = {}
    specs: list[ModelSpec] = []
    for record in records():
        folder = user_dir() / record["id"]
        spec = spec_of(record)
        for name in spec.sources:
            local = folder / name.split("/", 1)[1]
            entry = record.get("files", {}).get(local.name, {})
            sources[name] = SourceFile(
                name=name, url=local.as_uri(), size=int(entry.get("size", -1)),
                sha256=entry.get("sha256", ""), license=USER_LICENSE,
                description=f"imported from {record.get('file', '?')}", local=str(local))
        specs.append(spec)
    return {k: v for k, v in sources.items() if k not in taken}, specs


# ---------------------------------------------------------------------------- import


def file_record(path: Path) -> dict:
    """sha256 and size of a file the import keeps."""
    return {"sha256": sha256_of(path), "size": path.stat().st_size}


def _copy(src: Path, dst: Path) -> dict:
    try:
        shutil.copyfile(src, dst)
        with dst.open("rb") as fh:
            os.fsync(fh.fileno())
    except OSError as exc:
        raise OutputError(f"cannot copy {src} into the cache {dst.parent} "
                          f"({exc.strerror or exc}): free disk space or set MNVIEWER_HOME") from exc
    return file_record(dst)


def _labels_text(desc: Description) -> tuple[str, bool]:
    """labels.txt always holds one line per output; a leading background class is named."""
    n = desc.classes
    if desc.labels is None:
        return "\n".join(f"class {i}" for i in range(n)) + "\n", False
    if len(desc.labels) == n - 1:
        return "\n".join(["background", *desc.labels]) + "\n", True
    # TF's 1001-class label files name the background class on their first line.
    background = desc.labels[0].strip().lower() in BACKGROUND_NAMES
    return "\n".join(desc.labels) + "\n", background


def _record(model_id: str, desc: Description, depthwise: bool, background: bool) -> dict:
    quant = desc.input_quant
    return {
        "id": model_id, "origin": "user", "format": desc.format, "file": str(desc.path),
        "source": "source" + (".xml" if desc.format == "ir" else desc.path.suffix.lower()),
        "preprocessing": desc.preprocessing.to_json(),
        "input_quant": None if quant is None else
        {"dtype": quant.dtype, "scale": quant.scale, "zero_point": quant.zero_point},
        "classes": desc.classes, "background_class": background,
        "labels_from": "generated (class N)" if desc.labels is None else desc.labels_from,
        "quantized": desc.quantized, "depthwise": depthwise,
        "int8": "native" if desc.quantized else None,
        "notes": list(desc.notes), "imported": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def description_of(record: dict, raw_model: ov.Model, path: Path) -> Description:
    """A stored record back as a Description of the copied file (no deciding again)."""
    from mnviewer.models.importer import Description, Preprocessing, Quantization

    quant = record.get("input_quant")
    return Description(
        path=path, format=record["format"], model=raw_model,
        preprocessing=Preprocessing.from_json(record["preprocessing"]),
        classes=int(record["classes"]), labels=None, labels_from=record["labels_from"],
        quantized=bool(record["quantized"]),
        input_quant=None if quant is None else Quantization(**quant))


Cancelled = Callable[[], bool]


class ImportCancelled(ImportFailed):
    """The user cancelled the import (nothing was kept)."""


def import_model(path: Path, options: ImportOptions, *, progress: Progress | None = None,
                 calibration_frames: list | None = None, show_progress: bool = False,
                 cancelled: Cancelled | None = None) -> str:
    """Import a user's model file: describe and check it, stage a copy (quantized if asked),
    move it into place and build it; returns its id. A failure or cancel at any step keeps
    the earlier import of the same id, if any, and leaves nothing else under the id."""
    from mnviewer.models import builder, importer

    say = progress or (lambda _msg: None)
    stop = cancelled or (lambda: False)
    path = Path(path).expanduser()
    importer.model_format(path)
    model_id = _free_id(options.model_id or slug(path.name), path, options.force)
    clean_leftovers()
    say(f"reading {path.name}")
    desc = importer.describe(path, options, builder.shared_core())
    base = importer.base_graph(desc)
    staging = user_dir() / f".{model_id}.partial-{os.getpid()}"
    _clean(staging)
    try:
        record = _stage(staging, model_id, desc, base, options, calibration_frames, say,
                        show_progress, stop)
        _check(not stop())
        old = _commit(staging, user_dir() / model_id, path, force=options.force)
    except BaseException:
        _clean(staging)
        raise
    try:
        _build(record, base, say)
        _check(not stop())
    except BaseException:
        remove_model(model_id, missing_ok=True)
        if old is not None:
            with contextlib.suppress(OSError):
                os.rename(old, user_dir() / model_id)
        raise
    if old is not None:
        _clean(old)
    return model_id


def _check(go_on: bool) -> None:
    if not go_on:
        raise ImportCancelled("import cancelled: nothing was kept")


def _free_id(model_id: str, path: Path, force: bool) -> str:
    from mnviewer.models.catalog import load_catalog

    check_id(model_id)
    shipped = load_catalog(user=False)
    if any(m.id in (model_id, model_id + FULLCONV_SUFFIX) for m in shipped.models):
        raise ImportFailed(f"{path}: model id '{model_id}' belongs to a built-in model: "
                           "choose another with --id")
    if (user_dir() / model_id).exists() and not force:
        raise ImportFailed(f"{path}: model id '{model_id}' exists already: choose another "
                           "with --id, or add --force to replace it")
    return model_id


def _stage(staging: Path, model_id: str, desc: Description, base: ov.Model,
           options: ImportOptions, frames: list | None, say: Progress, show_progress: bool,
           stop: Cancelled) -> dict:
    """Everything the import keeps, written into the staging folder; returns the record."""
    from mnviewer.models import builder, importer

    labels_text, background = _labels_text(desc)
    record = _record(model_id, desc, importer.has_depthwise(base), background)
    staging.mkdir(parents=True)
    files = {record["source"]: _copy(desc.path, staging / record["source"])}
    if desc.format == "ir":
        files["source.bin"] = _copy(desc.path.with_suffix(".bin"), staging / "source.bin")
    try:
        importer.read_graph(staging / record["source"], desc.format, builder.shared_core())
    except ImportFailed as exc:
        raise ImportFailed(f"{desc.path} does not work on its own once copied (its weights "
                           "are in other files beside it): save it as one file, e.g. ONNX "
                           "without external data") from exc
    (staging / LABELS).write_text(labels_text, encoding="utf-8")
    files[LABELS] = file_record(staging / LABELS)
    wants_int8 = options.calibration is not None or bool(frames)
    if wants_int8 and desc.quantized:
        record["notes"].append("calibration images not used: the file is quantized already")
    elif wants_int8:
        from mnviewer.models import quantize

        _check(not stop())
        say("quantizing to int8 with NNCF")
        images = quantize.calibration_images(options.calibration, frames,
                                             desc.preprocessing)
        int8, agreement = quantize.quantize(base, images, desc.preprocessing,
                                            show_progress=show_progress)
        files.update(quantize.save(int8, staging / INT8))
        record["int8"] = "calibrated"
        record["calibration"] = {"images": len(images), "top1_agreement": agreement,
                                 "from": str(options.calibration or "frames of the source")}
    record["files"] = files
    (staging / RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def _build(record: dict, base: ov.Model, say: Progress) -> None:
    """Every precision of the imported model, from the graph the import already rebuilt."""
    from mnviewer.models.builder import Builder
    from mnviewer.models.catalog import load_catalog

    model_id = record["id"]
    say(f"building {model_id}")
    for stale in (model_id, model_id + FULLCONV_SUFFIX):
        _clean(paths.models_dir() / stale)
    spec = spec_of(record)
    builder = Builder(load_catalog(), say)
    builder.remember(model_id, base)
    builder.build(spec, list(spec.precisions), force=True)


def _commit(staging: Path, final: Path, path: Path, *, force: bool) -> Path | None:
    """Rename the staged folder into place. Without force an existing folder (another import
    of the same id that won a race) is a duplicate; with force the older import is moved
    aside and returned, to be deleted once the new one is built, or put back."""
    old = final.with_name(f".{final.name}.old-{os.getpid()}") if force else None
    try:
        if old is not None and final.exists():
            os.replace(final, old)
        else:
            old = None
        os.rename(staging, final)
    except OSError as exc:
        if final.exists() and not force:
            raise ImportFailed(f"{path}: model id '{final.name}' exists already: choose "
                               "another with --id, or add --force to replace it") from exc
        raise OutputError(f"cannot write {final} ({exc.strerror or exc}): free disk space or "
                          "set MNVIEWER_HOME") from exc
    return old


def _clean(folder: Path) -> None:
    with contextlib.suppress(OSError):
        shutil.rmtree(folder)


def remove_model(model_id: str, *, missing_ok: bool = False) -> None:
    """Remove an imported model, its twin and their built files."""
    folder = user_dir() / model_id
    if not (folder / RECORD).is_file():
        if missing_ok:
            _clean(folder)
            return
        names = ", ".join(r["id"] for r in records()) or "none imported"
        raise UsageError(f"'{model_id}' is not an imported model: choose one of {names}")
    trash = folder.with_name(f".{model_id}.removed-{os.getpid()}")
    try:
        os.replace(folder, trash)
    except OSError as exc:
        raise OutputError(f"cannot remove {folder} ({exc.strerror or exc})") from exc
    _clean(trash)
    for built in (model_id, model_id + FULLCONV_SUFFIX):
        _clean(paths.models_dir() / built)


def clean_leftovers() -> None:
    """Folders of imports that were interrupted (a killed process) are removed."""
    try:
        leftovers = [p for p in user_dir().iterdir() if p.name.startswith(".")]
    except OSError:
        return
    for folder in leftovers:
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _alive(int(pid)):
            continue
        _clean(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


