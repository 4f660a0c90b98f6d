"""What a .tflite file records about its input: type, quantization, TFLite metadata, labels.

A small reader of the FlatBuffers the TFLite schema (schema.fbs) and its metadata schema
(metadata_schema.fbs) define: only the tables and fields mnviewer needs, read in place from
the file's bytes, so no TFLite or FlatBuffers package is needed.
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass, field

# schema.fbs TensorType values mnviewer cares about.
TENSOR_TYPES = {0: "float32", 1: "float16", 3: "uint8", 9: "int8"}
METADATA_NAME = b"TFLITE_METADATA"
# metadata_schema.fbs: ProcessUnitOptions.NormalizationOptions, AssociatedFileType, ColorSpace.
NORMALIZATION = 1
TENSOR_AXIS_LABELS = 2
GRAYSCALE = 2


class TfliteFormatError(ValueError):
    """The bytes are not a FlatBuffer of the shape the TFLite schema defines."""


@dataclass(frozen=True)
class _Table:
    buf: bytes
    pos: int

    def _slot(self, index: int) -> int:
        vtable = self.pos - _i32(self.buf, self.pos)
        vt_size = _u16(self.buf, vtable)
        entry = 4 + 2 * index
        if entry >= vt_size:
            return 0
        return _u16(self.buf, vtable + entry)

    def scalar(self, index: int, fmt: str, default: int | float = 0) -> int | float:
        off = self._slot(index)
        if not off:
            return default
        return struct.unpack_from("<" + fmt, self.buf, self.pos + off)[0]

    def _indirect(self, index: int) -> int | None:
        off = self._slot(index)
        if not off:
            return None
        at = self.pos + off
        return at + _u32(self.buf, at)

    def table(self, index: int) -> _Table | None:
        at = self._indirect(index)
        return None if at is None else _Table(self.buf, at)

    def string(self, index: int) -> str | None:
        at = self._indirect(index)
        if at is None:
            return None
        n = _u32(self.buf, at)
        return self.buf[at + 4:at + 4 + n].decode("utf-8", "replace")

    def _vector(self, index: int) -> tuple[int, int] | None:
        at = self._indirect(index)
        return None if at is None else (at + 4, _u32(self.buf, at))

    def tables(self, index: int) -> list[_Table]:
        vec = self._vector(index)
        if vec is None:
            return []
        start, n = vec
        return [_Table(self.buf, start + 4 * i + _u32(self.buf, start + 4 * i)) for i in range(n)]

    def scalars(self, index: int, fmt: str) -> list:
        vec = self._vector(index)
        if vec is None:
            return []
        start, n = vec
        return list(struct.unpack_from(f"<{n}{fmt}", self.buf, start))

    def blob(self, index: int) -> bytes:
        vec = self._vector(index)
        if vec is None:
            return b""
        start, n = vec
        return self.buf[start:start + n]


def _u16(buf: bytes, at: int) -> int:
    return int(struct.unpack_from("<H", buf, at)[0])


def _u32(buf: bytes, at: int) -> int:
    return int(struct.unpack_from("<I", buf, at)[0])


def _i32(buf: bytes, at: int) -> int:
    return int(struct.unpack_from("<i", buf, at)[0])


@dataclass(frozen=True)
class TfliteInput:
    """The image input as the file records it."""

    dtype: str  # float32, float16, uint8, int8 (or "type N")
    shape: tuple[int, ...]
    scale: float | None = None  # quantization: real = scale * (q - zero_point)
    zero_point: int | None = None
    mean: tuple[float, ...] | None = None  # NormalizationOptions, in the input's units
    std: tuple[float, ...] | None = None
    grayscale: bool = False
    labels: list[str] | None = None
    label_file: str | None = None
    notes: list[str] = field(default_factory=list)


def read_tflite_input(data: bytes) -> TfliteInput:
    """The first subgraph's input tensor, its quantization, normalization and labels."""
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise TfliteFormatError("no TFL3 FlatBuffer identifier")
    try:
        model = _Table(data, _u32(data, 0))
        subgraphs = model.tables(2)
        if not subgraphs:
            raise TfliteFormatError("no subgraph")
        graph = subgraphs[0]
        tensors = graph.tables(0)
        inputs = graph.scalars(1, "i")
        tensor = tensors[inputs[0]]
        kind = int(tensor.scalar(1, "b"))
        shape = tuple(int(d) for d in tensor.scalars(0, "i"))
        quant = tensor.table(4)
        scales = quant.scalars(2, "f") if quant else []
        zeros = quant.scalars(3, "q") if quant else []
        metadata = _metadata_buffer(model)
    except (struct.error, IndexError) as exc:
        raise TfliteFormatError(f"truncated or damaged FlatBuffer ({exc})") from exc
    found = TfliteInput(
        dtype=TENSOR_TYPES.get(kind, f"type {kind}"), shape=shape,
        scale=float(scales[0]) if len(scales) == 1 else None,
        zero_point=int(zeros[0]) if len(zeros) == 1 else None,
    )
    if metadata is None:
        return found
    try:
        return _with_metadata(found, metadata, data)
    except (struct.error, IndexError):
        # Damaged metadata is not fatal: the graph itself still says enough to run.
        return TfliteInput(**{**found.__dict__, "notes": ["TFLite metadata unreadable"]})


def _metadata_buffer(model: _Table) -> bytes | None:
    buffers = model.tables(4)
    for entry in model.tables(6):
        if (entry.string(0) or "").encode() == METADATA_NAME:
            index = int(entry.scalar(1, "I"))
            if index < len(buffers):
                blob = buffers[index].blob(0)
                if blob:
                    return blob
    return None


def _with_metadata(found: TfliteInput, blob: bytes, data: bytes) -> TfliteInput:
    meta = _Table(blob, _u32(blob, 0))
    subgraphs = meta.tables(3)
    if not subgraphs:
        return found
    mean = std = None
    grayscale = False
    inputs = subgraphs[0].tables(2)
    if inputs:
        tensor = inputs[0]
        for unit in tensor.tables(4):
            if int(unit.scalar(0, "B")) == NORMALIZATION:
                options = unit.table(1)
                if options is not None:
                    mean = tuple(float(v) for v in options.scalars(0, "f")) or None
                    std = tuple(float(v) for v in options.scalars(1, "f")) or None
        content = tensor.table(3)
        props = content.table(1) if content is not None else None
        if content is not None and int(content.scalar(0, "B")) == 1 and props is not None:
            grayscale = int(props.scalar(0, "b")) == GRAYSCALE
    label_file = None
    for output in subgraphs[0].tables(3):
        for assoc in output.tables(6):
            if int(assoc.scalar(2, "b")) == TENSOR_AXIS_LABELS and label_file is None:
                label_file = assoc.string(0)
    labels = _packed_file(data, label_file) if label_file else None
    return TfliteInput(
        dtype=found.dtype, shape=found.shape, scale=found.scale, zero_point=found.zero_point,
        mean=mean, std=std, grayscale=grayscale,
        labels=labels, label_file=label_file if labels is not None else None,
    )


def _packed_file(data: bytes, name: str) -> list[str] | None:
    """Lines of a file packed in the zip archive that TFLite metadata appends to the model."""
    start = data.find(b"PK\x03\x04")
    while start != -1:
        try:
            with zipfile.ZipFile(io.BytesIO(data[start:])) as archive:
                text = archive.read(name).decode("utf-8")
            return [line.strip() for line in text.splitlines() if line.strip()]
        except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, OSError):
            start = data.find(b"PK\x03\x04", start + 4)
    return None
