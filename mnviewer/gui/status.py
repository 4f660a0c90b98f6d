"""The status bar: source resolution and frame rate, dropped frames, displayed FPS, state."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from mnviewer.gui.opening import describe
from mnviewer.gui.session import LiveSession


class StatusLine:
    """Permanent labels in a status bar, refreshed by the window's timer."""

    def __init__(self, bar: QStatusBar) -> None:
        self.labels = {name: QLabel() for name in ("source", "dropped", "display", "state")}
        for name, label in self.labels.items():
            bar.addPermanentWidget(label, 1 if name == "source" else 0)

    def refresh(self, session: LiveSession, displayed_fps: float) -> None:
        info = session.source_info
        if info is not None:
            nominal = f"{info.fps:.2f} fps" if info.fps else "fps unknown"
            self.labels["source"].setText(
                f"{describe(session.spec or '')} · {info.width}×{info.height} · {nominal} "
                f"(measured {session.source_fps:.1f})")
        self.labels["dropped"].setText(f"dropped {session.dropped}")
        self.labels["display"].setText(f"display {displayed_fps:.1f} fps")
        self.labels["state"].setText("paused" if session.paused else session.source_state)
