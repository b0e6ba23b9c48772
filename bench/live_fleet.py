"""Benchmark: the live daemon on a large fleet, cycle by cycle (issue 15, acceptance 4).

`sobriety run` polls N devices (default 10,000) every `--interval` (default 300 s) served on
loopback by `bench/responder.py` (127.1.x.y, its CPU not counted), with energy, lifetime,
radio and the shipped alert rules on, and a real Prometheus scraping `/metrics` every 60 s.
The daemon's CPU and RSS are read from /proc every 10 s; each poll cycle's share of one core,
CPU per device poll and RSS at its end are printed. The first cycle is every device's first
contact (identification and every table), spread over the interval; the later ones are the
steady state.

Run: `.venv/bin/python bench/live_fleet.py [--devices 10000] [--interval 300] [--cycles 3]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from whole_daemon import PORT, Side, cpu_seconds, rss_mib, start_sobriety  # noqa: E402

BASE = "127.1.0.1"
SAMPLE_EVERY = 10.0  # seconds between two readings of /proc


def start(side: Side, devices: int, interval: int) -> int:
    """The responder, then the daemon (its PID), then its Prometheus."""
    side.start("responder", [sys.executable, str(HERE / "responder.py"), "--devices",
                             str(devices), "--base", BASE, "--port", str(PORT),
                             "--counts", str(side.counts)], ready="ready")  # fmt: skip
    names = [p.name.split(".snmprec")[0] for p in sorted((ROOT / "recordings").glob("*.snmprec*"))]
    start_sobriety(side, devices, [], names, BASE, interval=f"{interval}s")
    return side.procs["poller"].pid


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--interval", type=int, default=300, help="seconds between two polls")
    parser.add_argument("--cycles", type=int, default=3, help="poll cycles measured")
    args = parser.parse_args()
    for tool in ("prometheus",):
        if shutil.which(tool) is None:
            print(f"{tool} is needed (Debian package of that name)", file=sys.stderr)
            return 1
    side = Side("sobriety", Path(tempfile.mkdtemp(prefix="sobriety-fleet-")))
    try:
        pid = start(side, args.devices, args.interval)
        t0 = time.monotonic()
        readings = [(0.0, cpu_seconds(pid), rss_mib(pid))]
        print(json.dumps({"ready_rss_mib": round(readings[0][2], 1)}), flush=True)
        while time.monotonic() - t0 < args.cycles * args.interval + SAMPLE_EVERY:
            time.sleep(SAMPLE_EVERY)
            readings.append((time.monotonic() - t0, cpu_seconds(pid), rss_mib(pid)))
            print(json.dumps({"t": round(readings[-1][0]), "cpu_s": readings[-1][1],
                              "rss_mib": round(readings[-1][2], 1)}), flush=True)  # fmt: skip
    finally:
        side.stop()
        shutil.rmtree(side.work, ignore_errors=True)

    def at(t: float) -> tuple[float, float, float]:
        return min(readings, key=lambda r: abs(r[0] - t))

    print(f"\n{args.devices} devices every {args.interval} s, Prometheus every 60 s\n")
    print("| cycle | CPU, share of one core | per device poll | RSS at its end |")
    print("|---|---|---|---|")
    print(f"| at ready | | | {readings[0][2]:.0f} MiB |")
    for cycle in range(args.cycles):
        (ta, ca, _), (tb, cb, rb) = at(cycle * args.interval), at((cycle + 1) * args.interval)
        share = (cb - ca) / (tb - ta)
        per_poll = (cb - ca) / (args.devices * (tb - ta) / args.interval) * 1000
        what = "first contacts" if cycle == 0 else "steady"
        print(f"| {cycle + 1} ({what}) | {share:.1%} | {per_poll:.2f} ms | {rb:.0f} MiB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
