"""snmpsim's command responder, run with its record index held in memory.

snmpsim indexes each recording in a `dbm` database (OID → offset in the file) and reads that
index on every varbind. Where Python has no gdbm or ndbm (a pyenv build without the headers,
for one), `dbm` falls back to `dbm.dumb`, which opens and closes its data file for every key
written and every value read: measured here, 6.5 s to index the 15 bundled recordings and
about 0.9 ms a varbind served, so 16 demo targets polled together overran a 2 s timeout. snmpsim
looks for a module named `anydbm` before `dbm`; this one keeps the index in a dict, written to
and read from one text file (a line per OID). The served values are snmpsim's own: only the storage
of its index changes.

Run as `python -m sobriety.demo.snmpsim_child ARGS`, with snmpsim's responder arguments.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

MAGIC = b"sobriety-snmpsim-index-1\n"
FORMAT = "sobriety-memory"


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


class MemoryIndex(dict[bytes, bytes]):
    """A dbm-like mapping of bytes, loaded from and saved to one file whole."""

    def __init__(self, path: Path, writable: bool) -> None:
        super().__init__()
        self.path = path
        self.writable = writable

    def __setitem__(self, key: str | bytes, value: str | bytes) -> None:
        super().__setitem__(_bytes(key), _bytes(value))

    def __getitem__(self, key: str | bytes) -> bytes:
        return super().__getitem__(_bytes(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(_bytes(key) if isinstance(key, str | bytes) else key)

    def close(self) -> None:
        if not self.writable:
            return
        partial = self.path.with_name(self.path.name + ".partial")
        lines = b"".join(key + b"\t" + value + b"\n" for key, value in self.items())
        partial.write_bytes(MAGIC + lines)
        os.replace(partial, self.path)  # a reader never sees half an index
        self.writable = False


def open_index(file: str, flag: str = "r", mode: int = 0o666) -> MemoryIndex:
    """`dbm.open`'s contract: 'n' makes a new index, 'r' reads one, 'c'/'w' read or make."""
    path = Path(file)
    index = MemoryIndex(path, writable=not flag.startswith("r"))
    if flag.startswith("n"):
        return index
    if not path.exists():
        if flag.startswith("r"):
            raise FileNotFoundError(file)
        return index
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise OSError(f"{file} is not a {FORMAT} index")
    for line in data[len(MAGIC) :].splitlines():
        key, _, value = line.partition(b"\t")
        dict.__setitem__(index, key, value)
    return index


def which_index(file: str) -> str | None:
    """`whichdb`'s contract: the format's name if `file` is one of ours, else None."""
    try:
        with open(file, "rb") as handle:
            return FORMAT if handle.read(len(MAGIC)) == MAGIC else None
    except OSError:
        return None


def install() -> None:
    """Make `anydbm` and `whichdb` importable as this module's index (snmpsim tries them first)."""
    anydbm = types.ModuleType("anydbm")
    anydbm.open = open_index  # type: ignore[attr-defined]
    whichdb = types.ModuleType("whichdb")
    whichdb.whichdb = which_index  # type: ignore[attr-defined]
    sys.modules["anydbm"] = anydbm
    sys.modules["whichdb"] = whichdb


def main() -> None:
    install()
    from snmpsim.commands.responder import main as responder

    responder()


if __name__ == "__main__":
    main()
