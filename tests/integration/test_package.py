"""The installed package as a user gets it: a .deb unpacked into a scratch root, run offline.

The bundle and .deb are built once per session with packaging/build.sh (under a minute with
warm build/ caches, about 1.5 minutes cold; the .deb is packed with zstd to save time), or
taken from MNVIEWER_PACKAGE_DIR when that points at a folder holding a prebuilt
mnviewer_*.deb. The app then runs from the unpacked tree with an empty HOME, no MNVIEWER_*
variables and every download sent to a closed local port, so it must find its models, labels
and Qt/OpenVINO plugins inside itself. Building a model that is not prebuilt runs in a network
namespace of its own (`unshare`), so no connection can be made at all.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import PROXY_VARS, closed_port, mirror_list

pytestmark = pytest.mark.package

REPO = Path(__file__).resolve().parents[2]
VIDEO = "bottle-detection.mp4"
DEFAULT_MODEL = "mobilenet-v1-1.0-224"
# The installed app (/opt/mnviewer, what dpkg's Installed-Size counts) stays within this (du).
MAX_INSTALLED_MIB = 450


@pytest.fixture(scope="session")
def report(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """Print a measurement to the terminal, captured output or not (CI logs show it)."""
    terminal = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")

    def write(text: str) -> None:
        if terminal is None or capture is None:
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(f"\n[package] {text}")

    return write


@pytest.fixture(scope="session")
def deb_file(shared_dir: Path, report: Callable[[str], None]) -> Path:
    """The .deb under test: prebuilt (MNVIEWER_PACKAGE_DIR) or built now into dist/."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not available: the package is built and tested on Debian/Ubuntu")
    prebuilt = os.environ.get("MNVIEWER_PACKAGE_DIR")
    folder = Path(prebuilt) if prebuilt else REPO / "dist"
    if not prebuilt:
        env = dict(os.environ)
        env.update(MNVIEWER_DEB_COMPRESSION="zstd", MNVIEWER_MIRROR=mirror_list(shared_dir))
        start = time.perf_counter()
        done = subprocess.run(["bash", str(REPO / "packaging" / "build.sh")], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=1200, check=False)
        assert done.returncode == 0, f"packaging/build.sh failed:\n{done.stdout[-3000:]}" \
                                     f"\n{done.stderr[-3000:]}"
        report(f"package built in {time.perf_counter() - start:.0f} s")
    debs = sorted(folder.glob("mnviewer_*.deb"))
    assert len(debs) == 1, f"expected one mnviewer_*.deb in {folder}, found {debs}"
    return debs[0]


@pytest.fixture(scope="session")
def root(deb_file: Path, tmp_path_factory: pytest.TempPathFactory,
         report: Callable[[str], None]) -> Path:
    """The package's files unpacked as dpkg would install them, under a scratch root."""
    path = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb_file), str(path)], check=True, timeout=300)
    du = subprocess.run(["du", "-sh", str(path / "opt" / "mnviewer")], capture_output=True,
                        text=True, check=True).stdout.split()[0]
    report(f"bundle {du} unpacked (/opt/mnviewer), "
           f".deb {deb_file.stat().st_size / 2**20:.0f} MiB ({deb_file.name})")
    return path


@pytest.fixture
def app(root: Path, tmp_path: Path) -> Iterator[AppRunner]:
    runner = AppRunner(root, tmp_path)
    before = _tree(root / "opt")
    yield runner
    # The app must never write into its install folder (dpkg would leave such files behind).
    assert _tree(root / "opt") == before


class AppRunner:
    """Runs the installed `mnviewer` command offline, with an empty HOME of its own."""

    def __init__(self, root: Path, tmp_path: Path):
        # Through /usr/bin/mnviewer, the relative symlink a user's PATH finds.
        self.command = root / "usr" / "bin" / "mnviewer"
        self.cwd = tmp_path
        home = tmp_path / "home"
        home.mkdir()
        # Nothing from the developer's setup may help the app find its parts.
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS
               and not k.startswith(("MNVIEWER_", "XDG_", "QT_", "PYTHON", "LD_"))}
        proxy = f"http://127.0.0.1:{closed_port()}"
        env.update(HOME=str(home), http_proxy=proxy, https_proxy=proxy, HTTP_PROXY=proxy,
                   HTTPS_PROXY=proxy, QT_QPA_PLATFORM="offscreen")
        self.env = env

    def run(self, *args: str, timeout: float = 180,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, str(self.command), *args], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([str(self.command), *args], cwd=self.cwd, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_package_installs_command_menu_entry_and_icons(root: Path, deb_file: Path) -> None:
    bundle_exe = root / "opt" / "mnviewer" / "mnviewer"
    assert os.access(bundle_exe, os.X_OK)
    command = root / "usr" / "bin" / "mnviewer"
    assert command.is_symlink() and command.resolve() == bundle_exe.resolve()
    desktop_file = root / "usr" / "share" / "applications" / "mnviewer.desktop"
    desktop = desktop_file.read_text()
    assert "\nExec=mnviewer" in desktop and "\nIcon=mnviewer\n" in desktop
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(desktop_file)],
                               capture_output=True, text=True, check=False)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    icons = root / "usr" / "share" / "icons" / "hicolor"
    png = (icons / "256x256" / "apps" / "mnviewer.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == int.from_bytes(png[20:24], "big") == 256
    assert (icons / "scalable" / "apps" / "mnviewer.svg").is_file()
    # Every file is owned by the package, under /opt/mnviewer or a per-package /usr path.
    top = {p.relative_to(root).as_posix() for p in root.glob("*/*")}
    assert top == {"opt/mnviewer", "usr/bin", "usr/share"}
    listing = subprocess.run(["dpkg-deb", "-c", str(deb_file)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    assert all(" root/root " in line for line in listing)
    fields = subprocess.run(["dpkg-deb", "-f", str(deb_file), "Package", "Depends"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: mnviewer" in fields and "libc6" in fields
    scripts = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb_file)], capture_output=True,
                             check=True).stdout
    assert b"./postrm" in scripts


@pytest.fixture(scope="session")
def no_network() -> tuple[str, ...]:
    """A command prefix that runs a program with no network at all (loopback down included).

    `unshare --net` in a user namespace of its own where that is allowed, else as root; where
    neither works, the closed-port proxies of AppRunner are the only guard.
    """
    if shutil.which("unshare"):
        for prefix in (("unshare", "--map-root-user", "--net"), ("unshare", "--net")):
            probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
            if probe.returncode == 0:
                return prefix
    return ()


def test_installed_size_and_contents(root: Path, deb_file: Path,
                                     report: Callable[[str], None]) -> None:
    """Within the size limit: the default model prebuilt, source files for the rest, no extras."""
    bundle = root / "opt" / "mnviewer"
    kib = int(subprocess.run(["du", "-sk", str(bundle)], capture_output=True, text=True,
                             check=True).stdout.split()[0])
    installed = int(subprocess.run(["dpkg-deb", "-f", str(deb_file), "Installed-Size"],
                                   capture_output=True, text=True, check=True).stdout)
    report(f"installed size {kib / 1024:.0f} MiB (/opt/mnviewer), "
           f"Installed-Size {installed / 1024:.0f} MiB")
    assert kib <= MAX_INSTALLED_MIB * 1024, f"/opt/mnviewer takes {kib / 1024:.0f} MiB"
    assert installed <= MAX_INSTALLED_MIB * 1024, installed
    internal = bundle / "_internal"
    prebuilt = internal / "prebuilt"
    assert {p.name for p in prebuilt.iterdir()} == {DEFAULT_MODEL, "sources"}
    assert sorted(p.name for p in (prebuilt / DEFAULT_MODEL).glob("*.xml")) == ["int8.xml"]
    catalog = json.loads((internal / "models" / "catalog.json").read_text())
    assert {p.name for p in (prebuilt / "sources").iterdir()} == set(catalog["sources"])
    frontends = {p.name.split("_frontend")[0].removeprefix("libopenvino_")
                 for p in (internal / "openvino" / "libs").glob("libopenvino_*_frontend.so*")}
    assert frontends == {"ir", "tensorflow_lite", "onnx"}, frontends
    for extra in ("nncf", "ray", "onnx", "ai_edge_litert", "torch", "tensorflow", "pytest"):
        assert not (internal / extra).exists(), f"{extra} is bundled"


def test_other_models_build_on_first_use_with_no_network(
        app: AppRunner, root: Path, shared_dir: Path, no_network: tuple[str, ...],
        report: Callable[[str], None]) -> None:
    """A model that is not prebuilt is built from the bundled source files, offline."""
    model = "mobilenet-v1-0.25-128"
    assert not (root / "opt" / "mnviewer" / "_internal" / "prebuilt" / model).exists()
    start = time.perf_counter()
    done = app.run("models", "build", model, "--precision", "int8", prefix=no_network)
    took = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    built = app.cwd / "home" / ".cache" / "mnviewer" / "models" / model / "int8.xml"
    assert built.is_file(), done.stdout
    report(f"{model} int8 built on first use in {took:.1f} s "
           f"({' '.join(no_network) or 'closed-port proxies only'})")
    done = app.run("run", "--source", str(shared_dir / "media" / "parrot.jpg"), "--model", model,
                   "--precision", "int8", "--out", "out.jsonl", prefix=no_network)
    assert done.returncode == 0, done.stderr
    record = json.loads((app.cwd / "out.jsonl").read_text().splitlines()[0])
    assert record["top"][0]["label"] == "macaw", record


def test_headless_run_classifies_the_demo_video_offline(app: AppRunner, shared_dir: Path) -> None:
    done = app.run("run", "--source", str(shared_dir / "media" / VIDEO), "--max-frames", "100",
                   "--out", "out.jsonl")
    assert done.returncode == 0, done.stderr
    lines = (app.cwd / "out.jsonl").read_text().splitlines()
    assert len(lines) == 100
    top1: collections.Counter[str] = collections.Counter()
    for line in lines:
        record = json.loads(line)
        assert isinstance(record["frame"], int)
        assert record["top"], record
        for guess in record["top"]:
            assert {"index", "label", "score"} <= guess.keys()
        top1[record["top"][0]["label"]] += 1
    assert top1.most_common(1)[0][0] == "water bottle", top1


def test_gui_runs_offscreen_and_draws_the_window(app: AppRunner, shared_dir: Path) -> None:
    import cv2

    done = app.run("gui", "--source", str(shared_dir / "media" / VIDEO), "--quit-after", "60",
                   "--screenshot", "shot.png")
    assert done.returncode == 0, done.stderr
    shot = cv2.imread(str(app.cwd / "shot.png"))
    assert shot is not None, "no readable screenshot"
    assert shot.shape[0] > 200 and shot.shape[1] > 300, shot.shape
    assert float(shot.std()) > 20.0, "the screenshot is (nearly) blank"


def test_devices_lists_the_cpu(app: AppRunner) -> None:
    done = app.run("devices")
    assert done.returncode == 0, done.stderr
    assert any(line.startswith("CPU") for line in done.stdout.splitlines()), done.stdout


def test_time_from_launch_to_first_labelled_frame(app: AppRunner, shared_dir: Path,
                                                  report: Callable[[str], None]) -> None:
    video = str(shared_dir / "media" / VIDEO)
    timings, firsts = [], []
    for run in ("cold", "warm"):  # cold: empty HOME, the model is compiled; warm: from ov-cache
        start = time.perf_counter()
        proc = app.popen("run", "--source", video, "--max-frames", "1", "--out", "-", "--quiet")
        first_line = proc.stdout.readline() if proc.stdout else ""
        first = time.perf_counter() - start
        _out, err = proc.communicate(timeout=120)
        total = time.perf_counter() - start
        assert proc.returncode == 0, err
        assert json.loads(first_line)["top"], first_line
        timings.append(f"{run} {first:.2f} s (exit {total:.2f} s)")
        firsts.append(first)
    report("launch to first labelled frame: " + ", ".join(timings))
    assert max(firsts) < 30, timings


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}
