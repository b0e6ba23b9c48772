"""Rewrite tests/cases/<recording>/expected.json and expected.prom from the recordings.

Run with `make golden`, then read the diff: a golden file is a claim about a real device.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sobriety.clock import ManualClock
from sobriety.exposition import render_text
from sobriety.pollonce import PollOnce, poll_recording, recording_target

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "recordings"
FIXTURES = RECORDINGS / "fixtures"  # built from MIBs, or cut from the corpus: see its README
CASES = Path(__file__).resolve().parent


def recordings() -> list[Path]:
    """The real recordings (whole files), then the fixtures."""
    return real_recordings() + fixtures()


def real_recordings() -> list[Path]:
    return sorted(p for p in RECORDINGS.iterdir() if ".snmprec" in p.name)


def fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if ".snmprec" in p.name)


def replay(path: Path) -> PollOnce:
    """Poll a recording with a fixed clock, so variation lines are repeatable."""
    return asyncio.run(poll_recording(path, clock=ManualClock()))


def render_json(result: PollOnce) -> str:
    return json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    for path in recordings():
        result = replay(path)
        folder = CASES / recording_target(path)
        folder.mkdir(exist_ok=True)
        (folder / "expected.json").write_text(render_json(result), encoding="utf-8")
        (folder / "expected.prom").write_text(render_text(result.samples), encoding="utf-8")
        print(f"{folder.name}: {len(result.samples)} samples, requests {result.requests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
