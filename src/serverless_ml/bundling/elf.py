"""Read an ELF shared object's ``DT_NEEDED`` entries (what ``ldd`` would resolve first).

Pure stdlib and architecture-independent, so the x86_64 build machine can inspect the arm64
wheels it bundles (``ldd`` only runs on binaries of the host's architecture).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Final

ELF_MAGIC: Final = b"\x7fELF"
SHT_DYNAMIC: Final = 6
DT_NULL: Final = 0
DT_NEEDED: Final = 1


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def needed_libraries(path: Path) -> tuple[str, ...] | None:
    """The ``DT_NEEDED`` sonames of ``path``; None if it is not a readable dynamic ELF file."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 64 or data[:4] != ELF_MAGIC:
        return None
    is_64 = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    if is_64:
        (shoff,) = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
        section = order + "IIQQQQIIQQ"  # name type flags addr offset size link info align entsize
    else:
        (shoff,) = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
        section = order + "IIIIIIIIII"
    dyn_entry = order + ("qQ" if is_64 else "iI")
    dyn_size = struct.calcsize(dyn_entry)
    try:
        headers = [
            struct.unpack_from(section, data, shoff + index * shentsize) for index in range(shnum)
        ]
        for header in headers:
            if header[1] != SHT_DYNAMIC:
                continue
            offset, size, link = header[4], header[5], header[6]
            strtab_offset = headers[link][4]
            names: list[str] = []
            for position in range(offset, offset + size, dyn_size):
                tag, value = struct.unpack_from(dyn_entry, data, position)
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    start = strtab_offset + value
                    names.append(data[start : data.index(b"\0", start)].decode("ascii", "replace"))
            return tuple(names)
    except (struct.error, IndexError, ValueError):
        return None
    return None
