"""Newest-frame hub: one capture thread publishes frames, each pipeline reads its own subscriber.

The same frames can feed several pipelines (compare mode). A subscriber is a live FrameSource:
read() returns the newest frame it has not seen yet and skips older ones, so a slow model drops
frames instead of holding back a fast one. In exclusive mode the subscribers take turns, first
come first served, from one read to the next, and go in rounds: a frame one of them took is
handed to each of the others before anyone gets a newer one. Two models compared side by side
then see the same frames, never share the CPU while they infer, and each one's latency is what
it would be alone.

Qt-free, so it can be tested and reused without a display.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from mnviewer.errors import MnviewerError
from mnviewer.pipeline import MovingWindow
from mnviewer.sources import Frame, FrameSource, SourceEvent, SourceInfo, SourceLost

# on_event(kind, text); kind is "lost", "back", "looped", "damaged", "skipped", "ended" or
# "failed".
EventCallback = Callable[[str, str], None]


def close_aside(source: FrameSource) -> None:
    """Close `source` on a thread of its own: closing a live source can wait for its reader."""
    threading.Thread(target=source.close, name="close source", daemon=True).start()


class FrameHub:
    """Holds the newest frame of the current capture and hands it to subscribers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0  # frames published so far, across source switches
        self._owner: object | None = None
        self._closed = False
        self._exclusive = False
        self._turn: HubSubscriber | None = None
        self._waiting: deque[HubSubscriber] = deque()
        self._blocked = 0  # reads waiting in the condition now
        self._subs: list[HubSubscriber] = []
        # Exclusive mode: the frame of the current round and who has yet to get it.
        self._round: set[HubSubscriber] = set()
        self._round_frame: Frame | None = None
        self._round_seq = 0

    @property
    def latest(self) -> Frame | None:
        return self._frame

    def attach(self, owner: object) -> None:
        """From now on accept frames from `owner` only: a stopped capture cannot sneak one in."""
        with self._cond:
            self._owner = owner

    def publish(self, frame: Frame, owner: object) -> bool:
        """Make `frame` the newest one; False if the hub is closed or `owner` is not attached."""
        with self._cond:
            if self._closed or owner is not self._owner:
                return False
            self._frame = frame
            self._seq += 1
            self._cond.notify_all()
            return True

    def set_exclusive(self, exclusive: bool) -> None:
        """Turn taking between subscribers on or off."""
        with self._cond:
            self._exclusive = exclusive
            if not exclusive:
                self._turn = None
                self._round.clear()
            self._cond.notify_all()

    def subscribe(self, name: str) -> HubSubscriber:
        """A new reader; its first read returns the current frame, if there is one."""
        with self._cond:
            sub = HubSubscriber(self, name, seen=max(self._seq - 1, 0))
            self._subs.append(sub)
            return sub

    def close(self) -> None:
        """Wake every reader; their reads return None from now on."""
        with self._cond:
            self._closed = True
            self._turn = None
            self._cond.notify_all()

    # The methods below run on the subscribers' threads.

    def _read(self, sub: HubSubscriber) -> Frame | None:
        with self._cond:
            self._release(sub)
            while not self._ready(sub):
                if self._closed or sub._closed:
                    return None
                self._wait()
            if self._exclusive and not self._take_turn(sub):
                return None
            return self._deliver(sub)

    def _wait(self) -> None:
        self._blocked += 1
        try:
            self._cond.wait()
        finally:
            self._blocked -= 1

    @property
    def blocked_readers(self) -> int:
        """How many reads are waiting now (for a frame, or for their turn)."""
        with self._cond:
            return self._blocked

    def _ready(self, sub: HubSubscriber) -> bool:
        if self._exclusive:
            if sub in self._round:
                return True
            if self._round:
                return False  # the others have not had this round's frame yet
        return self._has_news(sub)

    def _has_news(self, sub: HubSubscriber) -> bool:
        return self._frame is not None and (self._seq > sub._seen or sub._replays > 0)

    def _take_turn(self, sub: HubSubscriber) -> bool:
        self._waiting.append(sub)
        try:
            while self._exclusive and (self._turn is not None or self._waiting[0] is not sub):
                if self._closed or sub._closed:
                    return False
                self._wait()
        finally:
            self._waiting.remove(sub)
            self._cond.notify_all()  # whoever is next in line re-checks
        if self._closed or sub._closed:
            return False
        if self._exclusive:
            self._turn = sub
        return True

    def _deliver(self, sub: HubSubscriber) -> Frame | None:
        frame, seq = self._frame, self._seq
        if self._exclusive:
            if sub in self._round:
                self._round.discard(sub)
                self._cond.notify_all()  # the last one of a round lets the next one start
                frame, seq = self._round_frame, self._round_seq
            else:
                self._round_frame, self._round_seq = frame, seq
                self._round = {s for s in self._subs if s is not sub and not s._closed}
        if seq > sub._seen:
            sub._dropped += max(0, seq - sub._seen - 1)
            sub._seen = seq
        sub._replays = max(0, sub._replays - 1)
        return frame

    def _release(self, sub: HubSubscriber) -> None:
        if self._turn is sub:
            self._turn = None
            self._cond.notify_all()

    def _replay(self, sub: HubSubscriber, times: int) -> None:
        with self._cond:
            sub._replays = max(sub._replays, times)
            self._cond.notify_all()

    def _unsubscribe(self, sub: HubSubscriber) -> None:
        with self._cond:
            sub._closed = True
            self._release(sub)
            if sub in self._subs:
                self._subs.remove(sub)
            self._round.discard(sub)
            self._cond.notify_all()


class HubSubscriber(FrameSource):
    """One reader of a hub, usable as a live source by a Pipeline."""

    def __init__(self, hub: FrameHub, name: str, *, seen: int) -> None:
        self._hub = hub
        self._seen = seen
        self._replays = 0
        self._dropped = 0
        self.info = SourceInfo("hub", name, 0, 0, None, None, live=True)

    def read(self) -> Frame | None:
        """The newest frame not yet seen; blocks until there is one, None once closed."""
        return self._hub._read(self)

    def replay(self, times: int = 1) -> None:
        """Let the next `times` reads return the newest frame even if it was seen already.

        While the source is paused this is how a new model or top-k reaches the frozen frame.
        """
        self._hub._replay(self, times)

    def close(self) -> None:
        self._hub._unsubscribe(self)

    @property
    def dropped(self) -> int:
        return self._dropped


class Capture:
    """Reads one FrameSource on its own thread and publishes its frames into a hub.

    Events go to on_event(kind, text) from the capture thread: "lost" when a live source sent
    nothing for its timeout (it keeps reconnecting, and reading goes on), "back" when frames
    return, "looped" when a file source starts again from its beginning, "damaged" once a
    video file turns out shorter than it declares (it keeps playing what decodes), "skipped"
    for an image in a folder that cannot be read or is too large, "ended" at the end of a
    source that does not loop, "failed" on an unreadable one.
    """

    def __init__(self, source: FrameSource, hub: FrameHub, on_event: EventCallback) -> None:
        self.source = source
        self.fps = 0.0  # frames published per second, over the last second
        self._hub = hub
        self._on_event = on_event
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._window = MovingWindow(1.0)
        self._self_paced = bool(getattr(source, "self_paced", False))
        self._thread = threading.Thread(
            target=self._run, name=f"capture {source.info.name}", daemon=True)

    def start(self) -> None:
        self._hub.attach(self)
        self._thread.start()

    def set_paused(self, paused: bool) -> None:
        """A paused file source stops reading (it resumes where it was); a live one discards;
        a self-paced one (a slide show) pauses its own clock and can still be stepped."""
        if self._self_paced:
            self.source.set_paused(paused)  # type: ignore[attr-defined]
        elif paused:
            self._running.clear()
        else:
            self._running.set()

    def stop(self) -> None:
        """Ask the thread to end; it closes the source itself. Does not block."""
        self._stop.set()
        self._running.set()
        if self.source.info.live or self._self_paced:
            # A live read can wait for its whole timeout (a slide show for a picture's time);
            # closing from aside wakes it.
            close_aside(self.source)

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        self.source.listen(self._source_event)
        try:
            self._loop()
        except MnviewerError as exc:
            self._report("failed", str(exc))
        except Exception as exc:  # a decoder error must not end the capture silently
            self._report("failed", f"reading {self.source.info.name} failed: {exc}")
        finally:
            self.source.listen(None)
            self.source.close()

    def _source_event(self, event: SourceEvent) -> None:
        # Lost and back are said from the reads themselves (below); a skipped image only here.
        if event.kind == "skipped":
            self._report("skipped", event.text)

    def _report(self, kind: str, text: str) -> None:
        # A capture being stopped is expected to fail its last read: nobody needs to know.
        if not self._stop.is_set():
            self._on_event(kind, text)

    def _loop(self) -> None:
        live = self.source.info.live
        lost = damaged = False
        passes = getattr(self.source, "passes", 1)
        while not self._stop.is_set():
            if not live and not self._running.is_set():
                self._running.wait()
                continue
            try:
                frame = self.source.read()
            except SourceLost as exc:
                if not lost:
                    lost = True
                    self._on_event("lost", str(exc))
                continue
            if frame is None:
                if not self._stop.is_set():
                    self._on_event("ended", f"{self.source.info.name} ended")
                return
            if lost:
                lost = False
                self._on_event("back", f"{self.source.info.name} is back")
            if not damaged and self.source.truncated:  # known once the first pass has ended
                damaged = True
                info = self.source.info
                self._on_event("damaged", f"video {info.name} ended before its {info.frame_count} "
                               "frames (cut short or damaged): only the frames that decode are "
                               "shown; replace the file to see all of it")
            now_passes = getattr(self.source, "passes", 1)
            if now_passes != passes:
                passes = now_passes
                name = Path(self.source.info.name).name or self.source.info.name
                self._on_event("looped", f"{name} played to its end: from the start again "
                               f"(pass {passes})")
            if self._running.is_set() and self._hub.publish(frame, self):
                now = time.perf_counter()
                self._window.add(now, 1.0)
                self.fps = self._window.rate()
