"""The live snapshot: the latest samples of every target, each replaced whole after its poll.

A Prometheus scrape reads this and nothing else: scraping never causes device traffic. An
update replaces one target's entry (an immutable tuple) in one assignment, so a scrape that
copies the mapping sees every target either before or after its poll, never half of one, and
an update costs the same with ten targets or ten thousand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from sobriety.model import Sample


class LiveSnapshot:
    """Latest samples per target."""

    def __init__(self) -> None:
        self._by_target: dict[str, tuple[Sample, ...]] = {}

    def update(self, target: str, samples: Sequence[Sample]) -> None:
        """Replace the samples of `target`."""
        self._by_target[target] = tuple(samples)

    def retain(self, targets: set[str]) -> None:
        """Forget targets that are no longer configured."""
        for gone in [t for t in self._by_target if t not in targets]:
            del self._by_target[gone]

    def entries(self) -> Mapping[str, tuple[Sample, ...]]:
        """A consistent copy of every target's entry (the tuples themselves are shared)."""
        return dict(self._by_target)

    def samples(self) -> Iterator[Sample]:
        """Every sample of every target (a consistent view, even if updated meanwhile)."""
        for samples in list(self._by_target.values()):
            yield from samples

    def of(self, target: str) -> tuple[Sample, ...]:
        return self._by_target.get(target, ())

    def targets(self) -> list[str]:
        return list(self._by_target)
