"""Source files for the models, from cache, bundle, mirror or pinned URL; always sha256-checked.

Look-up order for each file: the cache (paths.sources_dir()), the read-only bundle
(paths.bundled_sources_dir()), the mirrors in MNVIEWER_MIRROR, then the catalog's pinned URL.
Whatever the origin, the bytes are checked against the catalog's size and sha256 before use,
and copies into the cache are written atomically (temp file, fsync, rename).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, TypeAlias
from urllib.error import HTTPError, URLError

from tqdm import tqdm

from mnviewer import paths
from mnviewer.atomic import temp_name
from mnviewer.errors import FetchError, OutputError, UsageError
from mnviewer.models.catalog import Catalog, ModelSpec, SourceFile, load_catalog

MIRROR_ENV = "MNVIEWER_MIRROR"
TIMEOUT_ENV = "MNVIEWER_FETCH_TIMEOUT"
DEFAULT_TIMEOUT = 20.0
CHUNK = 1 << 20
URL_SCHEMES = ("http", "https", "file")

Origin: TypeAlias = Literal["cache", "bundle", "mirror", "network", "user"]
# A progress callable receives (file name, bytes done, bytes expected).
ProgressCallback: TypeAlias = Callable[[str, int, int], None]
Progress: TypeAlias = "bool | ProgressCallback"


@dataclass(frozen=True)
class Fetched:
    """A verified source file and where it came from."""

    name: str
    path: Path
    origin: Origin
    where: str  # the folder or URL it was read from


class _Unavailable(Exception):
    """Internal: this place does not have the file (or could not be read); try the next one."""


# One lock per file name: two threads of the same process would otherwise share a temp name.
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
# Bundled files are read-only, so no stamp can be written next to them; remember them per process.
_verified_bundle: set[tuple[str, int, int]] = set()


# ---------------------------------------------------------------------------- public API


def fetch_source(src: SourceFile, *, progress: Progress = False) -> Path:
    """Path of a verified copy of `src`; fetches it into the cache if needed."""
    return fetch_with_origin(src, progress=progress).path


def fetch_with_origin(src: SourceFile, *, progress: Progress = False) -> Fetched:
    """Like fetch_source, but also says where the file came from."""
    if src.local:
        return Fetched(src.name, _imported_file(src), "user", str(Path(src.local).parent))
    with _lock_for(src.name):
        cached = _from_cache(src)
        if cached is not None:
            return Fetched(src.name, cached, "cache", str(cached.parent))
        bundled = _from_bundle(src)
        if bundled is not None:
            return Fetched(src.name, bundled, "bundle", str(bundled.parent))
        return _from_elsewhere(src, progress)


def _imported_file(src: SourceFile) -> Path:
    """A file the user imported: it lives in the cache only, so it is checked, never fetched."""
    path = Path(src.local)
    if _size_of(path) != src.size:
        raise FetchError(f"{path} is missing or changed since it was imported: import the model "
                         "again with 'mnviewer models add FILE --force'")
    return path


def fetch_many(
    names: Iterable[str], progress: Progress = False, *, catalog: Catalog | None = None
) -> dict[str, Path]:
    """Fetch the named catalog source files; returns name -> verified path, in the given order."""
    sources = (catalog or load_catalog()).sources
    result: dict[str, Path] = {}
    for name in names:
        if name not in sources:
            raise UsageError(f"unknown source file '{name}': choose one of {', '.join(sources)}")
        result[name] = fetch_source(sources[name], progress=progress)
    return result


def files_for_models(
    specs: Iterable[ModelSpec], include_demo: bool = True, *, catalog: Catalog | None = None
) -> list[str]:
    """Source file names the given models need (unique, in order), plus the demo video."""
    cat = catalog or load_catalog()
    names: list[str] = []
    for spec in specs:
        names.extend(spec.sources)
        # A full-convolution twin is built from its base model's weights.
        if spec.fullconv and spec.base_id:
            names.extend(cat.get(spec.base_id).sources)
    if include_demo:
        names.append(cat.demo_video)
    return list(dict.fromkeys(names))


def is_fetched(source: str | SourceFile, *, catalog: Catalog | None = None) -> bool:
    """Cheap check, no hashing: the file is in the cache with a valid stamp, or in the bundle."""
    if isinstance(source, SourceFile):
        src: SourceFile | None = source
    else:
        src = (catalog or load_catalog()).sources.get(source)
    if src is None:
        return False
    if src.local:
        return _size_of(Path(src.local)) == src.size
    path = paths.sources_dir() / src.name
    try:
        if _stamp_matches(src, path, path.stat()):
            return True
    except OSError:
        pass
    bundle = paths.bundled_sources_dir()
    # The bundle is built by us and read-only: a size check is enough to say it is there;
    # fetch_source still verifies its sha256 before use.
    return bundle is not None and _size_of(bundle / src.name) == src.size


# ---------------------------------------------------------------------------- cache and bundle


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _stamp_text(src: SourceFile, st: os.stat_result) -> str:
    return f"{src.sha256} {src.size} {st.st_mtime_ns} {st.st_ino}\n"


def _stamp_matches(src: SourceFile, path: Path, st: os.stat_result) -> bool:
    try:
        text = _stamp_path(path).read_text(encoding="ascii")
    except (OSError, ValueError):
        return False
    return st.st_size == src.size and text == _stamp_text(src, st)


def _from_cache(src: SourceFile) -> Path | None:
    """The cached copy if it is intact; a corrupt or stale copy is deleted."""
    path = paths.sources_dir() / src.name
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unwritable(path.parent, exc) from exc
    if _stamp_matches(src, path, st):
        return path
    # No stamp, or the file changed since it was stamped: hash it once more.
    if st.st_size == src.size and _sha256_of(path) == src.sha256:
        _write_stamp(src, path)
        return path
    _remove(path, _stamp_path(path))
    return None


def _from_bundle(src: SourceFile) -> Path | None:
    bundle = paths.bundled_sources_dir()
    if bundle is None:
        return None
    path = bundle / src.name
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _verified_bundle:
        actual = _sha256_of(path)
        if st.st_size != src.size or actual != src.sha256:
            raise _mismatch(src, f"the bundle {bundle}", actual, st.st_size,
                            hint="reinstall mnviewer")
        _verified_bundle.add(key)
    return path


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def _write_stamp(src: SourceFile, path: Path) -> None:
    stamp = _stamp_path(path)
    tmp = temp_name(stamp)
    try:
        tmp.write_text(_stamp_text(src, path.stat()), encoding="ascii")
        os.replace(tmp, stamp)
    except OSError as exc:
        _remove(tmp)
        raise _unwritable(path.parent, exc) from exc


def _remove(*files: Path) -> None:
    for path in files:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _unwritable(path.parent, exc) from exc


def _unwritable(folder: Path, exc: OSError) -> OutputError:
    reason = exc.strerror or exc.__class__.__name__
    return OutputError(
        f"cannot write the cache folder {folder} ({reason}): "
        "set MNVIEWER_HOME to a writable folder"
    )


def _mismatch(src: SourceFile, where: str, actual: str, size: int, *, hint: str) -> FetchError:
    return FetchError(
        f"{src.name} from {where} failed its sha256 check: expected {src.sha256} "
        f"({src.size} bytes), got {actual} ({size} bytes): {hint}"
    )


# ---------------------------------------------------------------------------- mirrors and network


def _from_elsewhere(src: SourceFile, progress: Progress) -> Fetched:
    """Mirrors in MNVIEWER_MIRROR, then the pinned URL; the copy lands in the cache."""
    cache = _ensure_cache_dir()
    tried: list[str] = []
    for entry in _mirror_entries():
        try:
            if _is_url(entry):
                url = entry.rstrip("/") + "/" + urllib.parse.quote(src.name)
                path = _download(url, src, cache, progress)
            else:
                path = _copy_from_folder(Path(entry), src, cache, progress)
            return Fetched(src.name, path, "mirror", entry)
        except _Unavailable as exc:
            tried.append(f"{entry}: {exc}")
    try:
        path = _download(src.url, src, cache, progress)
    except _Unavailable as exc:
        also = f"; mirrors tried: {'; '.join(tried)}" if tried else ""
        raise FetchError(
            f"cannot download {src.name} from {src.url} ({exc}){also}: check the network "
            f"or set {MIRROR_ENV} to a folder holding it"
        ) from exc
    return Fetched(src.name, path, "network", src.url)


def _ensure_cache_dir() -> Path:
    folder = paths.sources_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
    return folder


def _mirror_entries() -> list[str]:
    """MNVIEWER_MIRROR split into folders and base URLs; a bad folder is an error, not a miss."""
    entries = split_mirror_list(os.environ.get(MIRROR_ENV, ""))
    for entry in entries:
        if not _is_url(entry):
            _check_mirror_folder(Path(entry).expanduser())
    return entries


def split_mirror_list(value: str) -> list[str]:
    """Split a MNVIEWER_MIRROR value on os.pathsep, keeping 'scheme://host:port/..' URLs whole."""
    parts = value.split(os.pathsep)
    if os.pathsep != ":":
        return [p for p in parts if p]
    # On POSIX the separator is ':', which also occurs in URLs: glue the pieces back together.
    entries: list[str] = []
    i = 0
    while i < len(parts):
        entry = parts[i]
        if entry in URL_SCHEMES and i + 1 < len(parts) and parts[i + 1].startswith("//"):
            i += 1
            entry += ":" + parts[i]
            netloc_done = "/" in parts[i][2:]
            if not netloc_done and i + 1 < len(parts) and _looks_like_port(parts[i + 1]):
                i += 1
                entry += ":" + parts[i]
        if entry:
            entries.append(entry)
        i += 1
    return entries


def _looks_like_port(piece: str) -> bool:
    port = piece.split("/", 1)[0]
    return port.isdigit()


def _is_url(entry: str) -> bool:
    return urllib.parse.urlsplit(entry).scheme.lower() in URL_SCHEMES


def _check_mirror_folder(folder: Path) -> None:
    hint = f"{MIRROR_ENV} should point at a folder holding the model files"
    if not folder.is_dir():
        raise FetchError(f"mirror folder {folder} does not exist: {hint}")
    try:
        empty = next(folder.iterdir(), None) is None
    except OSError as exc:
        raise FetchError(f"mirror folder {folder} cannot be read ({exc.strerror}): {hint}") from exc
    if empty:
        raise FetchError(f"mirror folder {folder} is empty: {hint}")


def _candidates_in(folder: Path, src: SourceFile) -> list[Path]:
    """The bare name, then each tail of the URL's path (e.g. tools/x.tflite), shortest first."""
    segments = [s for s in urllib.parse.urlsplit(src.url).path.split("/") if s]
    tails = ["/".join(segments[-k:]) for k in range(2, len(segments) + 1)]
    if segments and segments[-1] != src.name:
        tails.insert(0, segments[-1])
    return [folder / src.name] + [folder / urllib.parse.unquote(t) for t in tails]


def _copy_from_folder(folder: Path, src: SourceFile, cache: Path, progress: Progress) -> Path:
    for candidate in _candidates_in(folder.expanduser(), src):
        if candidate.is_file():
            try:
                reader = candidate.open("rb")
            except OSError as exc:
                raise _Unavailable(f"cannot read {candidate} ({exc.strerror})") from exc
            with reader:
                return _write_verified(reader, src, cache, str(candidate), progress)
    raise _Unavailable("not there")


def _timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise UsageError(
            f"{TIMEOUT_ENV}={raw!r} is not a positive number of seconds: unset it or give e.g. 20"
        )
    return value


def _download(url: str, src: SourceFile, cache: Path, progress: Progress) -> Path:
    # The timeout bounds the connection and each read, so a stalled server cannot hang us.
    try:
        response = urllib.request.urlopen(url, timeout=_timeout())
    except HTTPError as exc:
        raise _Unavailable(f"HTTP {exc.code} {exc.reason}") from exc
    except URLError as exc:
        raise _Unavailable(_reason(exc.reason)) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _Unavailable(_reason(exc)) from exc
    with response:
        return _write_verified(response, src, cache, url, progress)


def _reason(exc: object) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__


# ---------------------------------------------------------------------------- verified atomic write


def _write_verified(
    reader: BinaryIO, src: SourceFile, cache: Path, where: str, progress: Progress
) -> Path:
    """Stream into a temp file beside the target, check size+sha256, then rename into place."""
    final = cache / src.name
    tmp = temp_name(final)
    try:
        writer = tmp.open("wb")
    except OSError as exc:
        raise _unwritable(cache, exc) from exc
    try:
        with writer, _progress_bar(src, progress) as advance:
            size, actual = _stream(reader, writer, src, where, cache, advance)
            _flush(writer, cache)
        if size != src.size or actual != src.sha256:
            raise _mismatch(src, where, actual, size, hint=_mismatch_hint(src, where))
        os.replace(tmp, final)
    except BaseException:
        # Never leave a partial file behind, whatever went wrong (including Ctrl+C).
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(cache)
    _write_stamp(src, final)
    return final


def _mismatch_hint(src: SourceFile, where: str) -> str:
    if where == src.url:
        return "the download was altered or the pinned file changed: try again, or use a mirror"
    return f"that copy is not the pinned file: replace it, or drop it from {MIRROR_ENV}"


def _stream(
    reader: BinaryIO, writer: BinaryIO, src: SourceFile, where: str, cache: Path,
    advance: Callable[[int], None],
) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while True:
        try:
            chunk = reader.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise _Unavailable(f"reading failed: {_reason(exc)}") from exc
        if not chunk:
            return size, digest.hexdigest()
        size += len(chunk)
        # A wrong URL could serve anything: stop as soon as it is bigger than the pinned size.
        if size > src.size:
            raise FetchError(
                f"{src.name} from {where} is bigger than the expected {src.size} bytes: "
                "check the mirror or the catalog"
            )
        digest.update(chunk)
        try:
            writer.write(chunk)
        except OSError as exc:
            raise _unwritable(cache, exc) from exc
        advance(len(chunk))


def _flush(writer: BinaryIO, cache: Path) -> None:
    try:
        writer.flush()
        os.fsync(writer.fileno())
    except OSError as exc:
        raise _unwritable(cache, exc) from exc


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _progress_bar(src: SourceFile, progress: Progress) -> Iterator[Callable[[int], None]]:
    """Yields advance(n_bytes): a tqdm bar on stderr, the caller's callback, or nothing."""
    if callable(progress):
        callback = progress
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            callback(src.name, done, src.size)

        yield advance
    elif progress:
        with tqdm(total=src.size, desc=src.name, unit="B", unit_scale=True, unit_divisor=1024,
                  file=sys.stderr, leave=False) as bar:
            yield bar.update
    else:
        yield lambda n: None


def demo_video() -> Path:
    """The demo video from the cache, the bundle, a mirror or its pinned URL."""
    catalog = load_catalog()
    return fetch_source(catalog.sources[catalog.demo_video])
