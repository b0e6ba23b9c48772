"""Exposition: catalogue-driven families, text format, and the README table kept in sync."""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sobriety import exposition
from sobriety.daemon.selfcost import SelfCost, self_samples
from sobriety.daemon.snapshot import Entry, LiveSnapshot
from sobriety.daemon.web import WebServer
from sobriety.daemon.webusers import UserMap
from sobriety.exposition import (
    OPEN_METRICS,
    TEXT,
    Format,
    Rendered,
    ScrapeCache,
    _Families,
    families,
    new_registry,
    parse_samples,
    render,
    render_target,
    render_text,
)
from sobriety.gen.metric_docs import with_table
from sobriety.metrics import METRICS
from sobriety.model import Sample
from sobriety.reports.eol import EolReport

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


def device(target: str, polls: float) -> tuple[Sample, ...]:
    return (
        Sample("sobriety_target_up", {"target": target}, 1.0),
        Sample("sobriety_polls_total", {"target": target}, polls),
        Sample("sobriety_device_info", {"target": target, "model": "EX3400"}, 1.0),
    )


@pytest.mark.parametrize("fmt", [TEXT, OPEN_METRICS], ids=["text", "openmetrics"])
def test_a_scrape_renders_only_the_targets_that_changed(fmt: Format) -> None:
    cache = ScrapeCache()
    snapshot = LiveSnapshot()
    snapshot.kept = frozenset({"sw1"})  # a feeder: others read its samples between polls
    for i in range(50):
        snapshot.update(f"sw{i}", device(f"sw{i}", 1.0))
    own = [Sample("sobriety_process_cpu_seconds_total", {}, 2.0)]
    first = b"".join(cache.body(snapshot.entries(), lambda: own, fmt, chunk=100))
    assert cache.renders == 50
    assert snapshot.of("sw2") == () and len(snapshot.of("sw1")) == 3  # rendered: let go
    snapshot.update("sw7", device("sw7", 2.0))  # one poll since
    second = b"".join(cache.body(snapshot.entries(), lambda: own, fmt))
    assert cache.renders == 51
    # the same body a one-shot rendering of everything gives (line order within a family
    # aside), every family once
    devices = [s for i in range(50) for s in device(f"sw{i}", 2.0 if i == 7 else 1.0)]
    whole = fmt.encoder(_Families(families([*own, *devices])))
    assert sorted(second.splitlines()) == sorted(whole.splitlines())
    assert second.count(b"# TYPE") == 4
    assert first != second
    snapshot.retain({f"sw{i}" for i in range(50)} - {"sw3"})  # a reload removed it
    third = b"".join(cache.body(snapshot.entries(), lambda: own, fmt))
    assert b'target="sw3"' not in third and cache.renders == 51


async def test_metrics_are_streamed_and_gzipped_when_asked() -> None:
    class Daemon:
        ready = True

        def __init__(self) -> None:
            self.snapshot = LiveSnapshot()
            for i in range(2000):
                self.snapshot.update(f"sw{i}", device(f"sw{i}", float(i)))

        def entries(self) -> Mapping[str, Entry]:
            return self.snapshot.entries()

        def daemon_samples(self) -> list[Sample]:
            return [Sample("sobriety_process_cpu_seconds_total", {}, 2.0)]

        def targets(self) -> list[str]:
            return []

        def eol_report(self) -> EolReport:
            raise AssertionError("not asked here")

        def users(self) -> UserMap:
            return UserMap()

    async def no_reload() -> list[str]:
        return []

    server = WebServer(Daemon(), no_reload, "127.0.0.1", 0)
    await server.start()
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            async with session.get(
                f"{server.url}/metrics", headers={"Accept-Encoding": "gzip"}
            ) as resp:
                assert resp.headers["Content-Encoding"] == "gzip"
                raw = await resp.read()
            async with session.get(
                f"{server.url}/metrics", headers={"Accept-Encoding": "identity"}
            ) as resp:
                assert "Content-Encoding" not in resp.headers
                plain = await resp.read()
    finally:
        await server.stop()

    def steady(body: bytes) -> list[bytes]:  # the HTTP counters moved by the first request
        return [line for line in body.split(b"\n") if b"sobriety_http_" not in line]

    assert steady(gzip.decompress(raw)) == steady(plain)
    assert len(raw) * 5 < len(plain)
    assert plain.count(b"sobriety_target_up{") == 2000


label_values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(label_values, min_size=1, max_size=4),
    number=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**62), 2**62),
)
def test_sample_lines_are_the_librarys_own(values: list[str], number: float) -> None:
    """Our fast line rendering writes exactly what prometheus_client writes, both formats."""
    samples = [
        Sample("sobriety_device_info", {"target": v, "model": v[::-1], "serial": "x"}, 1.0)
        for v in values
    ] + [
        Sample("sobriety_target_up", {"target": "t"}, float(number)),
        Sample("sobriety_target_up", {}, number),  # no label, and an int as it came
    ]
    for fmt in (TEXT, OPEN_METRICS):
        library = fmt.encoder(_Families(families(samples)))
        snapshot = LiveSnapshot()
        snapshot.update("t", samples)
        ours = b"".join(ScrapeCache().body(snapshot.entries(), list, fmt))
        assert ours == library


def test_a_targets_rendered_lines_give_back_each_metric_block_as_rendered() -> None:
    blocks = {"sobriety_target_up": b'up{target="a"} 1.0\n', "sobriety_device_info": b"x\ny\n"}
    rendered = Rendered(blocks)
    assert rendered.layout.names == tuple(blocks)
    assert [rendered.block(name) for name in blocks] == list(blocks.values())
    assert rendered.body == b"".join(blocks.values())


def test_one_metrics_block_is_found_by_name_and_a_missing_one_is_none() -> None:
    blocks = {"a": b"1\n", "b": b"22\n", "c": b"333\n"}
    rendered = Rendered(blocks)
    assert [rendered.block(name) for name in ("a", "b", "c", "d")] == [*blocks.values(), None]


def test_targets_exposing_the_same_metrics_share_one_layout() -> None:
    first = Rendered({"sobriety_target_up": b"1\n", "sobriety_device_info": b"2\n"})
    second = Rendered({"sobriety_target_up": b"3\n", "sobriety_device_info": b"4\n"})
    assert first.layout is second.layout


def test_the_shared_layouts_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exposition, "_LAYOUTS", {})
    monkeypatch.setattr(exposition, "MAX_SHARED_LAYOUTS", 2)
    for i in range(5):
        Rendered({f"metric_{i}": b"1\n"})
    assert len(exposition._LAYOUTS) == 2
    assert Rendered({"metric_9": b"1\n"}).layout.names == ("metric_9",)  # right, not shared


def test_a_scrape_comes_in_chunks_that_make_the_same_body() -> None:
    samples = [Sample("sobriety_target_up", {"target": f"t{i}"}, 1.0) for i in range(200)]
    snapshot = LiveSnapshot()
    for i in range(0, 200, 10):
        snapshot.update(f"t{i}", samples[i : i + 10])
    whole = b"".join(ScrapeCache().body(snapshot.entries(), list, TEXT))
    small = ScrapeCache().body(snapshot.entries(), list, TEXT, chunk=100)
    assert len(small) > 10 and b"".join(small) == whole
    assert whole.count(b"# TYPE sobriety_target_up") == 1


def test_a_rendering_snapshot_keeps_lines_not_samples_except_for_feeders() -> None:
    samples = [Sample("sobriety_target_up", {"target": t}, 1.0) for t in ("sw1", "pdu1")]
    rendering = LiveSnapshot(render=render_target)
    rendering.kept = frozenset({"pdu1"})  # a feeder: other devices read its samples
    lazy = LiveSnapshot()
    for snapshot in (rendering, lazy):
        snapshot.update("sw1", samples[:1])
        snapshot.update("pdu1", samples[1:])
    entries = rendering.entries()
    assert entries["sw1"].samples is None and entries["sw1"].lines is not None
    assert rendering.of("pdu1") == tuple(samples[1:])
    assert lazy.entries()["sw1"].samples == tuple(samples[:1])
    cache = ScrapeCache()
    assert cache.body(rendering.entries(), list, TEXT) == ScrapeCache().body(
        lazy.entries(), list, TEXT
    )
    assert cache.renders == 0  # the scrape found every entry rendered


def test_samples_read_back_from_the_text_are_the_samples_rendered() -> None:
    samples = [
        Sample("sobriety_target_up", {"target": 'a"b'}, 1.0),
        Sample("sobriety_device_uptime_seconds", {"target": "x"}, 1e7),
    ]
    snapshot = LiveSnapshot(render=render_target)
    snapshot.update("x", samples)
    text = b"".join(ScrapeCache().body(snapshot.entries(), list, TEXT)).decode()
    assert sorted(parse_samples(text), key=lambda s: s.name) == sorted(
        samples, key=lambda s: s.name
    )


def _mixed_fleet() -> list[Rendered]:
    """Targets of two layouts, their families in different orders, plus one with none."""
    targets = []
    for i in range(30):
        up = Sample("sobriety_target_up", {"target": f"t{i}"}, 1.0)
        info = Sample("sobriety_device_info", {"target": f"t{i}", "model": "m" * i}, 1.0)
        uptime = Sample("sobriety_device_uptime_seconds", {"target": f"t{i}"}, float(i))
        targets.append(render_target([uptime, up] if i % 3 else [info, up, uptime]))
    targets.append(render_target([]))
    return targets


def test_a_scrape_written_in_passes_is_the_scrape_written_at_once() -> None:
    """However few bytes a pass may hold, every family comes once, whole, in order."""
    targets = _mixed_fleet()
    own = [Sample("sobriety_target_up", {"target": "sobriety"}, 1.0)]
    whole = b"".join(ScrapeCache.compose(targets, own, TEXT))
    for held in (1, 200, 2_000):
        assert b"".join(ScrapeCache.compose(targets, own, TEXT, chunk=50, held=held)) == whole
    text = whole.decode()
    assert text.count("# TYPE sobriety_target_up") == 1
    assert text.index('up{target="sobriety"}') < text.index('up{target="t0"}')


def test_a_scrape_holds_about_one_pass_of_text_at_a_time() -> None:
    targets = [Rendered({"sobriety_target_up": b"u\n", "sobriety_device_info": b"ii\n"})] * 3
    assert exposition._passes(targets, {}, 15) == [["sobriety_target_up", "sobriety_device_info"]]
    assert len(exposition._passes(targets, {}, 14)) == 2  # a pass never holds more
    assert exposition._passes(targets, {"sobriety_target_up": b"own\n"}, 9) == [
        ["sobriety_target_up"],  # 6 bytes of targets' and 4 of its own: alone, larger than 9
        ["sobriety_device_info"],
    ]


def test_a_targets_text_is_kept_compressed() -> None:
    lines = b"".join(b'sobriety_target_up{target="t%d"} 1.0\n' % i for i in range(100))
    rendered = Rendered({"sobriety_target_up": lines})
    assert len(rendered.packed) < len(lines) / 3
    assert rendered.body == lines and rendered.size == len(lines)
