"""A smaller ICU data library for the Linux bundle: English and root locale data only.

Qt Core links ICU for locale-aware case mapping, time-zone names, collation and legacy text
codecs; the app is English-only, yet the wheel's libicudata.so.<N> carries all of ICU's
data (about 31 MB: every locale, ~200 codec tables, dictionaries for Thai/CJK word breaking,
transliterators). This keeps the data items of the root and English locales, the shared
tables (normalization, properties, collation root, time zones) and the single-byte codecs
(ISO-8859-*, windows-125*) and drops the rest: other locales fall back to root, as ICU does
for any locale missing from its data; the multi-byte East Asian codecs are unavailable.

    python packaging/icu_data.py SRC_LIB DST_LIB

reads the data package from SRC_LIB's `icudt<N>_dat` symbol, writes the trimmed package into
a new shared library DST_LIB with the same soname and symbol (assembled with binutils' `as`
and `ld`, which the package build needs anyway for `strip`).
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

LOCALE = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]+)*\.res")
KEPT_LOCALES = re.compile(r"(root|en(_[A-Za-z0-9]+)*)\.res")
# Not locales, though named like ones: every resource tree's key pool and index.
SHARED = {"pool.res", "res_index.res"}
DROPPED_TREES = {"translit", "rbnf"}  # transliterators, spelled-out numbers
DROPPED_KINDS = (".dict",)  # word-break dictionaries (CJK, Thai...)
# Codec tables above this size are the multi-byte East Asian ones (the single-byte are ~3 kB).
MAX_CODEC_BYTES = 16384


def keep(name: str, size: int) -> bool:
    """Whether an item ('icudt73l/coll/de.res') stays in the trimmed package."""
    parts = name.split("/")[1:]
    leaf = parts[-1]
    if leaf.endswith(DROPPED_KINDS) or (len(parts) > 1 and parts[0] in DROPPED_TREES):
        return False
    if leaf.endswith(".cnv"):
        return size <= MAX_CODEC_BYTES
    if leaf in SHARED or not LOCALE.fullmatch(leaf):
        return True
    return bool(KEPT_LOCALES.fullmatch(leaf))


def read_symbol(lib: bytes, symbol_prefix: bytes = b"icudt") -> tuple[str, bytes]:
    """(symbol name, bytes) of the ICU data symbol of an ELF64 little-endian library."""
    shoff, = struct.unpack_from("<Q", lib, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", lib, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", lib, shoff + i * shentsize)
                for i in range(shnum)]
    for _name, kind, _flags, _addr, off, size, link, _info, _align, entsize in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strtab = sections[link]
        for pos in range(off, off + size, entsize):
            st_name, _info, _other, shndx, value, st_size = struct.unpack_from("<IBBHQQ", lib, pos)
            start = strtab[4] + st_name
            name = lib[start:lib.index(b"\0", start)]
            if name.startswith(symbol_prefix) and name.endswith(b"_dat"):
                target = sections[shndx]
                file_pos = value - target[3] + target[4]
                return name.decode(), lib[file_pos:file_pos + st_size]
    raise SystemExit("no icudt*_dat symbol: not an ICU data library")


def trim_package(data: bytes) -> bytes:
    """The ICU common-data package (header, table of contents, items) without dropped items."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
    if (magic1, magic2) != (0xDA, 0x27) or data[12:16] != b"CmnD":
        raise SystemExit("the ICU data is not a common-data package")
    toc = data[header_size:]
    count, = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    ends = [offset for _, offset in entries[1:]] + [len(toc)]
    items = []
    for (name_offset, data_offset), end in zip(entries, ends, strict=True):
        name = toc[name_offset:toc.index(b"\0", name_offset)]
        if keep(name.decode(), end - data_offset):
            items.append((name, toc[data_offset:end]))
    # Same layout as ICU's own packages: names after the table, each item 16-byte aligned.
    names = b"".join(name + b"\0" for name, _ in items)
    table_size = 4 + 8 * len(items)
    first_item = -(-(table_size + len(names)) // 16) * 16
    table, blobs, name_pos, item_pos = [struct.pack("<I", len(items))], [], table_size, first_item
    for name, blob in items:
        table.append(struct.pack("<II", name_pos, item_pos))
        name_pos += len(name) + 1
        padded = blob + b"\0" * (-len(blob) % 16)
        blobs.append(padded)
        item_pos += len(padded)
    body = b"".join(table) + names
    body += b"\0" * (first_item - len(body))
    return data[:header_size] + body + b"".join(blobs)


def soname(lib: Path) -> str:
    dynamic = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True,
                             check=True).stdout
    found = re.search(r"\(SONAME\).*\[(.+)\]", dynamic)
    return found.group(1) if found else lib.name


def write_library(symbol: str, package: bytes, name: str, dst: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data.bin").write_bytes(package)
        (work / "data.s").write_text(
            "\t.section .note.GNU-stack,\"\",@progbits\n"
            "\t.section .rodata\n"
            f"\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n"
            f"{symbol}:\n\t.incbin \"data.bin\"\n\t.size {symbol}, . - {symbol}\n")
        subprocess.run(["as", "-o", "data.o", "data.s"], cwd=work, check=True)
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ld", "-shared", "-soname", name, "-z", "noexecstack", "-o",
                        str(dst.resolve()), "data.o"], cwd=work, check=True)


def trim_library(src: Path, dst: Path) -> tuple[int, int]:
    """Write the trimmed library; returns (size before, size after) of the data in bytes."""
    symbol, data = read_symbol(src.read_bytes())
    package = trim_package(data)
    write_library(symbol, package, soname(src), dst)
    return len(data), len(package)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    before, after = trim_library(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"ICU data {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB")
