"""Prometheus exposition: the only module that imports prometheus_client.

A scrape costs what changed: each target's samples are rendered once per snapshot entry (the
tuple a poll published; the daemon renders it as it is published) and kept as one buffer of
text per target, in the classic text format, the one both formats share for samples. A scrape
then writes, family by family in catalogue order, the family's header and the kept text of
every target that has it, plus the daemon's own series (site totals, alerts, self cost),
rendered fresh, in chunks as they are consumed. prometheus_client writes every header and
is the reference a test holds the sample lines to.
"""

from __future__ import annotations

import threading
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import lz4.block
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, choose_encoder
from prometheus_client.exposition import generate_latest as text_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from sobriety.metrics import BY_NAME, MetricSpec
from sobriety.model import Sample

SampleSource = Callable[[], Iterable[Sample]]


def families(samples: Iterable[Sample]) -> list[Metric]:
    """Group samples into prometheus_client metric families, in catalogue order."""
    grouped: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[sample.name].append(sample)
    out: list[Metric] = []
    for name, group in sorted(grouped.items(), key=lambda kv: _order(kv[0])):
        spec = BY_NAME.get(name)
        if spec is None:
            raise KeyError(f"sample of undeclared metric {name!r}")
        out.append(_family(spec, group))
    return out


_POSITION = {name: i for i, name in enumerate(BY_NAME)}


def _order(name: str) -> int:
    return _POSITION.get(name, len(_POSITION))


def _family(spec: MetricSpec, samples: list[Sample]) -> Metric:
    metric = Metric(spec.family_name, spec.help, spec.kind)
    for sample in samples:
        metric.add_sample(spec.name, dict(sample.labels), sample.value)
    return metric


class SnapshotCollector(Collector):
    """A prometheus_client collector over sample sources; does no I/O of its own."""

    def __init__(self, *sources: SampleSource) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        yield from families(s for source in self.sources for s in source())


def new_registry(*sources: SampleSource) -> CollectorRegistry:
    """A registry of its own (never the global default) exposing the given sources."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(*sources))
    return registry


def render(registry: CollectorRegistry, accept: str | None = None) -> tuple[bytes, str]:
    """Body and content type of a scrape, in the format the Accept header asks for."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def render_text(samples: Iterable[Sample]) -> str:
    """Samples in the classic Prometheus text format (for `poll-once --format prom`)."""
    materialised = list(samples)
    body, _ = render(new_registry(lambda: materialised))
    return body.decode("utf-8")


# --- scrapes that cost what changed ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Format:
    """One exposition format: how to render, its content type, what ends a body."""

    name: str
    content_type: str
    encoder: Callable[[_Families], bytes]
    trailer: bytes


class _Families:
    """What prometheus_client's encoders read: anything with `collect()`."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Sequence[Metric]:
        return self.metrics


TEXT = Format("text", CONTENT_TYPE_LATEST, text_latest, b"")
OPEN_METRICS = Format("openmetrics", OPENMETRICS, openmetrics_latest, b"# EOF\n")


def negotiate(accept: str | None) -> Format:
    """OpenMetrics when the scraper asks for it (Prometheus does), else the text format."""
    _, content_type = choose_encoder(accept or "")
    return OPEN_METRICS if content_type == OPENMETRICS else TEXT


Blocks = dict[str, bytes]  # metric name -> the lines of its samples


def _escape(value: str) -> str:
    """A label value as both formats write it (backslash, newline and quote escaped)."""
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def _go(value: float) -> str:
    """A number as Prometheus' Go code writes it (prometheus_client's own function)."""
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


GO_FIXED_DIGITS = 6  # digits before the point past which Go writes an exponent (1e+07)


def sample_lines(samples: Iterable[Sample]) -> Blocks:
    """The sample lines of each metric, as prometheus_client writes them in both formats
    (labels sorted, Go float formatting; no timestamps). A test holds them to the library's
    own output."""
    grouped: dict[str, list[str]] = {}
    for s in samples:  # the hot loop of a scrape: a quarter faster than a join of generators
        number = s.value
        if type(number) is float and number - number == 0.0:  # finite: Go writes repr
            text = repr(number)  # unless Go would switch to an exponent sooner
            if number > 0 and text.find(".") > GO_FIXED_DIGITS:
                text = _go(number)
        else:  # infinities, NaN, and an int that reached a sample (Go writes 1.0)
            text = _go(number)
        labels = s.labels
        if len(labels) == 1:  # only the target (a fifth of a device's samples)
            ((key, value),) = labels.items()
            if "\\" in value or "\n" in value or '"' in value:
                value = _escape(value)
            line = f'{s.name}{{{key}="{value}"}} {text}\n'
        elif labels:
            pairs = []
            for key in sorted(labels):
                value = labels[key]
                if "\\" in value or "\n" in value or '"' in value:
                    value = _escape(value)
                pairs.append(f'{key}="{value}"')
            line = f"{s.name}{{{','.join(pairs)}}} {text}\n"
        else:
            line = f"{s.name} {text}\n"
        found = grouped.get(s.name)
        if found is None:
            grouped[s.name] = [line]
        else:
            found.append(line)
    return {name: "".join(lines).encode() for name, lines in grouped.items()}


_HEADERS: dict[tuple[str, str], bytes] = {}


def header(name: str, fmt: Format) -> bytes:
    """A metric's HELP/TYPE (and UNIT) lines in `fmt`, from prometheus_client, kept."""
    key = (fmt.name, name)
    found = _HEADERS.get(key)
    if found is None:
        spec = BY_NAME.get(name)
        if spec is None:
            raise KeyError(f"sample of undeclared metric {name!r}")
        body = fmt.encoder(_Families([Metric(spec.family_name, spec.help, spec.kind)]))
        found = _HEADERS[key] = b"".join(
            line for line in body.splitlines(keepends=True) if line.startswith(b"# ")
            and line != fmt.trailer
        )  # fmt: skip
    return found


class Layout:
    """The metrics a target exposes, in its order, and where each is: one object shared by
    every target that exposes the same metrics."""

    __slots__ = ("_picks", "index", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self._picks: dict[frozenset[str], tuple[tuple[str, int], ...]] = {}

    def picks(self, names: frozenset[str]) -> tuple[tuple[str, int], ...]:
        """The metrics of `names` this layout has, with their positions (kept per set
        of names: a scrape asks every target the same few sets)."""
        found = self._picks.get(names)
        if found is None:
            found = tuple((n, i) for i, n in enumerate(self.names) if n in names)
            if len(self._picks) >= MAX_PICK_SETS:  # passes cut elsewhere: forget the old
                self._picks.clear()
            self._picks[names] = found
        return found


class Rendered:
    """One target's rendered lines, compact: the blocks of every metric in one buffer,
    LZ4-compressed, with the block ends as 32-bit offsets into the text and a layout shared
    by the targets that expose the same metrics.

    The text is most of what a polled device costs in memory (6.0 KB a device, 60 MB at
    10,000); LZ4 keeps it in 1.5 KB for 4.6 µs a poll and 2.0 µs a scrape (zlib: 1.1 KB
    for 37 and 13 µs; docs/performance.md). One buffer and shared layouts instead of a dict
    of one bytes object per metric saved object headers and hash slots besides.
    """

    __slots__ = ("ends", "layout", "packed")

    def __init__(self, blocks: Blocks) -> None:
        self.layout = _shared_layout(tuple(blocks))
        self.packed: bytes = lz4.block.compress(b"".join(blocks.values()))
        ends = array("I")
        end = 0
        for lines in blocks.values():
            end += len(lines)
            ends.append(end)
        self.ends = ends

    @property
    def size(self) -> int:
        """Bytes of text, uncompressed."""
        return self.ends[-1] if self.ends else 0

    @property
    def body(self) -> bytes:
        """Every block's lines, in the layout's order."""
        return bytes(lz4.block.decompress(self.packed))

    def block(self, name: str) -> bytes | None:
        """The lines of one metric, if the target has it."""
        i = self.layout.index.get(name)
        return None if i is None else self.body[self._start(i) : self.ends[i]]

    def _start(self, i: int) -> int:
        return self.ends[i - 1] if i else 0

    def pick(self, names: frozenset[str], into: dict[str, list[bytes]]) -> None:
        """Append the target's block of each of `names` it has to that name's list."""
        picks = self.layout.picks(names)
        if picks:
            body = lz4.block.decompress(self.packed)
            ends = self.ends
            for name, i in picks:
                into[name].append(body[ends[i - 1] if i else 0 : ends[i]])


CHUNK_BYTES = 256 * 1024  # a scrape is written (and gzipped) this much at a time
PASS_BYTES = 16 * 1024 * 1024  # text a scrape holds decompressed at once (a pass's families)
MAX_PICK_SETS = 64  # sets of families a layout remembers its positions for
_LAYOUTS: dict[tuple[str, ...], Layout] = {}  # one per set of metrics exposed
MAX_SHARED_LAYOUTS = 10_000


def _shared_layout(names: tuple[str, ...]) -> Layout:
    found = _LAYOUTS.get(names)
    if found is not None:
        return found
    layout = Layout(names)
    if len(_LAYOUTS) < MAX_SHARED_LAYOUTS:
        _LAYOUTS[names] = layout
    return layout


def render_target(samples: Sequence[Sample]) -> Rendered:
    """A target's lines, as a scrape writes them (what the daemon's snapshot keeps)."""
    return Rendered(sample_lines(samples))


def parse_samples(text: str) -> list[Sample]:
    """Samples read back from the text format (prometheus_client's parser): what a
    scrape shows, for tests and tools that look at the daemon from outside."""
    return [
        Sample(s.name, dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


class Renderable(Protocol):
    """A snapshot entry: its rendered lines, rendered on first demand."""

    def rendered(self, render: Callable[[Sequence[Sample]], Rendered]) -> Rendered: ...


class ScrapeCache:
    """Puts scrapes together from the snapshot's entries, rendering only new ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one scrape renders at a time
        self.renders = 0  # entries rendered so far (a scrape renders only what changed)

    def _render(self, samples: Sequence[Sample]) -> Rendered:
        self.renders += 1
        return render_target(samples)

    def prepare(self, entries: Mapping[str, Renderable]) -> list[Rendered]:
        """Every target's lines, rendering only the entries polled since the last scrape.

        Meant for a worker thread: entries are replaced whole by the event loop, never
        changed in place except to drop what they no longer need.
        """
        with self._lock:
            return [entry.rendered(self._render) for entry in entries.values()]

    def body(
        self,
        entries: Mapping[str, Renderable],
        extra: Callable[[], Sequence[Sample]],
        fmt: Format,
        chunk: int = CHUNK_BYTES,
    ) -> list[bytes]:
        """A whole scrape as chunks of about `chunk` bytes (meant for a worker thread)."""
        return list(self.chunks(entries, extra, fmt, chunk))

    def chunks(
        self,
        entries: Mapping[str, Renderable],
        extra: Callable[[], Sequence[Sample]],
        fmt: Format,
        chunk: int = CHUNK_BYTES,
    ) -> Iterator[bytes]:
        """A scrape as chunks of about `chunk` bytes, made as they are consumed: a caller
        that compresses each one never holds the whole text (a worker thread's job)."""
        return self.compose(self.prepare(entries), extra(), fmt, chunk)

    @staticmethod
    def compose(
        targets: Sequence[Rendered],
        extra: Sequence[Sample],
        fmt: Format,
        chunk: int = CHUNK_BYTES,
        held: int = PASS_BYTES,
    ) -> Iterator[bytes]:
        """The body, one metric family at a time (header once, then every target's lines),
        in chunks of about `chunk` bytes.

        Targets keep their text compressed, and a family needs every target's block of it:
        the families are written in passes, each taking its families' blocks out of every
        target at once, so that a scrape holds about `held` bytes of text (not the fleet's:
        60 MB at 10,000 devices) for one decompression per target and pass.
        """
        extra_blocks = sample_lines(extra)
        passes = _passes(targets, extra_blocks, held)
        out = bytearray()
        for group in passes:
            members = frozenset(group)
            blocks: dict[str, list[bytes]] = {name: [] for name in group}
            for rendered in targets:
                rendered.pick(members, blocks)
            for name in group:
                out += header(name, fmt)
                lines = extra_blocks.get(name)
                if lines is not None:
                    out += lines
                for block in blocks.pop(name):  # let each family's blocks go once written
                    out += block
                    if len(out) >= chunk:
                        yield bytes(out)
                        out.clear()
        if fmt.trailer:
            out += fmt.trailer
        if out:
            yield bytes(out)


def _passes(targets: Sequence[Rendered], extra: Blocks, held: int) -> list[list[str]]:
    """Every family a scrape writes, in catalogue order, cut into runs of about `held`
    bytes of text. A family's size is estimated from one target of each layout (devices
    that expose the same metrics are mostly of one model): a pass over every target's
    blocks cost more than the scrape's writing."""
    by_layout: dict[int, tuple[Rendered, int]] = {}
    for rendered in targets:
        key = id(rendered.layout)
        found = by_layout.get(key)
        by_layout[key] = (rendered, 1) if found is None else (found[0], found[1] + 1)
    sizes = {name: len(lines) for name, lines in extra.items()}
    for rendered, count in by_layout.values():
        start = 0
        for name, end in zip(rendered.layout.names, rendered.ends, strict=True):
            sizes[name] = sizes.get(name, 0) + (end - start) * count
            start = end
    passes: list[list[str]] = []
    run: list[str] = []
    size = 0
    for name in sorted(sizes, key=_order):
        if run and size + sizes[name] > held:
            passes.append(run)
            run, size = [], 0
        run.append(name)
        size += sizes[name]
    if run:
        passes.append(run)
    return passes
