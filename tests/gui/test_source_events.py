"""Source events in the app: a stream lost and back, counted in the overlay (a skipped image:
test_sources.py)."""

from __future__ import annotations

import re

from mnviewer.gui.session import PRIMARY
from tests.mjpeg_server import MjpegServer

SMALL = "mobilenet-v1-0.25-128"


def test_overlay_shows_reconnects_and_lost_seconds(qtbot, open_window, wait_result) -> None:
    server = MjpegServer().start()
    try:
        window = open_window(source=server.url, model=SMALL)
        wait_result(window, model=SMALL)
        assert "reconnected" not in window.views[PRIMARY].overlay.stats
        server.stop()
        qtbot.waitUntil(lambda: window.session.source_state == "reconnecting", timeout=30_000)
        server.start()
        qtbot.waitUntil(lambda: "reconnected 1×" in window.views[PRIMARY].overlay.stats,
                        timeout=30_000)
    finally:
        server.stop()
    lost = re.search(r"lost ([\d.]+) s", window.views[PRIMARY].overlay.stats)
    assert lost is not None and float(lost.group(1)) > 0
