"""The in-memory record index snmpsim runs with: dbm's contract, as snmpsim uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.demo.snmpsim_child import FORMAT, open_index, which_index


def test_an_index_written_then_read_gives_bytes_back(tmp_path: Path) -> None:
    path = tmp_path / "rec.dbm"
    db = open_index(str(path), "n")
    db["1.3.6.1.2.1.1.1.0"] = "0,0,-1"
    db["last"] = "812,0,-1"
    assert which_index(str(path)) is None  # nothing on disk before close
    db.close()
    assert which_index(str(path)) == FORMAT
    again = open_index(str(path))
    assert again["1.3.6.1.2.1.1.1.0"] == b"0,0,-1"
    assert again[b"last"] == b"812,0,-1"
    assert "last" in again
    with pytest.raises(KeyError):
        again["1.3.6.1.2.1.1.2.0"]


def test_foreign_or_missing_files_are_not_ours(tmp_path: Path) -> None:
    other = tmp_path / "old.dbm"
    other.write_bytes(b"\x00\x01 a dbm.dumb or gdbm file")
    assert which_index(str(other)) is None
    with pytest.raises(OSError, match="not a"):
        open_index(str(other))
    with pytest.raises(FileNotFoundError):
        open_index(str(tmp_path / "absent.dbm"))
    assert len(open_index(str(tmp_path / "absent.dbm"), "c")) == 0
