"""Stage what the bundle ships besides code: the default model, source files and licenses.

Run by packaging/build.sh with the project's Python, before PyInstaller:

    python packaging/stage.py --stage build/package/stage --home build/package/home

Models are built into the private cache `--home` (MNVIEWER_HOME), so the user's cache is never
read or written; it is kept between runs, so only what changed is rebuilt. MNVIEWER_MIRROR is
honoured for the source files. The stage folder (emptied first) gets:

    prebuilt/<default id>/int8.{xml,bin}, meta.json, labels.txt   (what find_built() looks for)
    prebuilt/sources/{*.tflite, imagenet_labels.txt, bottle-detection.mp4}  (fetch, offline)
    licenses/                                                     (model, video, third-party)
    icons/mnviewer.png (256x256), icons/mnviewer.svg              (for the desktop menu)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mnviewer.models.catalog import Catalog

REPO = Path(__file__).resolve().parents[1]
# Only the default model ships prebuilt, in the default precision: every other model, precision
# and twin (and Conv MobileNet) is built on first use from prebuilt/sources in seconds.
SHIPPED_PRECISIONS = ["int8"]
VIDEO_ATTRIBUTION = "bottle-detection.mp4 — intel-iot-devkit/sample-videos, CC BY 4.0"
LICENSE_FILES = (
    REPO / "models" / "LICENSE-models-Apache-2.0.txt",
    REPO / "resources" / "LICENSE-videos-CC-BY-4.0.txt",
)
# License texts the wheels reference but do not ship (Qt for Python); Debian has them.
COMMON_LICENSES = {"LGPL-3.0": "LGPL-3", "GPL-3.0": "GPL-3"}
LICENSE_NAME = re.compile(r"LICEN[CS]E|COPYING|NOTICE|third-party-programs", re.I)
# Requirements that mnviewer.spec leaves out of the bundle.
NOT_BUNDLED = {"mnviewer", "openvino-telemetry"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=Path, required=True, help="output folder (emptied)")
    parser.add_argument("--home", type=Path, required=True, help="private MNVIEWER_HOME")
    args = parser.parse_args(argv)
    # Set before mnviewer reads it: builds and fetches go to the temporary cache only.
    os.environ["MNVIEWER_HOME"] = str(args.home.resolve())
    os.environ.pop("MNVIEWER_BUNDLED_MODELS", None)
    sys.path.insert(0, str(REPO))

    from mnviewer.models.catalog import load_catalog

    catalog = load_catalog(REPO / "models" / "catalog.json")
    stage = args.stage.resolve()
    if stage.exists():
        shutil.rmtree(stage)
    prebuilt = stage / "prebuilt"
    shipped = stage_models(catalog, prebuilt)
    stage_sources(catalog, prebuilt / "sources")
    stage_licenses(catalog, shipped, stage / "licenses")
    stage_icons(stage / "icons")
    return 0


def stage_models(catalog: Catalog, prebuilt: Path) -> dict[str, list[str]]:
    """Build the default model in the temporary cache and copy it; returns id -> precisions."""
    from mnviewer import paths
    from mnviewer.commands.run import DEFAULT_MODEL
    from mnviewer.models.builder import build_models

    def progress(msg: str) -> None:
        print(f"  {msg}", flush=True)

    start = time.perf_counter()
    spec = catalog.get(DEFAULT_MODEL)
    build_models([spec], SHIPPED_PRECISIONS, catalog=catalog, progress=progress)
    print(f"models built in {time.perf_counter() - start:.1f} s", flush=True)

    src, dst = paths.models_dir() / spec.id, prebuilt / spec.id
    dst.mkdir(parents=True)
    names = ["meta.json", "labels.txt"]
    names += [f"{p}.{ext}" for p in SHIPPED_PRECISIONS for ext in ("xml", "bin")]
    for name in names:
        shutil.copyfile(src / name, dst / name)
    return {spec.id: list(SHIPPED_PRECISIONS)}


def stage_sources(catalog: Catalog, folder: Path) -> None:
    """Every source file (model files, labels, demo video), sha256-checked by fetch.

    With the .tflite files inside, the precisions not prebuilt can be built offline too.
    """
    from mnviewer.models.fetch import fetch_source

    folder.mkdir(parents=True)
    for name in sorted(catalog.sources):
        shutil.copyfile(fetch_source(catalog.sources[name]), folder / name)


def stage_icons(folder: Path, size: int = 256) -> None:
    """The app icon for the hicolor theme: the SVG as is, the PNG at exactly size x size."""
    import cv2

    folder.mkdir(parents=True)
    shutil.copyfile(REPO / "resources" / "mnviewer.svg", folder / "mnviewer.svg")
    png = cv2.imread(str(REPO / "resources" / "mnviewer.png"), cv2.IMREAD_UNCHANGED)
    if png is None:
        raise SystemExit("resources/mnviewer.png is not a readable PNG")
    if png.shape[:2] != (size, size):
        interpolation = cv2.INTER_AREA if png.shape[0] > size else cv2.INTER_CUBIC
        png = cv2.resize(png, (size, size), interpolation=interpolation)
    cv2.imwrite(str(folder / "mnviewer.png"), png)


def stage_licenses(catalog: Catalog, shipped: dict[str, list[str]], folder: Path) -> None:
    folder.mkdir(parents=True)
    for path in LICENSE_FILES:
        shutil.copyfile(path, folder / path.name)
    components = stage_third_party(folder / "third-party")
    text = notices_text(catalog, shipped, components)
    (folder / "THIRD-PARTY-NOTICES.txt").write_text(text, encoding="utf-8")


def notices_text(catalog: Catalog, shipped: dict[str, list[str]], components: list[str]) -> str:
    from mnviewer import __version__

    lines = [
        f"mnviewer {__version__} — third-party notices",
        "",
        "PREBUILT MODELS (prebuilt/<id>/ in this bundle)",
        "Converted to OpenVINO IR from the files below; the int8 weights are requantized and",
        "the '-fullconv' twins replace each depthwise separable block by a full convolution",
        "with the same output shape (timing references, not trained).",
        "License texts: LICENSE-models-Apache-2.0.txt.",
        "",
    ]
    for spec in catalog.models:
        if spec.id not in shipped:
            continue
        lines.append(f"{spec.id} ({', '.join(shipped[spec.id])})")
        base = catalog.get(spec.base_id) if spec.base_id else spec
        if not base.model_sources:
            lines.append("  generated from a fixed random seed; no third-party weights")
        for name in base.model_sources:
            src = catalog.sources[name]
            lines.append(f"  {name} — {src.license} — {src.url}")
            lines.append(f"    sha256 {src.sha256}")
        lines.append(f"  labels.txt = {spec.labels}")
        lines.append("")
    video = catalog.sources[catalog.demo_video]
    lines += [
        "BUNDLED FILES (prebuilt/sources/: every other model is built from these on first use)",
        f"{VIDEO_ATTRIBUTION} — {video.url}",
        f"  sha256 {video.sha256}; license text: LICENSE-videos-CC-BY-4.0.txt",
    ]
    for name in sorted(n for n in catalog.sources if n != catalog.demo_video):
        src = catalog.sources[name]
        lines.append(f"{name} — {src.license} — {src.url}")
        lines.append(f"  sha256 {src.sha256}")
    lines += [
        "",
        "RUNTIME COMPONENTS (license texts in third-party/<name>/)",
        *components,
        "",
    ]
    return "\n".join(lines)


def stage_third_party(folder: Path) -> list[str]:
    """Copy the license files of the frozen runtime; returns one summary line per component."""
    lines = []
    python = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if python.is_file():
        (folder / "Python").mkdir(parents=True)
        shutil.copyfile(python, folder / "Python" / "LICENSE.txt")
    lines.append(f"Python {sys.version.split()[0]} — PSF-2.0")
    for dist in runtime_distributions():
        name = dist.metadata["Name"]
        license_ = dist.metadata["License-Expression"] or dist.metadata["License"] or "see files"
        target = folder / name
        copied = 0
        for file in dist.files or []:
            parts = file.parts
            # The dist-info's own copies, in their sub-folders (numpy has many LICENSE.md).
            if not parts[0].endswith(".dist-info") or not LICENSE_NAME.search(file.name):
                continue
            inner = parts[2:] if len(parts) > 2 and parts[1] == "licenses" else parts[1:]
            dst = target.joinpath(*inner)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(str(file.locate())), dst)
            copied += 1
        for spdx, debian_name in COMMON_LICENSES.items():
            common = Path("/usr/share/common-licenses") / debian_name
            if spdx in license_ and common.is_file():
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(common, target / f"{spdx}.txt")
                copied += 1
        where = "" if copied else " (no license file in the wheel)"
        lines.append(f"{name} {dist.version} — {license_.strip()}{where}")
    return lines


def runtime_distributions() -> list[metadata.Distribution]:
    """mnviewer's install requirements and theirs (no extras), sorted by name."""
    seen: dict[str, metadata.Distribution] = {}
    todo = ["mnviewer"]
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = dist
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0])
    return [seen[k] for k in sorted(seen) if k not in NOT_BUNDLED]


if __name__ == "__main__":
    sys.exit(main())
