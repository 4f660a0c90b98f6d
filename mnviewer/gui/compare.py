"""Compare mode: two variants (model × precision × device) on the same frames, side by side.

Key C pairs the running model with its full-convolution twin; Compare any pair… picks both
sides. The header shows each side's latency, MACs and parameters, the measured speed-up, the
MAC ratio and how often both name the same class; it says "measuring" until both sides run
the pair asked for and have latencies.
"""

from __future__ import annotations

import time
from functools import cache

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from mnviewer.engine import device_name
from mnviewer.errors import UsageError
from mnviewer.gui.models import EngineRequest, partner_of, si
from mnviewer.gui.pair_stats import PairFigures, PairTracker, Variant
from mnviewer.gui.session import PARTNER, PRIMARY, LiveSession
from mnviewer.gui.settings import DEFAULT_MODEL
from mnviewer.gui.view import VideoView
from mnviewer.models.catalog import PRECISIONS, load_catalog

REFRESH_S = 0.5  # the numbers move every frame; readable only when they settle a little
DISAGREE = "top-1 differs"


@cache
def _device_label(device: str) -> str:
    first = device.split(",")[0]
    kind = first.split(".")[0]
    name = device_name(first)
    return f"this {kind}" + (f" ({name})" if name and name != first else "")


def default_partner(primary: EngineRequest) -> tuple[EngineRequest, str]:
    """What key C runs beside `primary`, and a note when that is not its full-convolution twin."""
    catalog = load_catalog()
    try:
        twin = partner_of(primary.model, catalog)
        spec = catalog.get(primary.model)
    except UsageError:
        twin, spec = None, None
    if twin is not None:
        return EngineRequest(twin, primary.precision, primary.device), ""
    if spec is not None and not spec.trained:  # Conv MobileNet: a full-convolution model
        same_shape = [m.id for m in catalog.models if m.family == "mobilenet_v1"
                      and not m.fullconv and m.width == spec.width
                      and m.resolution == spec.resolution]
        if same_shape:
            return (EngineRequest(same_shape[0], primary.precision, primary.device),
                    f"{primary.model} is a full-convolution model without a twin: comparing "
                    f"it with {same_shape[0]}, the MobileNet of the same width and resolution")
    available = spec.precisions if spec is not None else PRECISIONS
    others = [p for p in ("fp32", "int8", "fp16") if p in available and p != primary.precision]
    if not others:
        return (EngineRequest(DEFAULT_MODEL, primary.precision, primary.device),
                f"{primary.model} has no full-convolution twin and no other precision: "
                f"comparing it with {DEFAULT_MODEL}")
    return (EngineRequest(primary.model, others[0], primary.device),
            f"{primary.model} has no full-convolution twin: comparing its {primary.precision} "
            f"with its {others[0]}")


def _mac_phrase(ratio: float) -> str:
    if ratio > 1.005:
        return f"{ratio:.1f}× fewer MACs"
    if 0 < ratio < 0.995:
        return f"{1 / ratio:.1f}× more MACs"
    return "the same MACs"


def headline(f: PairFigures) -> str:
    """E.g. 'A: 8.5× fewer MACs → 4.1× faster than B on this CPU (AMD EPYC) · ...'."""
    speed = f.speedup
    verdict = f"{speed:.1f}× faster" if speed >= 1 else f"{1 / speed:.1f}× slower"
    where = (f"on {_device_label(f.a.device)}" if f.a.device == f.b.device
             else f"({f.a.device} vs {f.b.device})")
    agreement = (f"top-1 agreement {f.top1_agreement:.1%} · {f.disagreed} of {f.frames} "
                 "frames differ" if f.frames else "top-1 agreement: no common frame yet")
    same = " · the same variant on both sides" if f.a == f.b else ""
    return f"A: {_mac_phrase(f.mac_ratio)} → {verdict} than B {where} · {agreement}{same}"


def side_line(name: str, variant: Variant, latency: dict[str, float]) -> str:
    return (f"{name}  {variant.model} {variant.precision} on {variant.device} · "
            f"p50 {latency['p50']:.2f} ms · p90 {latency['p90']:.2f} ms · "
            f"{si(variant.macs)} MACs · {si(variant.params)} params")


class CompareHeader(QLabel):
    """The headline of compare mode; plain_text holds the numbers shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plain_text = ""
        self._shown_at = 0.0
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { padding: 6px 10px; background: #20242a; color: #e8e8e8; }")

    def reset(self, text: str) -> None:
        self.plain_text = text
        self._shown_at = 0.0
        self.setText(text)

    def due(self) -> bool:
        """Whether REFRESH_S has passed since the figures were last shown."""
        return time.monotonic() - self._shown_at >= REFRESH_S

    def show_figures(self, figures: PairFigures, *, at_once: bool = False) -> None:
        """Show `figures`, at most every REFRESH_S unless `at_once`."""
        if not at_once and not self.due():
            return
        self._shown_at = time.monotonic()
        head = headline(figures)
        lines = [side_line("A", figures.a, figures.latency_a),
                 side_line("B", figures.b, figures.latency_b)]
        self.plain_text = "\n".join([head, *lines, f"frames {figures.frames}"])
        self.setText(f"<span style='font-size:14pt; font-weight:600'>{head}</span><br>"
                     f"<span style='color:#b0b0b0'>{lines[0]}<br>{lines[1]}<br>"
                     f"frames {figures.frames} · the two take turns on each frame</span>")


class CompareMode(QObject):
    """Which pair runs, its tracker, its header and the disagreement marks on the panes."""

    notice = Signal(str, str)  # level, text

    def __init__(self, session: LiveSession, views: list[VideoView], header: CompareHeader,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.views = views
        self.header = header
        self.twin = True  # the partner follows the main selector (key C)
        self.tracker: PairTracker | None = None
        self.failed = ""  # why side B cannot run, if it cannot
        self._swap = False  # twin mode with the twin in the main pane

    @property
    def active(self) -> bool:
        return self.session.comparing

    def start_twin(self, primary: EngineRequest) -> None:
        """Key C: the running model against its twin (or a sensible partner, said so)."""
        self.twin = True
        partner, note = default_partner(primary)
        if note:
            self.notice.emit("warning", note)
        self._start(partner)

    def start_pair(self, a: EngineRequest, b: EngineRequest) -> None:
        """Any pair: a in the main pane, b beside it; the main selector then changes a only."""
        self.twin = False
        if a != self.session.requested(PRIMARY):
            self.session.load(PRIMARY, a)
        if a == b:
            self.notice.emit("info", f"comparing {a.label} with itself: agreement is 100% "
                                     "by construction")
        self._start(b)

    def _start(self, partner: EngineRequest) -> None:
        self.failed = ""
        if partner != self.session.requested(PARTNER):
            self.session.start_compare(partner)
        self.views[PARTNER].clear(f"Loading {partner.label}…")
        self.measuring()

    def follow(self, primary: EngineRequest) -> None:
        """The main pane was asked to run `primary`: the twin follows, a chosen B stays."""
        if self.twin:
            self.start_twin(primary)
        else:
            self.measuring()

    def stop(self) -> None:
        self.session.observer = None
        self.tracker = None
        self.session.stop_compare()
        for view in self.views:
            view.marker = ""

    def measuring(self) -> None:
        """Drop the figures of the old pair; the header says so until the new one has some."""
        self.session.observer = None
        self.tracker = None
        a, b = self.session.requested(PRIMARY), self.session.requested(PARTNER)
        if self.failed:
            return
        names = f"{a.label} vs {b.label}" if a and b else "the pair"
        self.header.reset(f"Measuring {names}…")
        self.engines_changed()

    def engines_changed(self) -> None:
        """Start counting once both panes run what was asked of them."""
        if not self.active or self.tracker is not None:
            return
        engines = [self.session.engine(p) for p in (PRIMARY, PARTNER)]
        for pane, engine in enumerate(engines):
            request = self.session.requested(pane)
            if engine is None or request is None or \
                    (engine.model_id, engine.precision, engine.device) != \
                    (request.model, request.precision, request.device):
                return
        a, b = (Variant.of(e) for e in engines if e is not None)
        self.tracker = PairTracker(a, b)
        self._swap = self.twin and _is_fullconv(a.model)
        self.session.observer = self.tracker.add

    def partner_failed(self, message: str) -> None:
        """Side B cannot run (e.g. its device failed to compile): say so, A runs on."""
        running = self.session.engine(PARTNER)
        if running is not None:  # the B that ran before goes on
            self.notice.emit("warning", f"compare: {message}; side B stays "
                                        f"{running.model_id} {running.precision} on "
                                        f"{running.device}")
            self.measuring()
            return
        self.failed = message
        self.session.observer = None
        self.tracker = None
        self.notice.emit("warning", f"compare: side B cannot run ({message}); side A keeps "
                                    "running")
        self.views[PARTNER].clear(f"Side B cannot run: {message}")
        self.header.reset(f"Side B cannot run: {message}\nSide A keeps running; choose "
                          "another pair with View ▸ Compare any pair…")

    def refresh_header(self) -> None:
        """Bring the header up to date at once (before a snapshot: the saved numbers match
        the marks on the panes)."""
        figures = self.tracker.figures() if self.tracker is not None else None
        if figures is not None:
            self.header.show_figures(self._oriented(figures), at_once=True)

    def result_shown(self) -> None:
        """After a pane got a new result: mark a disagreement, refresh the header."""
        results = [view.result for view in self.views]
        a, b = results
        if a is not None and b is not None and a.frame is b.frame:
            top_a = a.top[0].label if a.top else ""
            top_b = b.top[0].label if b.top else ""
            marker = DISAGREE if top_a != top_b else ""
            for view in self.views:
                if view.marker != marker:
                    view.marker = marker
                    view.update()
        if not self.header.due():
            return  # figures are not worked out for a header that would not show them
        figures = self.tracker.figures() if self.tracker is not None else None
        if figures is not None:
            self.header.show_figures(self._oriented(figures))

    def _oriented(self, figures: PairFigures) -> PairFigures:
        """Twin mode reads from the MobileNet's side, whichever pane it is in."""
        if self._swap:
            return PairFigures(figures.b, figures.a, figures.frames, figures.agreed,
                               figures.latency_b, figures.latency_a)
        return figures


def _is_fullconv(model_id: str) -> bool:
    try:
        return load_catalog().get(model_id).fullconv
    except UsageError:
        return False
