"""The live snapshot: the latest samples of every target, each replaced whole after its poll.

A Prometheus scrape reads this and nothing else: scraping never causes device traffic. An
update replaces one target's entry in one assignment, so a scrape that copies the mapping
sees every target either before or after its poll, never half of one, and an update costs the
same with ten targets or ten thousand.

Once an entry is rendered (by the daemon as it is published, or else by the first scrape),
it keeps the rendered lines and lets its sample objects go (tens of thousands of small
objects the garbage collector would walk forever), except for targets other devices read
between polls (feeders: PoE switches, PDUs, UPSes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sobriety.exposition import Rendered
from sobriety.model import Sample


class Entry:
    """One target's latest poll: its samples until rendered (or for good, if kept), then its
    rendered lines."""

    __slots__ = ("keep", "lines", "samples")

    def __init__(self, samples: tuple[Sample, ...], keep: bool) -> None:
        self.samples: tuple[Sample, ...] | None = samples
        self.lines: Rendered | None = None
        self.keep = keep

    def rendered(self, render: Callable[[Sequence[Sample]], Rendered]) -> Rendered:
        """The entry's lines, rendering them now if needed (from a scrape's worker thread:
        each assignment is atomic, and the loop only ever replaces entries whole)."""
        lines = self.lines
        if lines is None:
            samples = self.samples or ()
            lines = self.lines = render(samples)
            if not self.keep:
                self.samples = None
        return lines


class LiveSnapshot:
    """Latest samples per target.

    With `render`, an entry is rendered as it is published and keeps only its lines (feeders
    their samples too): a poll's sample objects live for the poll, not until the next
    scrape, which at one scrape per poll interval meant every device's samples held at once
    (about 30 KB a device, docs/performance.md). Without it, the first scrape renders.
    """

    def __init__(self, render: Callable[[Sequence[Sample]], Rendered] | None = None) -> None:
        self._by_target: dict[str, Entry] = {}
        self.kept: frozenset[str] = frozenset()  # targets whose samples others read
        self.render = render

    def update(self, target: str, samples: Sequence[Sample]) -> None:
        """Replace the samples of `target` (rendered at once, with a renderer)."""
        entry = Entry(tuple(samples), target in self.kept)
        if self.render is not None:
            entry.rendered(self.render)
        self._by_target[target] = entry

    def retain(self, targets: set[str]) -> None:
        """Forget targets that are no longer configured."""
        for gone in [t for t in self._by_target if t not in targets]:
            del self._by_target[gone]

    def entries(self) -> Mapping[str, Entry]:
        """A consistent copy of every target's entry."""
        return dict(self._by_target)

    def of(self, target: str) -> tuple[Sample, ...]:
        """A target's samples, while it keeps them (feeders always do)."""
        entry = self._by_target.get(target)
        return (entry.samples or ()) if entry is not None else ()

    def targets(self) -> list[str]:
        return list(self._by_target)
