"""The live snapshot: the latest samples of every target, swapped whole after each poll.

A Prometheus scrape reads this and nothing else: scraping never causes device traffic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import MappingProxyType

from sobriety.model import Sample


class LiveSnapshot:
    """Latest samples per target. Updates replace a target's samples in one assignment."""

    def __init__(self) -> None:
        self._by_target: MappingProxyType[str, tuple[Sample, ...]] = MappingProxyType({})

    def update(self, target: str, samples: Sequence[Sample]) -> None:
        """Replace the samples of `target`."""
        current = dict(self._by_target)
        current[target] = tuple(samples)
        self._by_target = MappingProxyType(current)

    def retain(self, targets: set[str]) -> None:
        """Forget targets that are no longer configured."""
        self._by_target = MappingProxyType(
            {t: s for t, s in self._by_target.items() if t in targets}
        )

    def samples(self) -> Iterator[Sample]:
        """Every sample of every target (a consistent view, even if updated meanwhile)."""
        view = self._by_target
        for samples in view.values():
            yield from samples

    def of(self, target: str) -> tuple[Sample, ...]:
        return self._by_target.get(target, ())

    def targets(self) -> list[str]:
        return list(self._by_target)
