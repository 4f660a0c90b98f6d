"""The status bar: source resolution and frame rate, dropped frames, displayed FPS, state;
a busy bar while a model is built or compiled."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from mnviewer.gui.opening import describe
from mnviewer.gui.session import LiveSession


class StatusLine:
    """Permanent labels in a status bar, refreshed by the window's timer."""

    def __init__(self, bar: QStatusBar) -> None:
        self.labels = {name: QLabel() for name in ("source", "loading", "dropped", "display",
                                                    "state")}
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no end known: an animated busy bar
        self.busy.setMaximumWidth(80)
        self.busy.setTextVisible(False)
        for name, label in self.labels.items():
            if name == "loading":
                bar.addPermanentWidget(self.busy)
            bar.addPermanentWidget(label, 1 if name == "source" else 0)
        self._show_loading(None)

    def _show_loading(self, text: str | None) -> None:
        self.labels["loading"].setText(f"{text}…" if text else "")
        self.labels["loading"].setVisible(bool(text))
        self.busy.setVisible(bool(text))

    def refresh(self, session: LiveSession, displayed_fps: float) -> None:
        info = session.source_info
        if info is not None:
            nominal = f"{info.fps:.2f} fps" if info.fps else "fps unknown"
            self.labels["source"].setText(
                f"{describe(session.spec or '')} · {info.width}×{info.height} · {nominal} "
                f"(measured {session.source_fps:.1f})")
        self._show_loading(session.loading())
        self.labels["dropped"].setText(f"dropped {session.dropped}")
        self.labels["display"].setText(f"display {displayed_fps:.1f} fps")
        self.labels["state"].setText("paused" if session.paused else session.source_state)
