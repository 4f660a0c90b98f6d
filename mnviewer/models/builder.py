"""Turning pinned source files into OpenVINO IR in the cache: int8, fp16, fp32 and full-conv twins.

Builds are incremental: a model folder's meta.json records a key made of the source files'
sha256, the builder version and the model's definition; a precision whose key and file sizes
match is not built again. Files are written under temporary names and renamed into place, so an
interrupted build never leaves a half-written model under its final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openvino as ov

from mnviewer import paths
from mnviewer.atomic import reason, temp_name, write_text_atomic
from mnviewer.errors import ModelError, OutputError, UsageError
from mnviewer.models import convnet, graph, stats
from mnviewer.models.catalog import PRECISIONS, Catalog, ModelSpec, load_catalog

BUILDER_VERSION = 4
META = "meta.json"
LABELS = "labels.txt"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuiltModel:
    """One built (model, precision): the IR path and the model's metadata."""

    id: str
    precision: str
    xml: Path
    meta: dict

    @property
    def folder(self) -> Path:
        return self.xml.parent

    @property
    def labels_file(self) -> Path:
        return self.folder / LABELS


def parse_precisions(text: str | None) -> list[str]:
    """'int8,fp32' -> validated precision names (all when empty)."""
    if not text:
        return list(PRECISIONS)
    wanted = [p.strip().lower() for p in text.split(",") if p.strip()]
    bad = [p for p in wanted if p not in PRECISIONS]
    if bad:
        raise UsageError(f"unknown precision '{bad[0]}': choose from {', '.join(PRECISIONS)}")
    return list(dict.fromkeys(wanted))


def model_key(spec: ModelSpec, catalog: Catalog) -> str:
    """Changes whenever a source file, the builder or the model's definition changes."""
    h = hashlib.sha256(f"builder={BUILDER_VERSION};ov={ov.get_version()}".encode())
    h.update(repr((spec.id, spec.assemble, spec.fullconv, spec.seed, spec.resolution)).encode())
    for name in spec.sources:
        h.update(catalog.sources[name].sha256.encode())
    if spec.origin == "user":
        h.update(json.dumps(spec.user.get("preprocessing"), sort_keys=True).encode())
    return h.hexdigest()[:24]


def _read_meta(folder: Path) -> dict | None:
    try:
        return json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _files_intact(folder: Path, precision: str, entry: dict, *, own: bool = True) -> bool:
    """Sizes as written; in the user's own cache also the modification times, so that a
    file changed in place (same size, other bytes) is rebuilt rather than trusted. Bundled
    copies get new times when installed and are checked by size."""
    xml, bin_ = folder / f"{precision}.xml", folder / f"{precision}.bin"
    try:
        xs, bs = xml.stat(), bin_.stat()
        if xs.st_size != entry["xml_size"] or bs.st_size != entry["bin_size"]:
            return False
        return not own or (xs.st_mtime_ns == entry.get("xml_mtime_ns", xs.st_mtime_ns)
                           and bs.st_mtime_ns == entry.get("bin_mtime_ns", bs.st_mtime_ns))
    except (OSError, KeyError):
        return False


def _search_folders(model_id: str) -> list[Path]:
    folders = [paths.models_dir() / model_id]
    bundled = paths.bundled_models_dir()
    if bundled is not None:
        folders.append(bundled / model_id)
    return folders


def find_built(model_id: str, precision: str) -> BuiltModel | None:
    """The built model in the user cache or the bundle, with its files intact; else None."""
    for own, folder in enumerate(_search_folders(model_id)):
        meta = _read_meta(folder)
        entry = (meta or {}).get("precisions", {}).get(precision)
        if meta is not None and entry and _files_intact(folder, precision, entry,
                                                        own=own == 0):
            return BuiltModel(model_id, precision, folder / f"{precision}.xml", meta)
    return None


def find_all_built(model_id: str) -> list[BuiltModel]:
    """Every intact built precision of a model, in PRECISIONS order."""
    return [b for p in PRECISIONS if (b := find_built(model_id, p)) is not None]


def built_precisions(model_id: str) -> list[str]:
    return [b.precision for b in find_all_built(model_id)]


_core: ov.Core | None = None


def no_int8(spec: ModelSpec) -> UsageError:
    return UsageError(f"{spec.base_id or spec.id} is a float model imported without "
                      "calibration images, so it has no int8: import it again with "
                      "--calibration DIR --force, or choose fp16 or fp32")


def shared_core() -> ov.Core:
    """One OpenVINO Core for reading files (reading needs no device)."""
    global _core
    if _core is None:
        _core = ov.Core()
    return _core


class Builder:
    """Builds models from fetched sources; keeps each assembled base graph for its twins."""

    def __init__(self, catalog: Catalog | None = None, progress: Progress | None = None):
        self.catalog = catalog or load_catalog()
        self.progress = progress or (lambda _msg: None)
        self._core = shared_core()
        self._bases: dict[str, ov.Model] = {}

    def remember(self, model_id: str, base: ov.Model) -> None:
        """Use `base` as the model's assembled graph (an import has just rebuilt it)."""
        self._bases[model_id] = base

    def _source_path(self, name: str) -> Path:
        from mnviewer.models import fetch

        return fetch.fetch_source(self.catalog.sources[name])

    def _assemble(self, spec: ModelSpec) -> ov.Model:
        """The float-weight graph with activation FakeQuantize, before precision choices."""
        base_id = spec.base_id or spec.id
        if base_id not in self._bases:
            base = self.catalog.get(base_id)
            if base.assemble == "conv_mobilenet":
                model = convnet.build_conv_mobilenet(base.resolution, base.classes, base.seed)
            elif base.assemble == "import":
                model = self._imported(base)
            else:
                files = [self._source_path(n) for n in base.model_sources]
                try:
                    parts = [self._core.read_model(str(f)) for f in files]
                except RuntimeError as exc:
                    raise ModelError(f"cannot read {files[0].name} ({reason(exc)}):"
                                     f" run 'mnviewer models fetch {base.id}' again") from exc
                model = graph.join(*parts) if base.assemble == "join" else parts[0]
                model = graph.fold_weights(graph.normalize_io(model, base.id))
            self._bases[base_id] = model
        return self._bases[base_id].clone()

    def _imported(self, spec: ModelSpec) -> ov.Model:
        from mnviewer.models import importer, user

        source = self._source_path(spec.sources[0])
        raw = importer.read_graph(source, spec.user["format"], self._core)
        return importer.base_graph(user.description_of(spec.user, raw, source))

    def _int8(self, spec: ModelSpec, base: ov.Model) -> ov.Model:
        """int8 weights: re-expressed from a quantized file's graph, or the graph NNCF
        quantized at import for a float model."""
        if spec.origin != "user" or spec.user.get("int8") == "native":
            return graph.quantize_weights(base.clone())
        if spec.user.get("int8") != "calibrated":
            raise no_int8(spec)
        from mnviewer.models.user import INT8

        path = self._source_path(f"{spec.user['id']}/{INT8}")
        try:
            return self._core.read_model(str(path))
        except RuntimeError as exc:
            raise ModelError(f"cannot read the int8 graph {path} ({reason(exc)}): import the "
                             "model again with --force") from exc

    def build(self, spec: ModelSpec, precisions: list[str],
              force: bool = False) -> list[BuiltModel]:
        """Build the missing or stale precisions of one model; return all requested ones."""
        folder = paths.models_dir() / spec.id
        key = model_key(spec, self.catalog)
        meta = _read_meta(folder)
        if meta is None or meta.get("key") != key:
            meta = {"id": spec.id, "key": key, "precisions": {}}
        todo = [p for p in precisions if force
                or not _files_intact(folder, p, meta["precisions"].get(p, {}))]
        if todo:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot write the model cache {folder} ({exc.strerror}): "
                                  "set MNVIEWER_HOME to a writable folder") from exc
            self._build_precisions(spec, folder, meta, todo)
        return [BuiltModel(spec.id, p, folder / f"{p}.xml", meta) for p in precisions]

    def _build_precisions(self, spec: ModelSpec, folder: Path, meta: dict,
                          todo: list[str]) -> None:
        start = time.perf_counter()
        self.progress(f"building {spec.id} ({', '.join(todo)})")
        base = self._assemble(spec)
        counted = stats.count(graph.to_fullconv(base.clone()) if spec.fullconv else base)
        meta.update(
            macs=counted.macs, params=counted.params, layers=counted.layers,
            input_size=[spec.resolution, spec.resolution], classes=spec.classes,
            trained=spec.trained, fullconv=spec.fullconv, builder_version=BUILDER_VERSION,
            origin=spec.origin,
        )
        if spec.origin == "user":
            from mnviewer.models.importer import Preprocessing

            meta.update(crop=Preprocessing.from_json(spec.user["preprocessing"]).crop,
                        background_class=bool(spec.user.get("background_class")))
        write_text_atomic(folder / LABELS,
                          self._source_path(spec.labels).read_text(encoding="utf-8"),
                          hint="set MNVIEWER_HOME to a folder with space")
        for precision in todo:
            t0 = time.perf_counter()
            if precision == "int8":
                model = self._int8(spec, base)
            else:
                model = graph.strip_fake_quantize(base.clone())
            if spec.fullconv:
                model = graph.to_fullconv(model)
            meta["precisions"][precision] = self._save(model, folder, precision)
            meta["precisions"][precision]["build_s"] = round(time.perf_counter() - t0, 3)
        meta["build_s"] = round(time.perf_counter() - start, 3)
        write_text_atomic(folder / META, json.dumps(meta, indent=1),
                          hint="set MNVIEWER_HOME to a folder with space")

    @staticmethod
    def _save(model: ov.Model, folder: Path, precision: str) -> dict:
        final = folder / f"{precision}.xml"
        # Unique per process and thread: the GUI may build while a CLI build runs.
        tmp = temp_name(final)
        try:
            ov.save_model(model, str(tmp), compress_to_fp16=(precision == "fp16"))
            tmp_bin = tmp.with_suffix(".bin")
            # The .bin goes first: a reader checks both sizes against meta.json anyway.
            os.replace(tmp_bin, final.with_suffix(".bin"))
            os.replace(tmp, final)
        except (OSError, RuntimeError) as exc:
            for leftover in (tmp, tmp.with_suffix(".bin")):
                leftover.unlink(missing_ok=True)
            raise OutputError(f"cannot write {precision} model into {folder} ({reason(exc)}): "
                              "free disk space or set MNVIEWER_HOME") from exc
        xs, bs = final.stat(), final.with_suffix(".bin").stat()
        return {"xml_size": xs.st_size, "bin_size": bs.st_size,
                "xml_mtime_ns": xs.st_mtime_ns, "bin_mtime_ns": bs.st_mtime_ns}


def build_models(specs: list[ModelSpec], precisions: list[str], *, force: bool = False,
                 catalog: Catalog | None = None, progress: Progress | None = None
                 ) -> list[BuiltModel]:
    """Build every (model, precision); twins reuse their base model's assembled graph."""
    builder = Builder(catalog, progress)
    built: list[BuiltModel] = []
    for spec in specs:
        # A float model imported without calibration images has no int8 to build.
        offered = [p for p in precisions if p in spec.precisions]
        built.extend(builder.build(spec, offered, force=force))
    return built


def ensure_built(model_id: str, precision: str, progress: Progress | None = None) -> BuiltModel:
    """A usable built model: found in the cache or bundle, or fetched and built now."""
    found = find_built(model_id, precision)
    if found is not None:
        return found
    catalog = load_catalog()
    spec = catalog.get(model_id)
    if precision not in spec.precisions:
        raise no_int8(spec)
    return build_models([spec], [precision], catalog=catalog, progress=progress)[0]
