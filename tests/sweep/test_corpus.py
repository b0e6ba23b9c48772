"""The corpus sweep: 107 real recordings replay with no abort, no exception, in bounded time.

The corpus (`tests/corpus/`, BSD 2-Clause, provenance in its README and MANIFEST) is what
real users attach when they ask "does it support my device?". Each recording is read by the
recording reader and polled once; `docs/device-coverage.md` is the report of that run and
must match it. The sweep is run once per session (two processes; about a minute of CPU).
"""

from __future__ import annotations

import bz2
import hashlib
from functools import cache
from pathlib import Path

import pytest

from sobriety.gen.device_coverage import CORPUS, ROOT, Coverage, recordings, render, survey_all

RECORDINGS = recordings()


@cache
def sweep() -> tuple[Coverage, ...]:
    return tuple(survey_all(RECORDINGS))


def test_the_corpus_is_in_the_project_with_its_provenance_and_licence() -> None:
    assert len(RECORDINGS) == 107
    assert "Redistribution and use in source and binary forms" in (
        CORPUS / "LICENSE.txt"
    ).read_text(encoding="utf-8")  # BSD 2-Clause
    assert "etingof/snmpsim-data" in (CORPUS / "README.md").read_text(encoding="utf-8")
    manifest = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    listed = {}
    for line in manifest:
        name, _source, blob, size = line.split("\t")
        listed[name] = (blob, int(size))
    assert set(listed) == {p.relative_to(CORPUS).as_posix() for p in RECORDINGS}
    for path in RECORDINGS:  # byte for byte: the git blob id of each file is the manifest's
        data = path.read_bytes()
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        assert (blob, len(data)) == listed[path.relative_to(CORPUS).as_posix()], path
        assert len(data) < 5_000_000  # tracked files stay small


def test_every_recording_replays_without_abort_or_exception_in_bounded_time() -> None:
    rows = sweep()
    assert len(rows) == len(RECORDINGS)  # none aborted (an abort raises out of the sweep)
    for row in rows:
        assert row.up, (row.file, row.reason)
        assert "error" not in row.issues, row.file  # an exception in a collector is "error"
        # measured: 7 s of CPU for the largest (1.47 million records); tripled and more
        assert row.cpu_seconds < 30, (row.file, row.cpu_seconds)
    assert sum(row.cpu_seconds for row in rows) < 300


def test_vendor_and_model_are_known_for_most_of_the_world() -> None:
    rows = sweep()
    vendor = sum("vendor" in r.identity for r in rows)
    model = sum("model" in r.identity for r in rows)
    assert vendor >= 0.9 * len(rows), vendor
    assert model >= 0.7 * len(rows), model
    for row in rows:  # every fact says where it came from
        assert all(origin != "?" for _, origin in row.identity.values()), row.file


def _non_records(path: Path) -> int:
    data = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    lines = data.decode("latin-1").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return sum(1 for line in lines if not line.strip() or line.startswith("#"))


def test_every_skipped_line_is_accounted_for() -> None:
    by_file = {r.file: r for r in sweep()}
    for path in RECORDINGS:
        row = by_file[path.relative_to(CORPUS).as_posix()]
        assert row.records + len(row.skipped) + _non_records(path) == row.lines, row.file
        assert all(s.reason and s.detail for s in row.skipped)


def test_device_coverage_page_is_generated_from_this_run() -> None:
    committed = (ROOT / "docs" / "device-coverage.md").read_text(encoding="utf-8")
    if committed != render(sweep()):
        pytest.fail("docs/device-coverage.md is stale: run `make docs` and review the diff")
