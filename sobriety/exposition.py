"""Prometheus exposition: the only module that imports prometheus_client.

`SnapshotCollector` turns the samples of the live snapshot (and the daemon's own cost, read
at scrape time from the injected probe) into metric families declared in the catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
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
