"""The model side of the GUI, Qt-free: how models group in the selector, and loading an engine."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from mnviewer.engine import Engine
from mnviewer.errors import UsageError
from mnviewer.models import builder as build
from mnviewer.models.catalog import PRECISIONS, Catalog, ModelSpec, load_catalog, twin_of

# Builds write into one cache folder under fixed temporary names; the window can start a build
# from a model switch, the first-run dialog and the benchmark panel at once, so they queue here.
BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class EngineRequest:
    """What the user asked to run."""

    model: str
    precision: str
    device: str

    @property
    def label(self) -> str:
        return f"{self.model} {self.precision} on {self.device}"


def make_engine(request: EngineRequest, progress: Callable[[str], None] | None = None) -> Engine:
    """Build the model if needed, then compile it. Slow: call it off the GUI thread."""
    with BUILD_LOCK:
        build.ensure_built(request.model, request.precision, progress=progress)
    return Engine(request.model, request.precision, request.device)


def build_all(specs: list[ModelSpec], precisions: list[str],
              progress: Callable[[str], None] | None = None) -> None:
    """Build the given models one by one (see BUILD_LOCK)."""
    with BUILD_LOCK:
        build.build_models(specs, precisions, progress=progress)


@dataclass(frozen=True)
class ModelEntry:
    """One line of the model selector."""

    id: str
    macs: int
    params: int
    trained: bool
    fullconv: bool

    @property
    def label(self) -> str:
        size = (f"{si(self.macs)} MACs · {si(self.params)} params" if self.macs
                else "size known once built")
        return f"{self.id} · {size}" + ("" if self.trained else " · untrained")


def si(value: float) -> str:
    """569000000 -> '569 M', 4830000000 -> '4.83 G' (three significant digits)."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g} {prefix}"
    return f"{value:.3g}"


def _entry(spec: ModelSpec) -> ModelEntry:
    meta = _built_meta(spec.id) or {"macs": spec.paper_macs, "params": spec.paper_params}
    return ModelEntry(spec.id, int(meta.get("macs", 0)), int(meta.get("params", 0)),
                      spec.trained, spec.fullconv)


def _built_meta(model_id: str) -> dict | None:
    for precision in PRECISIONS:
        found = build.find_built(model_id, precision)
        if found is not None:
            return found.meta
    return None


def model_groups(catalog: Catalog | None = None) -> list[tuple[str, list[ModelEntry]]]:
    """Selector groups: V1 by width and resolution (each with its twin), V2, Conv MobileNet."""
    catalog = catalog or load_catalog()
    groups: dict[str, list[ModelEntry]] = {}
    for spec in catalog.models:
        if spec.fullconv:
            continue
        family = {"mobilenet_v1": "MobileNet V1", "mobilenet_v2": "MobileNet V2",
                  "user": "Your models"}.get(
            spec.family, "Conv MobileNet (full convolution, untrained)")
        title = f"{family} · width {spec.width:g} · {spec.resolution}×{spec.resolution}" \
            if spec.family == "mobilenet_v1" else family
        entries = groups.setdefault(title, [])
        entries.append(_entry(spec))
        twin = twin_of(spec)
        if twin is not None:
            entries.append(_entry(catalog.get(twin)))
    return list(groups.items())


def partner_of(model_id: str, catalog: Catalog | None = None) -> str | None:
    """What compare mode runs beside a model: a MobileNet's twin, or a twin's MobileNet."""
    spec = (catalog or load_catalog()).get(model_id)
    return spec.base_id if spec.fullconv else twin_of(spec)


def is_trained(model_id: str, catalog: Catalog | None = None) -> bool:
    """False for Conv MobileNet: a speed reference with random weights, its labels mean nothing.

    A -fullconv twin is trained: its dense weights are block-diagonal copies of the depthwise
    ones, so it predicts what its MobileNet predicts.
    """
    try:
        return (catalog or load_catalog()).get(model_id).trained
    except UsageError:
        return True


def any_built(catalog: Catalog | None = None) -> bool:
    """Whether at least one model is built (if not, this is a first run)."""
    catalog = catalog or load_catalog()
    return any(_built_meta(spec.id) for spec in catalog.models)
