"""The daemon's own cost, read at scrape time: CPU seconds, resident memory and energy.

Its energy is CPU seconds × watts per busy CPU (`settings.self_watts_per_cpu`, default 5 W:
an estimate from the TDP per hardware thread of a common two-socket server CPU, e.g. 150 W
for 32 threads ≈ 4.7 W; a busy core of a small box draws less). It is an estimate, and
says so in the metric's help; RAPL, where readable, measures the whole host instead
(`sobriety_host_rapl_energy_joules_total`).
"""

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


DEFAULT_WATTS_PER_CPU = 5.0


def self_samples(
    probe: Callable[[], SelfCost] = process_cost, watts_per_cpu: float = DEFAULT_WATTS_PER_CPU
) -> list[Sample]:
    """Samples of the daemon's own cost and version."""
    cost = probe()
    return [
        Sample("sobriety_process_cpu_seconds_total", {}, cost.cpu_seconds),
        Sample("sobriety_self_energy_joules_total", {}, cost.cpu_seconds * watts_per_cpu),
        Sample("sobriety_process_resident_memory_bytes", {}, float(cost.rss_bytes)),
        Sample("sobriety_build_info", {"version": __version__}, 1.0),
    ]
