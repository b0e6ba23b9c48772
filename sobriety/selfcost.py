"""The daemon's own cost, read at scrape time: CPU seconds and resident memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psutil

from sobriety import __version__
from sobriety.model import Sample


@dataclass(frozen=True, slots=True)
class SelfCost:
    """CPU seconds used so far and resident memory now."""

    cpu_seconds: float
    rss_bytes: int


def process_cost() -> SelfCost:
    """This process, through psutil."""
    proc = psutil.Process()
    times = proc.cpu_times()
    return SelfCost(times.user + times.system, proc.memory_info().rss)


def self_samples(probe: Callable[[], SelfCost] = process_cost) -> list[Sample]:
    """Samples of the daemon's own cost and version."""
    cost = probe()
    return [
        Sample("sobriety_process_cpu_seconds_total", {}, cost.cpu_seconds),
        Sample("sobriety_process_resident_memory_bytes", {}, float(cost.rss_bytes)),
        Sample("sobriety_build_info", {"version": __version__}, 1.0),
    ]
