"""The Qt-free parts of the GUI: the frame hub, the capture thread and the settings file."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from mnviewer.gui.hub import Capture, FrameHub, HubSubscriber
from mnviewer.gui.settings import Settings, SettingsWarning, load_settings, save_settings
from mnviewer.sources import Frame, FrameSource, SourceInfo, SourceLost

IMAGE = np.zeros((4, 4, 3), np.uint8)


def frame(i: int) -> Frame:
    return Frame(i, i * 33.0, IMAGE)


def attached_hub() -> tuple[FrameHub, object, HubSubscriber]:
    """A hub with one capture owner attached and one subscriber, "a"."""
    hub, owner = FrameHub(), object()
    hub.attach(owner)
    return hub, owner, hub.subscribe("a")


def exclusive_hub() -> tuple[FrameHub, object, HubSubscriber, HubSubscriber]:
    """A hub in exclusive mode with subscribers "a" and "b", and frame 0 published."""
    hub, owner, a = attached_hub()
    hub.set_exclusive(True)
    b = hub.subscribe("b")
    hub.publish(frame(0), owner)
    return hub, owner, a, b


def read_in_thread(sub: FrameSource) -> tuple[threading.Thread, list]:
    got: list = []
    thread = threading.Thread(target=lambda: got.append(sub.read()), daemon=True)
    thread.start()
    return thread, got


def test_subscriber_gets_the_newest_frame_and_counts_the_skipped_ones() -> None:
    hub, owner, sub = attached_hub()
    for i in range(3):
        hub.publish(frame(i), owner)
    assert sub.read().index == 2
    assert sub.dropped == 2
    assert sub.info.live


def wait_until_blocked(hub: FrameHub, readers: int, timeout: float = 5.0) -> None:
    """Until that many reads wait inside the hub (polled: the waiting has no event of its own)."""
    deadline = time.monotonic() + timeout
    while hub.blocked_readers < readers:
        assert time.monotonic() < deadline, "the read never started waiting"
        time.sleep(0.001)


def test_read_blocks_until_a_new_frame_and_close_wakes_it() -> None:
    hub, owner, sub = attached_hub()
    hub.publish(frame(0), owner)
    assert sub.read().index == 0
    thread, got = read_in_thread(sub)
    wait_until_blocked(hub, 1)
    assert thread.is_alive() and got == [], "read returned without a new frame"
    hub.publish(frame(1), owner)
    thread.join(1)
    assert got[0].index == 1
    thread, got = read_in_thread(sub)
    sub.close()
    thread.join(1)
    assert got == [None]


def test_frames_from_a_detached_capture_are_ignored() -> None:
    hub, old, new = FrameHub(), object(), object()
    hub.attach(old)
    hub.attach(new)
    assert not hub.publish(frame(0), old)
    assert hub.publish(frame(1), new)
    assert hub.latest is not None and hub.latest.index == 1


def test_replay_returns_the_frozen_frame_again() -> None:
    hub, owner, sub = attached_hub()
    hub.publish(frame(7), owner)
    assert sub.read().index == 7
    sub.replay(1)
    assert sub.read().index == 7


def test_exclusive_mode_serves_readers_one_at_a_time() -> None:
    hub, _, a, b = exclusive_hub()
    assert a.read().index == 0  # a holds the turn until its next read
    thread, got = read_in_thread(b)
    wait_until_blocked(hub, 1)  # b waits for its turn
    assert thread.is_alive() and got == [], "b ran while a held the turn"
    a.close()  # releases the turn
    thread.join(1)
    assert got[0].index == 0


class ScriptedSource(FrameSource):
    """Yields frames, raises SourceLost where the script says, then ends."""

    def __init__(self, script: list) -> None:
        self.script = list(script)
        self.info = SourceInfo("camera", "fake", 4, 4, 30.0, None, live=False)

    def read(self) -> Frame | None:
        if not self.script:
            return None
        item = self.script.pop(0)
        if item == "lost":
            raise SourceLost("source lost, retrying: fake")
        return frame(item)

    def close(self) -> None:
        self._closed = True


def test_capture_reports_lost_once_keeps_reading_and_reports_back() -> None:
    hub = FrameHub()
    events: list[tuple[str, str]] = []
    source = ScriptedSource([0, "lost", "lost", 1, 2])
    capture = Capture(source, hub, lambda kind, text: events.append((kind, text)))
    capture.start()
    capture.join(2)
    assert [kind for kind, _ in events] == ["lost", "back", "ended"]
    assert events[0][1].startswith("source lost, retrying")
    assert hub.latest is not None and hub.latest.index == 2
    assert source.state == "closed"


def test_settings_round_trip(config_dir: Path) -> None:
    saved = Settings(source="demo", model="mobilenet-v2-1.0-224", precision="fp16", top_k=3,
                     mirror=True)
    save_settings(saved)
    assert load_settings() == saved


def test_bad_settings_are_dropped_with_a_warning(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "settings.json").write_text(json.dumps(
        {"model": "mobilenet-v1-0.5-160", "top_k": 99, "precision": 8, "colour": "red"}))
    with pytest.warns(SettingsWarning) as caught:
        loaded = load_settings()
    assert loaded == Settings(model="mobilenet-v1-0.5-160")
    dropped = " ".join(str(w.message) for w in caught)
    assert "top_k" in dropped and "precision" in dropped and "colour" in dropped


def test_exclusive_mode_hands_each_reader_the_same_frames() -> None:
    hub, owner, a, b = exclusive_hub()
    assert a.read().index == 0
    hub.publish(frame(1), owner)  # arrives while a infers frame 0
    thread, got = read_in_thread(a)
    wait_until_blocked(hub, 1)  # a waits for b to have frame 0
    assert thread.is_alive(), "a moved on before b had frame 0"
    assert b.read().index == 0, "b was not given the frame a had"
    b.close()  # a reader that leaves ends its turn and holds no round back
    thread.join(1)
    assert got[0].index == 1
