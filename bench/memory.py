"""Benchmark: the daemon's memory per thousand devices, and its CPU per device poll.

N targets (default 1,000) cycle through the 15 bundled recordings. Each gets what the daemon
builds for a target (an `SnmpCollector` with its per-target state, the lean engine's
`LeanTransport` on one shared `SnmpClient`), inside the real `Daemon` (its poller, snapshot,
SQLite store in a temporary folder, energy accounting, lifetime tracking with the end-of-life
policy, and the alert engine with the shipped rules); every target is polled twice: once
with identification and identity tables, once in steady state, a batch of 20 at a time (the
daemon's schedule starts first contacts at 20 a second and spreads steady polls over the
interval, so it never has every target's poll in flight at once). The answers come from the recordings in memory
(the agents' side, loaded before measuring and shared), so the figure is the daemon's own:
no sockets, no agent throughput limit, repeatable.

Reported: Python heap held after the polls (tracemalloc, in its own process), growth of the
process RSS (in a process without tracemalloc, which would inflate it), samples
kept in the snapshot, size of one /metrics rendering, and CPU per device poll of everything
above the wire (planning, profile evaluation, snapshot, store), by poll kind.

Run: `.venv/bin/python bench/memory.py [--targets 1000]`; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sobriety.clock import ManualClock  # noqa: E402
from sobriety.collectors.base import Collector  # noqa: E402
from sobriety.config.load import AuthConfig, Config, TargetConfig  # noqa: E402
from sobriety.daemon.app import Daemon  # noqa: E402
from sobriety.daemon.polling import FIRST_CONTACTS_PER_SECOND  # noqa: E402
from sobriety.daemon.runtime import World  # noqa: E402
from sobriety.exposition import TEXT, ScrapeCache  # noqa: E402
from sobriety.snmp.credentials import Credentials  # noqa: E402
from sobriety.snmp.lean import LeanTransport, SnmpClient  # noqa: E402
from sobriety.snmp.snmprec import RecordedTransport, Recording, load_snmprec  # noqa: E402
from sobriety.snmp.transport import SnmpTransport  # noqa: E402
from sobriety.snmp.types import Oid, VarBind  # noqa: E402

BATCH = int(FIRST_CONTACTS_PER_SECOND)  # polls in flight together


class QuietRecordedTransport(RecordedTransport):
    """The recorded agent without its request log (a test aid, not daemon memory)."""

    def _answer(
        self, kind: str, oids: Sequence[Oid], answer: list[VarBind], max_rep: int = 0
    ) -> list[VarBind]:
        result = super()._answer(kind, oids, answer, max_rep)
        self.log.clear()
        return result


def fleet_config(work: Path, targets: int, communities: list[str]) -> Path:
    """A configuration file of `targets` devices over 20 sites, classes as in the demo."""
    import yaml

    from sobriety.demo.fleet import DEMO_FLEET

    entries = []
    for i in range(targets):
        name = communities[i % len(communities)]
        cls = DEMO_FLEET.get(name, ("desktop_pc", ""))[0]
        entries.append({"id": f"dev{i:05d}", "address": "127.0.0.1", "auth": "v2",
                        "site": f"site{i % 20}", "class": cls,
                        "labels": {"recording": name}})  # fmt: skip
    raw = {
        "settings": {"data_dir": str(work), "interval": "60s"},
        "sites": {f"site{i}": {"timezone": "Europe/Paris", "country": "FR",
                               "opening_hours": {"mon": ["08:00-17:00"]}} for i in range(20)},
        "auths": {"v2": {"version": "2c", "community": "public"}},
        "targets": entries,
    }  # fmt: skip
    path = work / "fleet.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def run(targets: int, trace: bool) -> dict[str, float]:
    """One measurement; `trace` follows the Python heap (tracemalloc inflates RSS and CPU)."""
    recordings: list[Recording] = [
        load_snmprec(p) for p in sorted((HERE.parent / "recordings").glob("*.snmprec*"))
    ]
    clock = ManualClock()
    work = Path(tempfile.mkdtemp(prefix="sobriety-mem-"))
    gc.collect()
    rss0 = rss_kib()
    if trace:
        tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()

    by_name = {r.community: r for r in recordings}

    def recorded(target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
        return QuietRecordedTransport(by_name[target.labels["recording"]])

    config = fleet_config(work, targets, list(by_name))
    daemon = Daemon(config, World(clock=clock, env={}, transport_factory=recorded))
    daemon.use(daemon.runtime)  # what starting does, without a scheduler running
    collectors = list(daemon.runtime.collectors.values())
    client = SnmpClient()
    lean = [  # what the daemon would hold per target on the wire side
        LeanTransport(client, "127.0.0.1", 161,
                      credentials=Credentials(community=collectors[i].target.labels["recording"]))
        for i in range(targets)
    ]  # fmt: skip
    poller, store = daemon.poller, daemon.store

    async def poll(collector: Collector) -> None:
        await poller.poll(collector)  # its result dropped, as the scheduler drops it

    timings = {}
    for kind in ("first", "steady"):
        cpu = time.process_time()
        # as the daemon's schedule starts them: a few at a time (first contacts at most
        # FIRST_CONTACTS_PER_SECOND a second), not every target at once
        for i in range(0, len(collectors), BATCH):
            await asyncio.gather(*(poll(c) for c in collectors[i : i + BATCH]))
        store.flush()
        timings[kind] = (time.process_time() - cpu) / targets * 1000
        clock.advance(60)
    cpu = time.process_time()
    body = ScrapeCache().body(daemon.entries(), daemon.daemon_samples, TEXT)
    render_ms = (time.process_time() - cpu) * 1000
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    if trace:
        tracemalloc.stop()
    rss1 = rss_kib()
    assert len(lean) == targets  # held to the end, as the daemon holds them
    samples = sum(len(e.samples or ()) for e in daemon.entries().values())
    size = sum(map(len, body))
    return {
        "targets": targets,
        "heap_mib": (held - base) / 2**20,
        "heap_peak_mib": (peak - base) / 2**20,
        "rss_mib": (rss1 - rss0) / 1024,
        "samples": samples,
        "metrics_kib": size / 1024,
        "render_ms": render_ms,
        "cpu_first_ms": timings["first"],
        "cpu_steady_ms": timings["steady"],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trace or args.targets < 0:
        print(json.dumps(asyncio.run(run(abs(args.targets), args.trace))))
        return 0

    def child(*flags: str) -> dict[str, float]:
        cmd = [sys.executable, __file__, *flags]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
        return result

    plain = child("--targets", str(-args.targets))  # RSS and CPU, untraced
    traced = child("--targets", str(args.targets), "--trace")  # the Python heap
    r = {**plain, "heap_mib": traced["heap_mib"], "heap_peak_mib": traced["heap_peak_mib"]}
    per = 1000 / r["targets"]
    print(f"\n{int(r['targets'])} targets over the 15 recordings, each polled twice\n")
    print("| measure | value | per 1,000 devices |")
    print("|---|---|---|")
    print(
        f"| Python heap held after the polls | {r['heap_mib']:.1f} MiB | {r['heap_mib'] * per:.1f} MiB |"
    )
    print(
        f"| Python heap peak during the polls | {r['heap_peak_mib']:.1f} MiB | {r['heap_peak_mib'] * per:.1f} MiB |"
    )
    print(f"| process RSS growth | {r['rss_mib']:.1f} MiB | {r['rss_mib'] * per:.1f} MiB |")
    print(
        f"| sample objects held after a scrape (feeders keep theirs) | {r['samples']:.0f} "
        f"| {r['samples'] * per:.0f} |"
    )
    print(
        f"| first /metrics rendering (every target) | {r['metrics_kib']:.0f} KiB in "
        f"{r['render_ms']:.0f} ms CPU | |"
    )
    print(f"| CPU per device poll, first (identify + identity) | {r['cpu_first_ms']:.2f} ms | |")
    print(f"| CPU per device poll, steady state | {r['cpu_steady_ms']:.2f} ms | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
