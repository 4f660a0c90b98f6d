"""Source events in the app: a stream lost and back (counted in the overlay), a skipped image."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_unreadable_image_in_a_folder_is_skipped_with_a_notice(
        qtbot, open_window, wait_result, shared_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "a-cat.bmp").write_bytes((shared_dir / "media" / "cat.bmp").read_bytes())
    (tmp_path / "b-broken.jpg").write_text("not a jpeg")
    (tmp_path / "c-owl.jpg").write_bytes((shared_dir / "media" / "owl.jpg").read_bytes())
    window = open_window(source=str(tmp_path), model=SMALL)
    wait_result(window, model=SMALL)
    qtbot.waitUntil(lambda: any("skipped image" in t and "b-broken.jpg" in t
                                for t in window.banner.texts()), timeout=30_000)
    assert window.session.source_state != "closed"
