"""The MobileNet paper's accuracy-against-cost chart (its Figures 4 and 5), on measured numbers.

Top-1 on the y axis against measured latency, MACs or parameters (log x), one point per
variant, one series per device, each series' Pareto front drawn and every point labelled.
`layout_chart` turns points into drawing primitives in pixel coordinates; `to_svg` writes
them as SVG text and `to_png` draws them with OpenCV (anti-aliased), so any other painter
(the app's) can draw the same layout.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

AXES = ("latency", "macs", "params")
AXIS_TITLES = {"latency": "latency p50 (ms, log scale)",
               "macs": "million mult-adds (log scale)",
               "params": "million parameters (log scale)"}
PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
           (23, 190, 207))  # RGB
INK = (40, 40, 40)
GRID = (225, 225, 225)
Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class ChartPoint:
    label: str  # e.g. "v1-0.25-128 int8"
    series: str  # the device
    top1: float | None  # 0..1; None: not plotted
    top1_kind: str  # "measured" or "published"
    latency_ms: float | None
    macs: int
    params: int
    note: str = ""  # why there is no top-1, when there is none

    def x(self, axis: str) -> float | None:
        if axis == "latency":
            return self.latency_ms if self.latency_ms and self.latency_ms > 0 else None
        value = self.macs if axis == "macs" else self.params
        return value / 1e6 if value > 0 else None


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: Rgb
    width: float = 1.0
    dashed: bool = False


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    color: Rgb
    filled: bool = True


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    color: Rgb = INK
    anchor: str = "start"  # start, middle, end
    vertical: bool = False  # rotated 90 degrees counter-clockwise


@dataclass
class ChartLayout:
    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    plotted: list[ChartPoint] = field(default_factory=list)
    omitted: list[ChartPoint] = field(default_factory=list)


def pareto_front(points: list[ChartPoint], axis: str) -> list[ChartPoint]:
    """Points no other point beats on both cost (lower x) and top-1 (higher), by cost."""
    usable = sorted((p for p in points if p.top1 is not None and p.x(axis) is not None),
                    key=lambda p: (p.x(axis), -(p.top1 or 0)))
    front: list[ChartPoint] = []
    best = -1.0
    for p in usable:
        if (p.top1 or 0) > best:
            front.append(p)
            best = p.top1 or 0
    return front


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    for exp in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** exp
            if lo <= v <= hi:
                ticks.append(v)
    return ticks


def _fmt(v: float) -> str:
    return f"{v:g}" if v >= 0.01 else f"{v:.0e}"


def text_width(text: str, size: float) -> float:
    """Approximate advance of `text` in a sans-serif font of `size` pixels."""
    return 0.56 * size * len(text)


def _series_colors(points: list[ChartPoint]) -> dict[str, Rgb]:
    names = list(dict.fromkeys(p.series for p in points))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def layout_chart(points: list[ChartPoint], axis: str = "latency", *, width: int = 960,
                 height: int = 620, title: str | None = None,
                 footnote: str = "") -> ChartLayout:
    """Drawing primitives for the chart; points without top-1 or cost go to `omitted`."""
    if axis not in AXES:
        raise ValueError(f"axis {axis!r}: choose one of {', '.join(AXES)}")
    out = ChartLayout(width, height)
    out.plotted = [p for p in points if p.top1 is not None and p.x(axis) is not None]
    out.omitted = [p for p in points if p not in out.plotted]
    left, right, top, bottom = 78, width - 28, 64, height - 92
    out.texts.append(Text(left, 28, title or "ImageNet top-1 against cost", 18))
    colors = _series_colors(out.plotted or points)
    if not out.plotted:
        out.texts.append(Text((left + right) / 2, (top + bottom) / 2,
                              "no variant has a top-1 to plot", 16, anchor="middle"))
        return out
    xs = [p.x(axis) or 1.0 for p in out.plotted]
    ys = [100 * (p.top1 or 0) for p in out.plotted]
    x_lo, x_hi = min(xs) / 1.6, max(xs) * 1.6
    y_lo = max(0.0, math.floor((min(ys) - 4) / 10) * 10)
    y_hi = min(100.0, math.ceil((max(ys) + 4) / 10) * 10)
    if y_hi - y_lo < 10:
        y_hi = min(100.0, y_lo + 10)

    def px(v: float) -> float:
        return left + (math.log10(v) - math.log10(x_lo)) / \
            (math.log10(x_hi) - math.log10(x_lo)) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y_lo) / (y_hi - y_lo) * (bottom - top)

    step = 5 if y_hi - y_lo <= 30 else 10
    for v in np.arange(y_lo, y_hi + 0.1, step):
        out.lines.append(Line(left, py(v), right, py(v), GRID))
        out.texts.append(Text(left - 8, py(v) + 4, f"{v:g}%", 12, anchor="end"))
    for v in _log_ticks(x_lo, x_hi):
        out.lines.append(Line(px(v), top, px(v), bottom, GRID))
        out.texts.append(Text(px(v), bottom + 18, _fmt(v), 12, anchor="middle"))
    out.lines += [Line(left, bottom, right, bottom, INK), Line(left, top, left, bottom, INK)]
    out.texts.append(Text((left + right) / 2, bottom + 40, AXIS_TITLES[axis], 13,
                          anchor="middle"))
    out.texts.append(Text(20, (top + bottom) / 2, "ImageNet top-1", 13, anchor="middle",
                          vertical=True))
    for series, color in colors.items():
        front = pareto_front([p for p in out.plotted if p.series == series], axis)
        for a, b in itertools.pairwise(front):
            out.lines.append(Line(px(a.x(axis) or 1), py(100 * (a.top1 or 0)),
                                  px(b.x(axis) or 1), py(100 * (b.top1 or 0)), color, 1.5,
                                  dashed=True))
    ordered = sorted(out.plotted, key=lambda p: (p.x(axis) or 0))
    where = [(px(p.x(axis) or 1), py(100 * (p.top1 or 0))) for p in ordered]
    # Labels keep clear of every dot and of each other.
    boxes = [(x - 7, y - 7, x + 7, y + 7) for x, y in where]
    for p, (x, y) in zip(ordered, where, strict=True):
        out.dots.append(Dot(x, y, 5, colors[p.series], filled=p.top1_kind == "measured"))
        out.texts.append(_place_label(p.label, x, y, boxes, (left, top, right, bottom)))
    _legend(out, colors, left + 20, top + 14, points)
    notes = [footnote] if footnote else []
    if out.omitted:
        notes.append("not plotted (no top-1): " + ", ".join(
            f"{p.label}" + (f" ({p.note})" if p.note else "") for p in out.omitted))
    for i, note in enumerate(notes):
        out.texts.append(Text(left - 60, bottom + 64 + 16 * i, note, 11, color=(90, 90, 90)))
    return out


def _place_label(label: str, x: float, y: float, boxes: list[tuple[float, float, float, float]],
                 frame: tuple[float, float, float, float]) -> Text:
    """Right of the point, else left, above, below, then rows further out: the first place
    inside the plot that overlaps no dot and no other label (else the first inside)."""
    size = 11.0
    w, h = text_width(label, size), size + 3
    left, top, right, bottom = frame
    tries = [(x + 8, y + 4, "start"), (x - 8, y + 4, "end"), (x, y - 9, "middle"),
             (x, y + 19, "middle")]
    for k in range(1, 5):
        for sign in (-1, 1):
            tries += [(x + 8, y + 4 + sign * k * h, "start"), (x - 8, y + 4 + sign * k * h, "end")]
    fallback = None
    for tx, ty, anchor in tries:
        x0 = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
        box = (x0, ty - size, x0 + w, ty + 2)
        if not (box[0] >= left and box[2] <= right and box[1] >= top and box[3] <= bottom):
            continue
        if not any(_overlap(box, b) for b in boxes):
            boxes.append(box)
            return Text(tx, ty, label, size, anchor=anchor)
        fallback = fallback or (tx, ty, anchor, box)
    tx, ty, anchor, box = fallback or (x + 8, y + 4, "start", (x + 8, y - 7, x + 8 + w, y + 6))
    boxes.append(box)
    return Text(tx, ty, label, size, anchor=anchor)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _legend(out: ChartLayout, colors: dict[str, Rgb], x: float, y: float,
            points: list[ChartPoint]) -> None:
    kinds = {p.top1_kind for p in out.plotted}
    items: list[tuple[str, Rgb, bool]] = [(s, c, True) for s, c in colors.items()]
    if "published" in kinds:
        items.append(("hollow: published top-1", INK, False))
    if "measured" in kinds and "published" in kinds:
        items.append(("filled: measured top-1", INK, True))
    items.append(("dashed: Pareto front", INK, True))
    for i, (text, color, filled) in enumerate(items):
        cy = y + 18 * i
        if text.startswith("dashed"):
            out.lines.append(Line(x - 10, cy, x + 10, cy, color, 1.5, dashed=True))
        else:
            out.dots.append(Dot(x, cy, 4, color, filled))
        out.texts.append(Text(x + 12, cy + 4, text, 12))


# --- SVG ---------------------------------------------------------------------------------

def _rgb(c: Rgb) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


def to_svg(layout: ChartLayout) -> str:
    """The layout as a standalone SVG document."""
    w, h = layout.width, layout.height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Arial, sans-serif">',
             f'<rect width="{w}" height="{h}" fill="white"/>']
    for ln in layout.lines:
        dash = ' stroke-dasharray="6,4"' if ln.dashed else ""
        parts.append(f'<line x1="{ln.x1:.1f}" y1="{ln.y1:.1f}" x2="{ln.x2:.1f}" '
                     f'y2="{ln.y2:.1f}" stroke="{_rgb(ln.color)}" '
                     f'stroke-width="{ln.width}"{dash}/>')
    for d in layout.dots:
        fill = _rgb(d.color) if d.filled else "white"
        parts.append(f'<circle cx="{d.x:.1f}" cy="{d.y:.1f}" r="{d.r}" fill="{fill}" '
                     f'stroke="{_rgb(d.color)}" stroke-width="1.5"/>')
    for t in layout.texts:
        rotate = f' transform="rotate(-90 {t.x:.1f} {t.y:.1f})"' if t.vertical else ""
        parts.append(f'<text x="{t.x:.1f}" y="{t.y:.1f}" font-size="{t.size}" '
                     f'fill="{_rgb(t.color)}" text-anchor="{t.anchor}"{rotate}>'
                     f'{escape(t.text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# --- PNG (OpenCV) ------------------------------------------------------------------------

def to_png(layout: ChartLayout, scale: float = 2.0) -> np.ndarray:
    """The layout drawn with OpenCV (anti-aliased) at `scale` pixels per unit: a BGR image."""
    import cv2

    w, h = round(layout.width * scale), round(layout.height * scale)
    img = np.full((h, w, 3), 255, np.uint8)

    def bgr(c: Rgb) -> tuple[int, int, int]:
        return (c[2], c[1], c[0])

    def pt(x: float, y: float) -> tuple[int, int]:
        return round(x * scale), round(y * scale)

    for ln in layout.lines:
        thick = max(1, round(ln.width * scale * 0.8))
        if not ln.dashed:
            cv2.line(img, pt(ln.x1, ln.y1), pt(ln.x2, ln.y2), bgr(ln.color), thick, cv2.LINE_AA)
            continue
        length = math.hypot(ln.x2 - ln.x1, ln.y2 - ln.y1)
        steps = max(1, round(length / 10))
        for i in range(steps):
            a, b = i / steps, min(1.0, (i + 0.6) / steps)
            cv2.line(img, pt(ln.x1 + (ln.x2 - ln.x1) * a, ln.y1 + (ln.y2 - ln.y1) * a),
                     pt(ln.x1 + (ln.x2 - ln.x1) * b, ln.y1 + (ln.y2 - ln.y1) * b),
                     bgr(ln.color), thick, cv2.LINE_AA)
    for d in layout.dots:
        center, r = pt(d.x, d.y), round(d.r * scale)
        if not d.filled:
            cv2.circle(img, center, r, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, center, r, bgr(d.color), -1 if d.filled else round(1.5 * scale),
                   cv2.LINE_AA)
    for t in layout.texts:
        _put_text(img, t, scale)
    return img


def _put_text(img: np.ndarray, t: Text, scale: float) -> None:
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    font_scale = t.size * scale / 30.0  # Hershey simplex capitals are ~0.7 x 30 px at scale 1
    thick = max(1, round(t.size * scale / 14))
    (tw, th), base = cv2.getTextSize(t.text, font, font_scale, thick)
    if t.vertical:
        patch: np.ndarray = np.full((th + base + 4, tw + 4, 3), 255, np.uint8)
        cv2.putText(patch, t.text, (2, th + 2), font, font_scale, t.color[::-1], thick,
                    cv2.LINE_AA)
        patch = cv2.rotate(patch, cv2.ROTATE_90_COUNTERCLOCKWISE)
        x0 = round(t.x * scale - patch.shape[1] / 2)
        y0 = round(t.y * scale - patch.shape[0] / 2)
        y0, x0 = max(0, y0), max(0, x0)
        region = img[y0:y0 + patch.shape[0], x0:x0 + patch.shape[1]]
        np.minimum(region, patch[:region.shape[0], :region.shape[1]], out=region)
        return
    x = t.x * scale
    if t.anchor == "middle":
        x -= tw / 2
    elif t.anchor == "end":
        x -= tw
    cv2.putText(img, t.text, (round(x), round(t.y * scale)), font, font_scale,
                t.color[::-1], thick, cv2.LINE_AA)


def save_chart(path: Path, points: list[ChartPoint], axis: str = "latency", *,
               title: str | None = None, footnote: str = "") -> ChartLayout:
    """Write the chart as .png or .svg (by the file's suffix), atomically."""
    from mnviewer.atomic import write_bytes_durable, write_text_atomic
    from mnviewer.errors import OutputError

    layout = layout_chart(points, axis, title=title, footnote=footnote)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        write_text_atomic(path, to_svg(layout))
    elif suffix == ".png":
        import cv2

        ok, data = cv2.imencode(".png", to_png(layout))
        if not ok:
            raise OutputError(f"cannot encode the chart as PNG for {path}")
        write_bytes_durable(path, data.tobytes())
    else:
        raise OutputError(f"chart file {path} must end in .png or .svg: choose such a name")
    return layout
