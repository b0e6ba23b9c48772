"""Benchmark: the whole sobriety daemon against Prometheus' snmp_exporter, side by side.

N devices per side are served on loopback by bench/responder.py (answers from the bundled
recordings; its CPU is not counted): 127.1.x.y for sobriety, 127.2.x.y for snmp_exporter.

- sobriety: `sobriety run` polls every device every 60 s with energy, lifetime and alerts on
  (the shipped rules), and a Prometheus of its own scrapes its /metrics every 60 s;
- snmp_exporter (Debian's prometheus-snmp-exporter) is given one module per recording that
  GETs and walks exactly what sobriety reads in a steady poll (taken from sobriety's own
  requests on that recording), with a metric for every value; another Prometheus scrapes it
  for every device every 60 s, which is what makes it poll.

After a warm-up (first polls, identity reads), CPU seconds of each process are read from
/proc over a measuring window; requests are counted at the responders; RSS at the end.
Repetitions start fresh processes, in alternating order; the table gives their medians.

Run: `.venv/bin/python bench/whole_daemon.py --devices 1000 --repeat 3`
(needs curl, prometheus and prometheus-snmp-exporter from Debian; about 8 minutes a
repetition with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from responder import address  # noqa: E402

import sobriety.collectors.snmp as snmp_collector  # noqa: E402
from sobriety.clock import ManualClock  # noqa: E402
from sobriety.collectors.base import TargetRef  # noqa: E402
from sobriety.collectors.profiles import builtin_profile_dir, load_profiles  # noqa: E402
from sobriety.collectors.snmp import SnmpCollector  # noqa: E402
from sobriety.demo.fleet import DEMO_FLEET  # noqa: E402
from sobriety.snmp.snmprec import RecordedTransport, Recording, load_snmprec  # noqa: E402
from sobriety.snmp.transport import walk_columns  # noqa: E402
from sobriety.snmp.types import BYTES_TAGS, Oid, Tag, format_oid  # noqa: E402

PORT = 16100
TICK = os.sysconf("SC_CLK_TCK")


# --- what a steady sobriety poll reads, per recording ----------------------------------------


@dataclass
class Reads:
    """The OIDs a steady poll GETs and the columns it walks."""

    gets: list[Oid]
    walks: list[Oid]


def steady_reads(recording: Recording) -> Reads:
    """Poll the recording twice through the real collector; note the second poll's reads."""
    reads = Reads([], [])
    clock = ManualClock()
    transport = RecordedTransport(recording)
    collector = SnmpCollector(TargetRef("t", "snmp"), transport,
                              load_profiles([builtin_profile_dir()]), clock)  # fmt: skip
    asyncio.run(collector.collect())
    clock.advance(60)
    original = snmp_collector.walk_columns

    async def noting(transport_: object, roots: list[Oid], **kwargs: object) -> object:
        reads.walks.extend(roots)
        return await walk_columns(transport_, roots, **kwargs)  # type: ignore[arg-type]

    snmp_collector.walk_columns = noting  # type: ignore[assignment]
    transport.log.clear()
    try:
        asyncio.run(collector.collect())
    finally:
        snmp_collector.walk_columns = original
    reads.gets = [oid for entry in transport.log if entry.kind == "get" for oid in entry.oids]
    return reads


def _metric(name: str, oid: Oid, recording: Recording, instance: bool) -> dict[str, object]:
    """An snmp_exporter metric for one column (or scalar), typed from the recorded values."""
    depth = len(oid)
    rows = [i for i, o in enumerate(recording.oids) if o[:depth] == oid and len(o) > depth]
    tags = {recording.tags[i] for i in rows}
    kind = "DisplayString" if tags & BYTES_TAGS else "gauge"
    if Tag.OBJECT_IDENTIFIER in tags:
        kind = "OctetString"
    metric: dict[str, object] = {"name": name, "oid": format_oid(oid), "type": kind,
                                 "help": f"{format_oid(oid)} as sobriety reads it"}  # fmt: skip
    lengths = {len(recording.oids[i]) - depth for i in rows}
    if not instance and len(lengths) == 1:
        metric["indexes"] = [{"labelname": f"i{k}", "type": "gauge"} for k in range(lengths.pop())]
    return metric


def exporter_module(recording: Recording, reads: Reads) -> dict[str, object]:
    """An snmp_exporter module with the same reads as a steady sobriety poll."""
    metrics = []
    seen: set[Oid] = set()
    for oid in reads.walks:
        if oid not in seen:
            seen.add(oid)
            metrics.append(_metric(f"c_{'_'.join(map(str, oid))}", oid, recording, False))
    for oid in reads.gets:
        column = oid[:-1]
        if column not in seen:
            seen.add(column)
            metrics.append(_metric(f"s_{'_'.join(map(str, column))}", column, recording, True))
    module: dict[str, object] = {
        "walk": [format_oid(o) for o in dict.fromkeys(reads.walks)],
        "get": [format_oid(o) for o in dict.fromkeys(reads.gets)],
        "version": 2, "max_repetitions": 25, "retries": 1, "timeout": "2s",
        "auth": {"community": "public"}, "metrics": metrics,
    }  # fmt: skip
    return module


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and of its finished children), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Side:
    """One poller, its responder and its Prometheus."""

    def __init__(self, name: str, work: Path) -> None:
        self.name, self.work = name, work
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.counts = work / f"{name}-counts.json"

    def start(self, role: str, args: list[str], ready: str | None = None) -> None:
        log = (self.work / f"{self.name}-{role}.log").open("ab")
        self.procs[role] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        if ready is not None:
            deadline = time.monotonic() + 120
            path = self.work / f"{self.name}-{role}.log"
            while ready not in path.read_text(errors="replace"):
                if self.procs[role].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} {role} did not start: {path.read_text()}")
                time.sleep(0.5)

    def requests(self) -> int:
        responder = self.procs["responder"]
        self.counts.unlink(missing_ok=True)
        responder.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not self.counts.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
        counts = json.loads(self.counts.read_text())
        return sum(sum(counts[k]) for k in ("get", "getnext", "getbulk"))

    def stop(self) -> None:
        for proc in self.procs.values():  # by the PIDs we hold, never by name
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def prometheus(side: Side, jobs: list[dict[str, object]]) -> None:
    port = free_port()
    config = side.work / f"{side.name}-prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "60s",
                                                 "scrape_timeout": "50s"},
                                      "scrape_configs": jobs}))  # fmt: skip
    side.start("prometheus", [
        shutil.which("prometheus") or "prometheus", f"--config.file={config}",
        f"--storage.tsdb.path={side.work / (side.name + '-tsdb')}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ])  # fmt: skip


def run_once(devices: int, warmup: float, window: float, order: list[str]) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="sobriety-whole-"))
    recordings = [load_snmprec(p) for p in sorted((ROOT / "recordings").glob("*.snmprec*"))]
    names = [p.name.split(".snmprec")[0] for p in sorted((ROOT / "recordings").glob("*.snmprec*"))]
    sides = {"sobriety": Side("sobriety", work), "exporter": Side("exporter", work)}
    bases = {"sobriety": "127.1.0.1", "exporter": "127.2.0.1"}
    try:
        for name in order:
            side = sides[name]
            side.start("responder", [sys.executable, str(HERE / "responder.py"), "--devices",
                                     str(devices), "--base", bases[name], "--port", str(PORT),
                                     "--counts", str(side.counts)], ready="ready")  # fmt: skip
        for name in order:
            (start_sobriety if name == "sobriety" else start_exporter)(
                sides[name], devices, recordings, names, bases[name]
            )
        time.sleep(warmup)
        before = {n: _state(s) for n, s in sides.items()}
        time.sleep(window)
        after = {n: _state(s) for n, s in sides.items()}
        polls = devices * window / 60
        out: dict[str, float] = {}
        for n in sides:
            out[f"{n}_cpu_ms"] = (after[n]["poller"] - before[n]["poller"]) / polls * 1000
            out[f"{n}_prom_cpu_ms"] = (
                (after[n]["prometheus"] - before[n]["prometheus"]) / polls * 1000
            )
            out[f"{n}_packets"] = (after[n]["requests"] - before[n]["requests"]) / polls
            out[f"{n}_rss_mib"] = after[n]["rss"]
        return out
    finally:
        for side in sides.values():
            side.stop()
        shutil.rmtree(work, ignore_errors=True)


def _state(side: Side) -> dict[str, float]:
    poller = side.procs["poller"].pid
    return {"poller": cpu_seconds(poller), "prometheus": cpu_seconds(side.procs["prometheus"].pid),
            "requests": side.requests(), "rss": rss_mib(poller)}  # fmt: skip


def start_sobriety(side: Side, devices: int, recordings: list[Recording], names: list[str],
                   base: str, interval: str = "60s") -> None:  # fmt: skip
    port = free_port()
    targets = [
        {"id": f"dev{i:05d}", "address": address(base, i), "port": PORT, "auth": "v2",
         "site": "bench", "class": DEMO_FLEET.get(names[i % len(names)], ("desktop_pc", ""))[0]}
        for i in range(devices)
    ]  # fmt: skip
    config = side.work / "sobriety.yaml"
    config.write_text(yaml.safe_dump({
        "settings": {"listen": f"127.0.0.1:{port}", "data_dir": str(side.work / "state"),
                     "interval": interval, "timeout": "2s", "retries": 1,
                     "alerting": {"log": False}},
        "sites": {"bench": {"timezone": "Europe/Paris", "country": "FR"}},
        "auths": {"v2": {"version": "2c", "community": "public"}},
        "targets": targets,
    }))  # fmt: skip
    side.start("poller", [sys.executable, "-m", "sobriety", "run", "--config", str(config)],
               ready="serving")  # fmt: skip
    prometheus(side, [{"job_name": "sobriety", "static_configs": [
        {"targets": [f"127.0.0.1:{port}"]}]}])  # fmt: skip


def start_exporter(side: Side, devices: int, recordings: list[Recording], names: list[str],
                   base: str) -> None:  # fmt: skip
    modules = {f"rec_{i}": exporter_module(r, steady_reads(r)) for i, r in enumerate(recordings)}
    config = side.work / "snmp.yml"
    config.write_text(yaml.safe_dump(modules))
    port = free_port()
    side.start("poller", [shutil.which("prometheus-snmp-exporter") or "snmp_exporter",
                          f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
                          "--log.level=warn"])  # fmt: skip
    jobs = []
    for m in range(len(recordings)):
        targets = [f"{address(base, i)}:{PORT}" for i in range(devices) if i % len(recordings) == m]
        if targets:
            jobs.append({
                "job_name": f"snmp_{m}", "metrics_path": "/snmp", "params": {"module": [f"rec_{m}"]},
                "static_configs": [{"targets": targets}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": f"127.0.0.1:{port}"},
                ],
            })  # fmt: skip
    prometheus(side, jobs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=150.0, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=300.0, help="seconds measured")
    args = parser.parse_args()
    for tool in ("curl", "prometheus", "prometheus-snmp-exporter"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed (Debian package of that name)", file=sys.stderr)
            return 1
    runs = []
    for r in range(args.repeat):
        order = ["sobriety", "exporter"] if r % 2 == 0 else ["exporter", "sobriety"]
        runs.append(run_once(args.devices, args.warmup, args.window, order))
        print(json.dumps(runs[-1]), flush=True)
    med = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
    s, e = med["sobriety_cpu_ms"], med["exporter_cpu_ms"]
    sp, ep = s + med["sobriety_prom_cpu_ms"], e + med["exporter_prom_cpu_ms"]
    print(f"\n{args.devices} devices a side, polled every 60 s; medians of {args.repeat} "
          f"repetitions of {args.window:.0f} s after {args.warmup:.0f} s of warm-up\n")  # fmt: skip
    print("| per device poll | sobriety | snmp_exporter | ratio |")
    print("|---|---|---|---|")
    print(f"| poller CPU | {s:.2f} ms | {e:.2f} ms | {s / e:.2f} |")
    print(f"| poller + its Prometheus CPU | {sp:.2f} ms | {ep:.2f} ms | {sp / ep:.2f} |")
    print(f"| request packets | {med['sobriety_packets']:.2f} | {med['exporter_packets']:.2f} | "
          f"{med['sobriety_packets'] / med['exporter_packets']:.2f} |")  # fmt: skip
    print(f"| poller RSS | {med['sobriety_rss_mib']:.0f} MiB | {med['exporter_rss_mib']:.0f} MiB "
          f"| {med['sobriety_rss_mib'] / med['exporter_rss_mib']:.2f} |")  # fmt: skip
    # the machine moves both sides between repetitions: each one's own ratio says more
    ratios = [run["sobriety_cpu_ms"] / run["exporter_cpu_ms"] for run in runs]
    print("\npoller CPU ratio per repetition: " + ", ".join(f"{r:.2f}" for r in ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
