"""Top-1 / top-5 accuracy over a folder of labelled images (index.csv: file,imagenet_index)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnviewer.engine import Engine
from mnviewer.errors import SourceError, UsageError
from mnviewer.sources import read_image

INDEX_FILE = "index.csv"


@dataclass(frozen=True)
class LabelledImage:
    name: str
    image: np.ndarray  # uint8 BGR
    label: int  # 0-based ImageNet class


@dataclass(frozen=True)
class Accuracy:
    model: str
    precision: str
    device: str
    top1: float
    top5: float
    images: int
    predictions: tuple[int, ...]  # top-1 class per image, in index order

    def as_dict(self) -> dict:
        return {"model": self.model, "precision": self.precision, "device": self.device,
                "top1": self.top1, "top5": self.top5, "images": self.images}


def load_labelled_images(folder: Path) -> list[LabelledImage]:
    """Decode every image listed in folder/index.csv (0-based ImageNet indices)."""
    index = folder / INDEX_FILE
    if not folder.is_dir():
        raise UsageError(f"image folder {folder} not found: give a folder holding {INDEX_FILE}")
    if not index.is_file():
        raise UsageError(f"{folder} has no {INDEX_FILE}: add one with lines 'file,imagenet_index'")
    items: list[LabelledImage] = []
    with index.open(newline="", encoding="utf-8") as fh:
        for row_no, row in enumerate(csv.DictReader(fh), start=2):
            try:
                name, label = row["file"], int(row["imagenet_index"])
            except (KeyError, TypeError, ValueError) as exc:
                raise UsageError(f"{index} line {row_no} is not 'file,imagenet_index': "
                                 "fix the line") from exc
            try:
                image = read_image(folder / name)
            except SourceError as exc:
                raise UsageError(f"image {folder / name} listed in {index} cannot be read: "
                                 "fix or remove its line") from exc
            items.append(LabelledImage(name, image, label))
    if not items:
        raise UsageError(f"{index} lists no images: add lines 'file,imagenet_index'")
    return items


def evaluate(engine: Engine, images: list[LabelledImage]) -> Accuracy:
    """Top-1 and top-5 of one compiled model over the images."""
    hits1 = hits5 = 0
    predictions = []
    for item in images:
        top = engine.infer(item.image, top_k=5).top
        predicted = [p.index for p in top]
        predictions.append(predicted[0])
        hits1 += predicted[0] == item.label
        hits5 += item.label in predicted
    n = len(images)
    return Accuracy(engine.model_id, engine.precision, engine.executing_device,
                    round(hits1 / n, 4), round(hits5 / n, 4), n, tuple(predictions))
