"""Print the Debian `Depends:` value for the bundle: the system libraries its binaries link.

    python packaging/linux/depends.py dist/mnviewer

Runs dpkg-shlibdeps (versioned dependencies from the system's symbols files) over every ELF
file of the bundle, in one process per core because it is slow on big libraries, and merges
the results keeping the highest minimum version of each package. Libraries found inside the
bundle are not dependencies. The OpenVINO GPU plugin is left out: its libOpenCL.so.1 is a
Recommends (ocl-icd-libopencl1), needed only on machines with an Intel GPU.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OPTIONAL = {"libopenvino_intel_gpu_plugin.so"}
FALLBACK = "libc6 (>= 2.35), libstdc++6 (>= 12), libgcc-s1 (>= 3.4)"
ELF_MAGIC = b"\x7fELF"


def elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.name in OPTIONAL:
            continue
        with path.open("rb") as fh:
            if fh.read(4) == ELF_MAGIC:
                found.append(path)
    return found


def shlibdeps(files: list[Path], lib_dirs: list[Path], workdir: Path) -> str:
    cmd = ["dpkg-shlibdeps", "-O", "--ignore-missing-info", "--warnings=0"]
    cmd += [f"-l{d}" for d in lib_dirs] + [str(f) for f in files]
    out = subprocess.run(cmd, cwd=workdir, check=True, capture_output=True, text=True).stdout
    match = re.search(r"^shlibs:Depends=(.*)$", out, re.M)
    return match[1] if match else ""


def version_gt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b], check=False).returncode == 0


def merge(depends: list[str]) -> str:
    """'pkg (>= v)' lists -> one list with the highest version per package (alternatives kept)."""
    best: dict[str, str | None] = {}
    for line in depends:
        for item in filter(None, (s.strip() for s in line.split(","))):
            m = re.fullmatch(r"(\S+)(?: \(>= (\S+)\))?", item)
            if not m:  # alternatives or other relations: keep verbatim
                best.setdefault(item, None)
                continue
            name, version = m[1], m[2]
            if name not in best or (version and (best[name] is None
                                                 or version_gt(version, best[name] or ""))):
                best[name] = version
    return ", ".join(f"{n} (>= {v})" if v else n for n, v in sorted(best.items()))


def main(argv: list[str]) -> int:
    bundle = Path(argv[1]).resolve()
    if shutil.which("dpkg-shlibdeps") is None:
        print("depends.py: dpkg-shlibdeps not found (install dpkg-dev): using a minimal "
              f"Depends: {FALLBACK}", file=sys.stderr)
        print(FALLBACK)
        return 0
    files = sorted(elf_files(bundle), key=lambda p: p.stat().st_size, reverse=True)
    lib_dirs = sorted({f.parent for f in files})
    workers = max(1, min(os.cpu_count() or 1, 8))
    chunks = [files[i::workers] for i in range(workers)]
    with tempfile.TemporaryDirectory() as tmp:
        # dpkg-shlibdeps wants a debian/control naming the package it works for.
        (Path(tmp) / "debian").mkdir()
        (Path(tmp) / "debian" / "control").write_text(
            "Source: mnviewer\n\nPackage: mnviewer\nArchitecture: any\n", encoding="utf-8")
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(lambda c: shlibdeps(c, lib_dirs, Path(tmp)), chunks))
    print(merge(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
