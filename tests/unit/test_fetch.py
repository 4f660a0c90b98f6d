"""fetch.py: cache, bundle, mirror and URL look-up, sha256 checks, atomic writes, clear errors."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mnviewer import paths
from mnviewer.errors import FetchError, OutputError, UsageError
from mnviewer.models import fetch
from mnviewer.models.catalog import SourceFile, load_catalog
from tests import helpers

MODEL = "mobilenet_v1_0.25_128_quant.tflite"
LABELS = "imagenet_labels.txt"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty cache for this test only."""
    path = tmp_path / "home"
    monkeypatch.setenv("MNVIEWER_HOME", str(path))
    return path


@pytest.fixture(scope="session")
def closed_port() -> int:
    """A local TCP port nobody listens on, so a download fails at once and deterministically."""
    return helpers.closed_port()


@pytest.fixture(scope="session")
def http_mirror(shared_dir: Path) -> Iterator[str]:
    """Base URL of a local HTTP server serving shared/models."""
    handler = functools.partial(_QuietHandler, directory=str(shared_dir / "models"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def offline(name: str, port: int) -> SourceFile:
    """The catalog entry for `name`, with its pinned URL on a closed local port."""
    src = load_catalog().sources[name]
    return dataclasses.replace(src, url=f"http://127.0.0.1:{port}/pinned/{name}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_listing(home: Path) -> list[str]:
    folder = home / "sources"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# ---------------------------------------------------------------------------- mirrors and cache


def test_mirror_folder_copy_is_verified_into_cache(home: Path, shared_dir: Path,
                                                   closed_port: int) -> None:
    src = offline(MODEL, closed_port)
    got = fetch.fetch_with_origin(src)
    assert got.origin == "mirror"
    assert got.where == str(shared_dir / "models")
    assert got.path == home / "sources" / MODEL
    assert got.path.read_bytes() == (shared_dir / "models" / MODEL).read_bytes()
    assert cache_listing(home) == [MODEL, MODEL + ".sha256"]
    assert fetch.is_fetched(src)


def test_second_call_uses_cache_without_mirror(home: Path, monkeypatch: pytest.MonkeyPatch,
                                               closed_port: int) -> None:
    src = offline(MODEL, closed_port)
    first = fetch.fetch_source(src)
    # A mirror that would raise if it were consulted proves the cache answered.
    monkeypatch.setenv("MNVIEWER_MIRROR", str(home / "no-such-mirror"))
    got = fetch.fetch_with_origin(src)
    assert (got.origin, got.path) == ("cache", first)


def test_truncated_cache_file_is_refetched(home: Path, shared_dir: Path,
                                           closed_port: int) -> None:
    src = offline(MODEL, closed_port)
    path = fetch.fetch_source(src)
    with path.open("r+b") as fh:
        fh.truncate(src.size // 2)
    assert not fetch.is_fetched(src)
    got = fetch.fetch_with_origin(src)
    assert got.origin == "mirror"
    assert sha256(got.path.read_bytes()) == src.sha256


def test_corrupted_cache_file_of_same_size_is_refetched(home: Path, closed_port: int) -> None:
    src = offline(MODEL, closed_port)
    path = fetch.fetch_source(src)
    mtime = path.stat().st_mtime_ns
    with path.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\xff" * 64)
    # Two writes within one clock tick can share an mtime; a later edit would not.
    os.utime(path, ns=(mtime + 10**9, mtime + 10**9))
    got = fetch.fetch_with_origin(src)
    assert got.origin == "mirror"
    assert sha256(got.path.read_bytes()) == src.sha256


def test_cache_without_stamp_is_hashed_once_and_stamped(home: Path, closed_port: int) -> None:
    src = offline(MODEL, closed_port)
    path = fetch.fetch_source(src)
    (path.parent / (MODEL + ".sha256")).unlink()
    assert not fetch.is_fetched(src)
    assert fetch.fetch_with_origin(src).origin == "cache"
    assert fetch.is_fetched(src)


def test_bundled_file_is_used_in_place(home: Path, shared_dir: Path, closed_port: int,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = shared_dir / "models"
    monkeypatch.setattr(paths, "bundled_sources_dir", lambda: bundle)
    monkeypatch.delenv("MNVIEWER_MIRROR")
    src = offline(LABELS, closed_port)
    assert fetch.is_fetched(src)
    got = fetch.fetch_with_origin(src)
    assert (got.origin, got.path) == ("bundle", bundle / LABELS)
    assert cache_listing(home) == []


def test_file_url_mirror(home: Path, shared_dir: Path, closed_port: int,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    # The media folder lacks the file, so the look-up must go on to the file:// mirror.
    url = (shared_dir / "models").as_uri()
    monkeypatch.setenv("MNVIEWER_MIRROR", os.pathsep.join([str(shared_dir / "media"), url]))
    got = fetch.fetch_with_origin(offline(MODEL, closed_port))
    assert (got.origin, got.where) == ("mirror", url)
    assert got.path.parent == home / "sources"


def test_http_mirror_reports_progress(home: Path, http_mirror: str, closed_port: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNVIEWER_MIRROR", http_mirror)
    calls: list[tuple[str, int, int]] = []
    src = offline(MODEL, closed_port)
    got = fetch.fetch_with_origin(src, progress=lambda *a: calls.append(a))
    assert (got.origin, got.where) == ("mirror", http_mirror)
    assert calls[-1] == (MODEL, src.size, src.size)


def test_pinned_url_download_with_progress_bar(home: Path, http_mirror: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MNVIEWER_MIRROR")
    src = dataclasses.replace(load_catalog().sources[MODEL], url=f"{http_mirror}/{MODEL}")
    got = fetch.fetch_with_origin(src, progress=True)
    assert (got.origin, got.where) == ("network", src.url)
    assert sha256(got.path.read_bytes()) == src.sha256
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never stdout


# ---------------------------------------------------------------------------- failures


def test_sha_mismatch_names_file_and_hashes_and_leaves_nothing(
    home: Path, tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    wrong = b"this is not a MobileNet"
    (mirror / MODEL).write_bytes(wrong)
    monkeypatch.setenv("MNVIEWER_MIRROR", str(mirror))
    src = offline(MODEL, closed_port)
    with pytest.raises(FetchError) as err:
        fetch.fetch_source(src)
    message = str(err.value)
    assert MODEL in message and src.sha256 in message and sha256(wrong) in message
    assert "\n" not in message
    assert cache_listing(home) == []


def test_download_bigger_than_pinned_is_stopped(home: Path, http_mirror: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNVIEWER_MIRROR")
    src = dataclasses.replace(load_catalog().sources[MODEL], url=f"{http_mirror}/{MODEL}",
                              size=1000)
    with pytest.raises(FetchError, match="bigger than the expected 1000 bytes"):
        fetch.fetch_source(src)
    assert cache_listing(home) == []


def test_missing_mirror_folder(home: Path, tmp_path: Path, closed_port: int,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "unplugged-usb"
    monkeypatch.setenv("MNVIEWER_MIRROR", str(missing))
    with pytest.raises(FetchError) as err:
        fetch.fetch_source(offline(MODEL, closed_port))
    message = str(err.value)
    assert str(missing) in message and "does not exist" in message
    assert "MNVIEWER_MIRROR" in message


def test_empty_mirror_folder(home: Path, tmp_path: Path, closed_port: int,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("MNVIEWER_MIRROR", str(empty))
    with pytest.raises(FetchError) as err:
        fetch.fetch_source(offline(MODEL, closed_port))
    message = str(err.value)
    assert str(empty) in message and "is empty" in message and "MNVIEWER_MIRROR" in message


def test_file_in_no_mirror_and_no_network(home: Path, shared_dir: Path, closed_port: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    media = str(shared_dir / "media")
    monkeypatch.setenv("MNVIEWER_MIRROR", media)
    src = offline(MODEL, closed_port)
    with pytest.raises(FetchError) as err:
        fetch.fetch_source(src)
    message = str(err.value)
    assert message.startswith(f"cannot download {MODEL} from {src.url} (")
    assert media in message  # what was tried
    assert "check the network or set MNVIEWER_MIRROR" in message
    assert cache_listing(home) == []


def test_no_mirror_and_no_network(home: Path, closed_port: int,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNVIEWER_MIRROR")
    with pytest.raises(FetchError, match=r"cannot download .* check the network"):
        fetch.fetch_source(offline(MODEL, closed_port))


def test_unwritable_cache_folder(tmp_path: Path, closed_port: int,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod does not stop root; a path below a regular file fails for every user.
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    monkeypatch.setenv("MNVIEWER_HOME", str(afile / "home"))
    with pytest.raises(OutputError) as err:
        fetch.fetch_source(offline(MODEL, closed_port))
    message = str(err.value)
    assert str(afile / "home") in message and "MNVIEWER_HOME" in message


def test_bad_timeout_setting(home: Path, closed_port: int,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNVIEWER_MIRROR")
    monkeypatch.setenv("MNVIEWER_FETCH_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="MNVIEWER_FETCH_TIMEOUT"):
        fetch.fetch_source(offline(MODEL, closed_port))


# ---------------------------------------------------------------------------- helpers of the API


def test_fetch_many(home: Path) -> None:
    got = fetch.fetch_many([MODEL, LABELS])
    assert list(got) == [MODEL, LABELS]
    assert all(fetch.is_fetched(name) for name in got)
    with pytest.raises(UsageError, match="no-such-file"):
        fetch.fetch_many(["no-such-file"])


def test_files_for_models() -> None:
    catalog = load_catalog()
    demo = catalog.demo_video
    conv = catalog.get("conv-mobilenet-1.0-224")
    assert fetch.files_for_models([conv]) == [LABELS, demo]
    assert fetch.files_for_models([conv], include_demo=False) == [LABELS]
    twin = catalog.get("mobilenet-v1-1.0-224-fullconv")
    base = catalog.get("mobilenet-v1-1.0-224")
    assert fetch.files_for_models([twin], include_demo=False) == list(base.sources)
    everything = fetch.files_for_models(catalog.models)
    assert sorted(everything) == sorted(catalog.sources)


@pytest.mark.skipif(os.pathsep != ":", reason="URLs only clash with ':' as the list separator")
def test_split_mirror_list_keeps_urls_whole() -> None:
    value = "/a:http://host:8000/x:/b::file:///c/d:https://h/e:http://h2:9"
    assert fetch.split_mirror_list(value) == [
        "/a", "http://host:8000/x", "/b", "file:///c/d", "https://h/e", "http://h2:9",
    ]


def test_threads_fetching_one_file_agree(home: Path, closed_port: int) -> None:
    src = offline(MODEL, closed_port)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(fetch.fetch_source(src)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [home / "sources" / MODEL] * 4
    assert cache_listing(home) == [MODEL, MODEL + ".sha256"]
