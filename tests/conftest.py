"""Shared test helpers. Under CI a missing tool fails the test; on a laptop it skips, and the
run ends with what was skipped, why, and the one command that installs the missing tools."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis' per-example deadline (200 ms) is a timing check, not a property: on a loaded
# 2-core machine the config property test took 303 ms for an example that takes 120 ms idle
# (and failed the suite once in three runs under a CPU burner). Properties are what is tested.
settings.register_profile("sobriety", deadline=None)
settings.load_profile("sobriety")

ROOT = Path(__file__).resolve().parents[1]
TOOLS_SCRIPT = ROOT / ".ci" / "tools.sh"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def debian_packages() -> dict[str, str]:
    """command -> Debian package, as .ci/tools.sh lists them (the one list of both)."""
    text = TOOLS_SCRIPT.read_text(encoding="utf-8")
    return dict(re.findall(r'^\s*"([\w.-]+):([\w.-]+)"\s*$', text, flags=re.MULTILINE))


def install_hint(names: list[str]) -> str:
    packages = sorted({debian_packages().get(name, name) for name in names})
    return "sudo apt-get install --no-install-recommends " + " ".join(packages)


def require_tool(name: str) -> str:
    """Path of a command-line tool the test needs."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        message = f"{name} is not installed ({install_hint([name])})"
        if in_ci():
            pytest.fail(f"{message}; under CI a missing tool is a failure")
        pytest.skip(message)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say what was skipped and why, grouped by reason; name the install command once."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: Counter[str] = Counter()
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    terminalreporter.section("skipped, and why")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:4d} skipped: {reason}")
    missing = [
        tool for tool in debian_packages() if shutil.which(tool, path=_search_path()) is None
    ]
    if missing:
        terminalreporter.write_line(f"install the missing tools with: {install_hint(missing)}")


def _search_path() -> str:
    return os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin"


# `make mutate` runs the fast tests once per mutant under mutmut's trampolines, slower than
# usual and on a loaded machine: no deadlines, and the same examples every run, so that a
# mutant's verdict does not depend on the draw (`--hypothesis-profile=mutate`).
settings.register_profile("mutate", deadline=None, derandomize=True, database=None)

_durations: tuple[float, dict[str, float]] = (-1.0, {})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make mutate`, the fastest tests first.

    mutmut runs a mutant's tests with `-x` in no useful order (a set's): a mutant its fastest
    test kills then often paid first for a daemon test of seconds that passes. Sorted by
    the durations mutmut's stats run recorded (mutants/mutmut-stats.json), a killed mutant
    costs its fastest failing test. Order only: every test still runs until one fails.
    """
    if not os.environ.get("SOBRIETY_MUTATE"):
        return
    durations = _recorded_durations(Path("mutmut-stats.json"))  # the cwd is mutants/
    if durations:
        items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


def _recorded_durations(path: Path) -> dict[str, float]:
    global _durations  # noqa: PLW0603  (read again only when the stats run rewrote it)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    if mtime != _durations[0]:
        stats = json.loads(path.read_text(encoding="utf-8"))
        _durations = (mtime, {str(k): float(v) for k, v in stats["duration_by_test"].items()})
    return _durations[1]


def _process_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> Iterator[None]:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def west_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process in UTC-10 (Honolulu), as a server set to local time would be."""
    yield from _process_zone(monkeypatch, "Pacific/Honolulu")


@pytest.fixture
def east_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process in UTC+14 (Kiritimati): local midnight is 14 hours before UTC's."""
    yield from _process_zone(monkeypatch, "Pacific/Kiritimati")
