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
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, choose_encoder
from prometheus_client.exposition import generate_latest as text_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import Collector

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


def render_blocks(samples: Sequence[Sample], fmt: Format) -> tuple[Blocks, Blocks]:
    """Samples rendered by prometheus_client, cut per metric: (headers, sample lines)."""
    body = fmt.encoder(_Families(families(samples)))
    if fmt.trailer and body.endswith(fmt.trailer):
        body = body[: -len(fmt.trailer)]
    headers: Blocks = {}
    lines: Blocks = {}
    ordered = [s.name for s in samples]
    by_family = {BY_NAME[name].family_name: name for name in ordered if name in BY_NAME}
    current = ""
    header: list[bytes] = []
    rows: list[bytes] = []
    for line in body.splitlines(keepends=True):
        if line.startswith(b"# HELP "):
            if current:
                headers[current], lines[current] = b"".join(header), b"".join(rows)
            family = line[7:].split(b" ", 1)[0].decode()
            current = by_family.get(family, by_family.get(family.removesuffix("_total"), family))
            header, rows = [line], []
        elif line.startswith(b"# "):
            header.append(line)
        else:
            rows.append(line)
    if current:
        headers[current], lines[current] = b"".join(header), b"".join(rows)
    return headers, lines


class ScrapeCache:
    """Each target's rendered lines, per format, kept while its snapshot entry is the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one scrape renders at a time
        self._rendered: dict[str, dict[str, tuple[tuple[Sample, ...], Blocks]]] = {}
        self._headers: dict[str, Blocks] = {}
        self.renders = 0  # targets rendered so far (a scrape renders only what changed)

    def prepare(self, entries: Mapping[str, tuple[Sample, ...]], fmt: Format) -> list[Blocks]:
        """Every target's blocks for `fmt`, rendering only those whose samples changed.

        Safe to run in a worker thread: snapshot entries are immutable tuples.
        """
        with self._lock:
            cache = self._rendered.setdefault(fmt.name, {})
            headers = self._headers.setdefault(fmt.name, {})
            for gone in set(cache) - set(entries):
                del cache[gone]
            out = []
            for target, samples in entries.items():
                kept = cache.get(target)
                if kept is None or kept[0] is not samples:
                    new_headers, blocks = render_blocks(samples, fmt)
                    headers.update(new_headers)
                    self.renders += 1
                    kept = cache[target] = (samples, blocks)
                out.append(kept[1])
            return out

    def compose(
        self, targets: Sequence[Blocks], extra: Sequence[Sample], fmt: Format
    ) -> Iterator[bytes]:
        """The body, one metric family at a time (headers once, then every target's lines)."""
        extra_headers, extra_blocks = render_blocks(extra, fmt) if extra else ({}, {})
        headers = {**self._headers.get(fmt.name, {}), **extra_headers}
        names = {name for blocks in targets for name in blocks} | set(extra_blocks)
        for name in sorted(names, key=_order):
            parts = [headers.get(name, b""), extra_blocks.get(name, b"")]
            parts += [blocks[name] for blocks in targets if name in blocks]
            yield b"".join(parts)
        if fmt.trailer:
            yield fmt.trailer
