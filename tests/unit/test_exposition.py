"""Exposition: catalogue-driven families, text format, and the README table kept in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.daemon.selfcost import SelfCost, self_samples
from sobriety.exposition import new_registry, render, render_text
from sobriety.gen.metric_docs import with_table
from sobriety.metrics import METRICS
from sobriety.model import Sample

ROOT = Path(__file__).resolve().parents[2]


def test_catalogue_names_follow_prometheus_conventions() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    for m in METRICS:
        assert m.name.startswith("sobriety_")
        assert (m.kind == "counter") == m.name.endswith("_total"), m.name
        assert (m.kind == "info") == m.name.endswith("_info"), m.name
        assert len(set(m.labels)) == len(m.labels)


def test_text_exposition_of_counters_gauges_and_info() -> None:
    text = render_text(
        [
            Sample("sobriety_target_up", {"target": "sw1"}, 1.0),
            Sample("sobriety_snmp_requests_total", {"target": "sw1", "type": "get"}, 3.0),
            Sample("sobriety_device_info", {"target": "sw1", "model": "EX3400"}, 1.0),
        ]
    )
    assert "# TYPE sobriety_target_up gauge" in text
    assert 'sobriety_target_up{target="sw1"} 1.0' in text
    assert "# TYPE sobriety_snmp_requests_total counter" in text
    assert 'sobriety_snmp_requests_total{target="sw1",type="get"} 3.0' in text
    assert 'sobriety_device_info{model="EX3400",target="sw1"} 1.0' in text


def test_undeclared_metric_is_refused() -> None:
    with pytest.raises(KeyError, match="undeclared"):
        render_text([Sample("sobriety_made_up", {}, 1.0)])


def test_openmetrics_on_request_and_self_cost_from_probe() -> None:
    registry = new_registry(lambda: self_samples(lambda: SelfCost(1.5, 4096)))
    body, content_type = render(registry, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    text = body.decode()
    assert "sobriety_process_cpu_seconds_total 1.5" in text
    assert "sobriety_process_resident_memory_bytes 4096.0" in text
    assert text.endswith("# EOF\n")


def test_readme_metric_table_is_generated_from_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme == with_table(readme), (
        "README metric table drifted: python -m sobriety.gen.metric_docs"
    )
