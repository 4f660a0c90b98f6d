"""An MJPEG-over-HTTP camera on the loopback, as a process tests can start, kill and restart.

    python -m tests.mjpeg_server PORT   # prints "ready PORT" once it listens; PORT 0 picks one

Every client gets multipart/x-mixed-replace JPEG frames (a 160x120 picture with a moving bar)
at about 25 frames per second until the process ends.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

BOUNDARY = "frame"
REPO = Path(__file__).resolve().parents[1]


def _jpeg(index: int) -> bytes:
    image = np.full((120, 160, 3), 60, np.uint8)
    x = (index * 4) % 160
    image[:, x:x + 8] = (0, 200, 255)
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.end_headers()
        index = 0
        try:
            while True:
                data = _jpeg(index)
                self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                 f"Content-Length: {len(data)}\r\n\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                index += 1
                time.sleep(0.04)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


def serve(port: int) -> None:
    server = _Server(("127.0.0.1", port), _Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


class MjpegServer:
    """The server as a child process: start() waits until it listens; stop() kills it."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> MjpegServer:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.mjpeg_server", str(self.port)],
                                     stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the socket listens (or it died)
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(f"MJPEG server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None


if __name__ == "__main__":
    serve(int(sys.argv[1]))
