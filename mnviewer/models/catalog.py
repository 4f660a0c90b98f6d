"""The known models, read from models/catalog.json; each MobileNet also has a '-fullconv' twin."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from mnviewer import paths
from mnviewer.errors import ModelError, UsageError

PRECISIONS = ("int8", "fp16", "fp32")
FULLCONV_SUFFIX = "-fullconv"


@dataclass(frozen=True)
class SourceFile:
    name: str
    url: str
    size: int
    sha256: str
    license: str
    description: str
    local: str = ""  # a user's imported file, kept in the cache: never fetched


@dataclass(frozen=True)
class ModelSpec:
    id: str
    family: str
    width: float
    resolution: int
    labels: str
    sources: tuple[str, ...]
    assemble: str
    trained: bool
    classes: int
    paper_macs: float
    paper_params: float
    fullconv: bool = False
    base_id: str = ""
    seed: int = 0
    published_top1: float | None = None  # ImageNet top-1 published for the source file
    top1_source: str = ""  # where that figure is published, or why there is none
    origin: str = "catalog"  # or "user": imported with `mnviewer models add`
    # An imported model's record (mnviewer.models.user): preprocessing, labels, int8 source.
    user: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def precisions(self) -> tuple[str, ...]:
        """Precisions this model can be built in: a float model imported without
        calibration images has no int8."""
        if self.origin == "user" and not self.user.get("int8"):
            return tuple(p for p in PRECISIONS if p != "int8")
        return PRECISIONS

    @property
    def model_sources(self) -> tuple[str, ...]:
        """Source files that hold weights (everything but the labels)."""
        return tuple(s for s in self.sources if s != self.labels)


@dataclass(frozen=True)
class Catalog:
    sources: dict[str, SourceFile]
    models: tuple[ModelSpec, ...]
    demo_video: str

    def get(self, model_id: str) -> ModelSpec:
        for spec in self.models:
            if spec.id == model_id:
                return spec
        known = ", ".join(m.id for m in self.models)
        raise UsageError(f"unknown model id '{model_id}': choose one of {known}")

    def resolve(self, ids: list[str] | None) -> list[ModelSpec]:
        """Specs for the given ids (all models when empty), in catalog order, unique."""
        if not ids:
            return list(self.models)
        wanted = [self.get(i) for i in ids]
        return list(dict.fromkeys(wanted))


def _spec(raw: dict) -> ModelSpec:
    paper = raw.get("paper", {})
    return ModelSpec(
        id=raw["id"],
        family=raw["family"],
        width=float(raw["width"]),
        resolution=int(raw["resolution"]),
        labels=raw["labels"],
        sources=tuple(raw["sources"]),
        assemble=raw["assemble"],
        trained=bool(raw.get("trained", True)),
        classes=int(raw.get("classes", 1001)),
        paper_macs=float(paper.get("macs", 0)),
        paper_params=float(paper.get("params", 0)),
        seed=int(raw.get("seed", 0)),
        **_published_top1(raw.get("published_top1")),
    )


def _published_top1(raw: dict | None) -> dict:
    if not raw:
        return {}
    value = raw.get("value")
    return {"published_top1": None if value is None else float(value),
            "top1_source": str(raw.get("source", ""))}


def _twin(spec: ModelSpec) -> ModelSpec:
    return replace(
        spec, id=spec.id + FULLCONV_SUFFIX, fullconv=True, base_id=spec.id,
        paper_macs=0.0, paper_params=0.0,
    )


def parse_catalog(data: dict) -> Catalog:
    sources = {
        name: SourceFile(name=name, url=s["url"], size=int(s["size"]), sha256=s["sha256"],
                         license=s["license"], description=s.get("description", ""))
        for name, s in data["sources"].items()
    }
    models = [_spec(raw) for raw in data["models"]]
    twins = [_twin(m) for m in models if twin_of(m)]
    return Catalog(sources=sources, models=tuple(models + twins), demo_video=data["demo_video"])


@lru_cache(maxsize=4)
def _load(path: Path) -> Catalog:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model catalog {path} is unreadable ({exc}): reinstall mnviewer") from exc
    return parse_catalog(data)


def load_catalog(path: Path | None = None, *, user: bool = True) -> Catalog:
    """The catalog shipped with mnviewer (or the one at `path`), followed by the models the
    user imported into the cache (and their twins) unless user=False."""
    shipped = _load(path or paths.catalog_file())
    if not user:
        return shipped
    from mnviewer.models.user import user_entries

    sources, specs = user_entries(set(shipped.sources))
    if not specs:
        return shipped
    twins = [_twin(m) for m in specs if twin_of(m)]
    return Catalog(sources={**shipped.sources, **sources},
                   models=shipped.models + tuple(specs + twins), demo_video=shipped.demo_video)


def twin_of(spec: ModelSpec) -> str | None:
    """Id of the full-convolution twin of a MobileNet (or of an imported model with depthwise
    convolutions), or None."""
    if spec.fullconv:
        return None
    if spec.origin == "user":
        return spec.id + FULLCONV_SUFFIX if spec.user.get("depthwise") else None
    if not spec.family.startswith("mobilenet"):
        return None
    return spec.id + FULLCONV_SUFFIX
