"""The known models, read from models/catalog.json; each MobileNet also has a '-fullconv' twin."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
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


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog shipped with mnviewer (or the one at `path`)."""
    return _load(path or paths.catalog_file())


def twin_of(spec: ModelSpec) -> str | None:
    """Id of the full-convolution twin of a MobileNet, or None."""
    if spec.fullconv or not spec.family.startswith("mobilenet"):
        return None
    return spec.id + FULLCONV_SUFFIX
