"""Benchmark: how long a scrape of N devices holds the event loop that also runs the polls.

The real `Daemon` with N targets (default 10,000) answered from the bundled recordings in
memory (as in bench/memory.py), each polled twice; then its real `WebServer` is scraped by
`curl` (another process, so its CPU is not the daemon's) in both formats, gzipped and not,
while a probe task on the event loop sleeps 1 ms at a time and records how late it wakes:
that lateness is what any poll's timeouts and sends would suffer. A first scrape renders every
target; later ones only what was polled since (here: a tenth of the fleet, re-polled between
scrapes, as a 5-minute cadence under a 60 s scrape interval would do... halved).

Run: `.venv/bin/python bench/scrape_lag.py [--targets 10000] [--scrapes 4]`; prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from memory import QuietRecordedTransport, fleet_config  # noqa: E402

from sobriety.clock import ManualClock  # noqa: E402
from sobriety.config.load import AuthConfig, Config, TargetConfig  # noqa: E402
from sobriety.daemon.app import Daemon  # noqa: E402
from sobriety.daemon.runtime import World  # noqa: E402
from sobriety.daemon.web import WebServer  # noqa: E402
from sobriety.snmp.snmprec import load_snmprec  # noqa: E402
from sobriety.snmp.transport import SnmpTransport  # noqa: E402


class LagProbe:
    """Sleeps 1 ms at a time; the worst lateness seen is the loop's worst stall."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - start - 0.001)

    def start(self) -> None:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.worst


async def scrape(url: str, gzip: bool, openmetrics: bool) -> tuple[int, float]:
    """(bytes on the wire, seconds) of one scrape by curl."""
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}"]
    if gzip:
        args += ["-H", "Accept-Encoding: gzip"]
    if openmetrics:
        args += ["-H", "Accept: application/openmetrics-text; version=1.0.0"]
    proc = await asyncio.create_subprocess_exec(*args, f"{url}/metrics",
                                                stdout=subprocess.PIPE)  # fmt: skip
    out, _ = await proc.communicate()
    size, seconds = out.decode().split()
    return int(size), float(seconds)


async def run(targets: int, scrapes: int) -> None:
    recordings = [load_snmprec(p) for p in sorted((HERE.parent / "recordings").glob("*.snmprec*"))]
    by_name = {r.community: r for r in recordings}

    def recorded(target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
        return QuietRecordedTransport(by_name[target.labels["recording"]])

    clock = ManualClock()
    work = Path(tempfile.mkdtemp(prefix="sobriety-lag-"))
    daemon = Daemon(fleet_config(work, targets, list(by_name)),
                    World(clock=clock, env={}, transport_factory=recorded))  # fmt: skip
    daemon.use(daemon.runtime)
    collectors = list(daemon.runtime.collectors.values())
    started = time.perf_counter()
    for _ in range(2):
        await asyncio.gather(*(daemon.poller.poll(c) for c in collectors))
        daemon.store.flush()
        clock.advance(60)
    print(f"{targets} targets polled twice in {time.perf_counter() - started:.0f} s")

    async def no_reload() -> list[str]:
        return []

    server = WebServer(daemon, no_reload, "127.0.0.1", 0)
    await server.start()
    probe = LagProbe()
    print("\n| scrape | format | gzip | bytes | seconds | daemon CPU | worst loop lag |")
    print("|---|---|---|---|---|---|---|")
    try:
        for i in range(scrapes):
            for openmetrics, gzip in ((False, True), (True, True), (False, False)):
                probe.start()
                cpu = time.process_time()
                size, seconds = await scrape(server.url, gzip, openmetrics)
                cpu = time.process_time() - cpu
                worst = await probe.stop()
                fmt = "OpenMetrics" if openmetrics else "text"
                print(f"| {i + 1} | {fmt} | {'yes' if gzip else 'no'} | {size:,} | "
                      f"{seconds:.2f} | {cpu:.2f} s | {worst * 1000:.1f} ms |")  # fmt: skip
            # a tenth of the fleet polled again before the next scrape
            await asyncio.gather(*(daemon.poller.poll(c) for c in collectors[: targets // 10]))
            clock.advance(60)
    finally:
        await server.stop()
        daemon.store.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        print("curl is needed (Debian: apt-get install curl)", file=sys.stderr)
        return 1
    asyncio.run(run(args.targets, args.scrapes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
