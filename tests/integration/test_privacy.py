"""Nothing leaves the machine unasked: every command is traced for network connections.

Each command runs under `strace -f` with HOME pointed at an empty folder; the trace may hold
no connect/sendto/sendmsg to an address outside the loopback (or a Unix/netlink socket), and
no files may appear under `$HOME/intel` (OpenVINO telemetry's consent and client-id folder).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mnviewer import TELEMETRY_ENV

# Families that cannot leave the machine. AF_UNSPEC is how a UDP socket is disconnected.
LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"}
_FAMILY = re.compile(r"sa_family=(AF_\w+)")
_INET = re.compile(r'inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')


def _strace() -> str:
    path = shutil.which("strace")
    if path is None:
        pytest.fail("strace is not installed (Debian package 'strace', listed in "
                    ".ci/apt-packages.txt)", pytrace=False)
    return path


def _is_loopback(line: str, family: str) -> bool:
    if family == "AF_INET":
        match = _INET.search(line)
        return bool(match and match.group(1).startswith("127."))
    if family == "AF_INET6":
        match = _INET6.search(line)
        return bool(match and (match.group(1) == "::1" or
                               match.group(1).startswith("::ffff:127.")))
    return False


def outside_connections(trace: str) -> list[str]:
    """Lines of an strace log that address a socket outside this machine."""
    found = []
    for line in trace.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line):
            continue
        for family in _FAMILY.findall(line):
            if family not in LOCAL_FAMILIES and not _is_loopback(line, family):
                found.append(line)
                break
    return found


CI_MARKERS = ("CI", "TF_BUILD", "JENKINS_URL")


def traced_run(cmd: list[str], home: Path, env: dict[str, str] | None = None,
               timeout: float = 300) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run `cmd` under strace with HOME=home; returns the process and its outside connections."""
    trace = home.parent / f"{home.name}.strace"
    full_env = dict(os.environ)
    full_env.update({"HOME": str(home), "MNVIEWER_CONFIG_DIR": str(home / "config")})
    full_env.pop(TELEMETRY_ENV, None)
    # openvino_telemetry stays quiet by itself on a CI machine (CI=true and the like): without
    # these the traces would pass in CI whatever mnviewer did.
    for marker in CI_MARKERS:
        full_env.pop(marker, None)
    full_env.update(env or {})
    proc = subprocess.run(
        [_strace(), "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg",
         "-o", str(trace), *cmd],
        capture_output=True, text=True, env=full_env, timeout=timeout)
    return proc, outside_connections(trace.read_text())


def assert_stays_local(cmd: list[str], home: Path, env: dict[str, str] | None = None) -> None:
    """`cmd` succeeds, connects to nothing outside the loopback and writes nothing in ~/intel."""
    home.mkdir(parents=True, exist_ok=True)
    proc, outside = traced_run(cmd, home, env)
    assert proc.returncode == 0, proc.stderr
    assert outside == [], outside
    intel = home / "intel"
    assert not intel.exists(), sorted(p.name for p in intel.iterdir())


def mnviewer_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "mnviewer", *args]


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache of its own, so `models build` really builds (from the local mirror)."""
    return tmp_path_factory.mktemp("private-cache")


def test_models_build_stays_local(private_cache: Path, tmp_path: Path) -> None:
    assert_stays_local(mnviewer_cmd("models", "build", "mobilenet-v1-0.25-128",
                                    "--precision", "int8"),
                       tmp_path / "home", env={"MNVIEWER_HOME": str(private_cache)})
    assert (private_cache / "models" / "mobilenet-v1-0.25-128" / "int8.xml").is_file()


def test_run_stays_local(private_cache: Path, shared_dir: Path, tmp_path: Path) -> None:
    assert_stays_local(mnviewer_cmd("run", "--model", "mobilenet-v1-0.25-128",
                                    "--source", str(shared_dir / "media" / "cat.bmp")),
                       tmp_path / "home", env={"MNVIEWER_HOME": str(private_cache)})


def test_gui_stays_local(private_cache: Path, tmp_path: Path) -> None:
    assert_stays_local(mnviewer_cmd("gui", "--source", "demo", "--model",
                                    "mobilenet-v1-0.25-128", "--precision", "int8",
                                    "--quit-after", "5"),
                       tmp_path / "home",
                       env={"MNVIEWER_HOME": str(private_cache),
                            "QT_QPA_PLATFORM": "offscreen"})


def test_trace_sees_a_connection_outside(tmp_path: Path) -> None:
    # A UDP connect sends no packet, yet it is the syscall the check must catch.
    code = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            "s.connect(('192.0.2.1', 53)); s.close()")
    home = tmp_path / "home"
    home.mkdir()
    proc, outside = traced_run([sys.executable, "-c", code], home)
    assert proc.returncode == 0, proc.stderr
    assert len(outside) == 1 and "192.0.2.1" in outside[0], outside


def test_opt_in_leaves_openvino_telemetry_in_charge(tmp_path: Path) -> None:
    """With MNVIEWER_TELEMETRY=1 the library's own behaviour returns (seen offline)."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"]).returncode != 0:
        pytest.skip("no network namespace here (unshare -n) to try the opt-in offline")
    home = tmp_path / "home"
    home.mkdir()
    code = "import mnviewer, openvino.tools.ovc"
    proc, outside = traced_run([unshare, "-n", sys.executable, "-c", code], home,
                               env={TELEMETRY_ENV: "1"})
    assert proc.returncode == 0, proc.stderr
    assert outside, "the library's usage event was expected to try the network"
    assert (home / "intel" / "openvino_ga_cid").is_file()
    silent = tmp_path / "silent"
    silent.mkdir()
    proc, outside = traced_run([unshare, "-n", sys.executable, "-c", code], silent)
    assert proc.returncode == 0 and outside == [], (proc.stderr, outside)
    assert not (silent / "intel").exists()


def test_importing_and_quantizing_a_float_model_stays_local(
        private_cache: Path, shared_dir: Path, tmp_path: Path) -> None:
    """NNCF (which brings its own telemetry) quantizes an imported ONNX model."""
    from mnviewer.models.builder import ensure_built
    from tests.model_export import to_onnx

    with pytest.MonkeyPatch.context() as env:
        env.setenv("MNVIEWER_HOME", str(private_cache))
        fp32 = ensure_built("mobilenet-v1-0.25-128", "fp32").xml
    onnx_file = to_onnx(fp32, tmp_path / "float.onnx")
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    for image in sorted((shared_dir / "imagenet-sample").glob("*.JPEG"))[:20]:
        (calibration / image.name).symlink_to(image)
    assert_stays_local(mnviewer_cmd("models", "add", str(onnx_file), "--id", "private-float",
                                    "--mean", "127.5", "--scale", "127.5",
                                    "--calibration", str(calibration)),
                       tmp_path / "home", env={"MNVIEWER_HOME": str(private_cache)})
    assert (private_cache / "user-models" / "private-float" / "int8.xml").is_file()
