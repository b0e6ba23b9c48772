"""One poll, printed: of a recording through the recorded transport, or of a configured target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sobriety.clock import Clock, SystemClock
from sobriety.collectors.base import Collector, TargetRef
from sobriety.collectors.profiles import ProfileSet, builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.daemon.polling import status_samples
from sobriety.model import CollectIssue, CollectResult, Sample
from sobriety.snmp.snmprec import RecordedTransport, Recording, RecordingUnusable, load_snmprec


@dataclass(frozen=True, slots=True)
class PollOnce:
    """The result of one poll in the shape `poll-once` prints."""

    target: str
    up: bool
    profiles: tuple[str, ...]
    samples: tuple[Sample, ...]
    issues: tuple[CollectIssue, ...]
    requests: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        """The documented JSON object (integral values printed as integers)."""
        return {
            "target": self.target,
            "profiles": list(self.profiles),
            "samples": [
                {"name": s.name, "labels": dict(s.labels), "value": _number(s.value)}
                for s in self.samples
            ],
            "issues": [{"code": i.code, "detail": i.detail} for i in self.issues],
            "requests": self.requests,
        }


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def from_result(result: CollectResult, before: Sequence[CollectIssue] = ()) -> PollOnce:
    """Wrap a collect result with the status samples every poll carries (and the issues
    found before the poll, such as the lines of a recording that could not be read)."""
    return PollOnce(
        target=result.target,
        up=result.up,
        profiles=result.profiles,
        samples=(*status_samples(result), *result.samples),
        issues=(*before, *result.issues),
        requests=result.stats.requests(),
    )


MAX_LISTED_LINES = 50  # skipped lines listed one by one; the summary counts them all


def recording_issues(recording: Recording) -> list[CollectIssue]:
    """The lines of a recording that are not served: the first ones by file:line and why,
    and one summary that accounts for every one of them by reason."""
    if not recording.skipped:
        return []
    name = recording.path.name
    issues = [
        CollectIssue("recording_line_skipped", f"{name}:{s.line}: {s.reason}: {s.detail}")
        for s in recording.skipped[:MAX_LISTED_LINES]
    ]
    counts = ", ".join(f"{reason} {n}" for reason, n in recording.skipped_by_reason().items())
    issues.append(
        CollectIssue(
            "recording_lines_skipped",
            f"{name}: {len(recording.skipped)} of {recording.lines} lines skipped ({counts})",
        )
    )
    return issues


def recording_target(path: Path) -> str:
    """Target id of a recording: its file name without `.snmprec` / `.snmprec.bz2`."""
    name = path.name
    for suffix in (".bz2", ".snmprec"):
        name = name.removesuffix(suffix)
    return name


async def poll_recording(
    path: Path, profiles: ProfileSet | None = None, clock: Clock | None = None
) -> PollOnce:
    """Run the profiles against a recording through the recorded transport (no network)."""
    clock = clock or SystemClock()
    recording = load_snmprec(path, clock=clock)
    skipped = recording_issues(recording)
    if not len(recording):
        detail = skipped[-1].detail if skipped else f"{path.name}: no record"
        raise RecordingUnusable(f"{path}: nothing usable is left ({detail})")
    collector = SnmpCollector(
        TargetRef(id=recording_target(path), kind="snmp"),
        RecordedTransport(recording),
        profiles or load_profiles([builtin_profile_dir()]),
        clock,
    )
    return await _once(collector, skipped)


async def poll_config_target(config_path: Path, target_id: str) -> PollOnce:
    """Poll one configured target once, live."""
    from sobriety.config.load import load_config
    from sobriety.daemon.runtime import World, build_collector

    config = load_config(config_path)
    target = next((t for t in config.targets if t.id == target_id), None)
    if target is None:
        known = ", ".join(t.id for t in config.targets)
        raise ValueError(f"no target {target_id!r} in {config_path} (known: {known})")
    profiles = load_profiles([builtin_profile_dir(), *config.settings.profile_dirs])
    return await _once(build_collector(World(), config, profiles, target))


async def _once(collector: Collector, before: Sequence[CollectIssue] = ()) -> PollOnce:
    try:
        return from_result(await collector.collect(), before)
    finally:
        await collector.close()
