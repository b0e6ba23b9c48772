"""Prometheus exposition: the only module that imports prometheus_client.

A scrape costs what changed: each target's samples are rendered once per snapshot entry (the
tuple a poll published) and kept as text per metric family, in the classic text format and in
OpenMetrics, each on first demand. A scrape then writes, family by family in catalogue order,
the family's header and the kept text of every target that has it, plus the daemon's own
series (site totals, alerts, self cost), rendered fresh. prometheus_client does every
rendering, so escaping and number formats are its own.
"""

from __future__ import annotations

import threading
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, choose_encoder
from prometheus_client.exposition import generate_latest as text_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
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


class Rendered:
    """One target's rendered lines, compact: the blocks of every metric in one buffer.

    A dict of one bytes object per metric cost about 3 KB a device in object headers and
    hash slots; one buffer, the block ends as 32-bit offsets and a tuple of metric names
    shared by the targets that expose the same metrics cost about 300 bytes.
    """

    __slots__ = ("body", "ends", "names")

    def __init__(self, blocks: Blocks) -> None:
        self.names = _shared_names(tuple(blocks))
        self.body = b"".join(blocks.values())
        ends = array("I")
        end = 0
        for lines in blocks.values():
            end += len(lines)
            ends.append(end)
        self.ends = ends

    def blocks(self) -> Iterator[tuple[str, memoryview]]:
        """Each metric's name and its lines (views of the buffer, no copies)."""
        view = memoryview(self.body)
        start = 0
        for name, end in zip(self.names, self.ends, strict=True):
            yield name, view[start:end]
            start = end


_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per set of metrics exposed
MAX_SHARED_NAMES = 10_000


def _shared_names(names: tuple[str, ...]) -> tuple[str, ...]:
    found = _NAMES.get(names)
    if found is not None:
        return found
    if len(_NAMES) < MAX_SHARED_NAMES:
        _NAMES[names] = names
    return names


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
        return Rendered(sample_lines(samples))

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
        chunk: int = 256 * 1024,
    ) -> list[bytes]:
        """A whole scrape as chunks of about `chunk` bytes (meant for a worker thread)."""
        out: list[bytes] = []
        pending: list[bytes] = []
        size = 0
        for part in self.compose(self.prepare(entries), extra(), fmt):
            pending.append(part)
            size += len(part)
            if size >= chunk:
                out.append(b"".join(pending))
                pending, size = [], 0
        if pending:
            out.append(b"".join(pending))
        return out

    @staticmethod
    def compose(
        targets: Sequence[Rendered], extra: Sequence[Sample], fmt: Format
    ) -> Iterator[bytes]:
        """The body, one metric family at a time (header once, then every target's lines)."""
        by_name: dict[str, list[bytes | memoryview]] = {}
        for name, lines in sample_lines(extra).items():
            by_name[name] = [lines]
        for rendered in targets:
            for name, view in rendered.blocks():
                found = by_name.get(name)
                if found is None:
                    by_name[name] = [view]
                else:
                    found.append(view)
        for name in sorted(by_name, key=_order):
            yield header(name, fmt)
            yield b"".join(by_name[name])
        if fmt.trailer:
            yield fmt.trailer
