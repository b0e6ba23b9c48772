"""Benchmark: CPU per job run of the daemon's scheduler against APScheduler's own.

N interval jobs (one per target, as `PollScheduler` makes them: jitter a tenth of the
interval, coalesce, one instance) run an empty coroutine, so what is measured is the
scheduling alone: APScheduler's `AsyncIOScheduler` (its timer set to each job's own run
time, then a hop through the loop's self-pipe) against `TickingScheduler` (the timer on a
tick grid, due jobs run at one wakeup). Each configuration runs in a fresh process, in
alternating order; CPU is the process's user + system time over the window.

Run: `.venv/bin/python bench/scheduler.py [--jobs 1000] [--interval 10] [--window 20]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402

from sobriety.daemon.ticking import TickingScheduler  # noqa: E402


async def measure(kind: str, jobs: int, interval: float, window: float) -> dict[str, float]:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1

    scheduler = AsyncIOScheduler(timezone="UTC") if kind == "apscheduler" else TickingScheduler()
    now = datetime.now(UTC)
    for i in range(jobs):
        first = now + timedelta(seconds=random.uniform(0, interval))
        scheduler.add_job(job, "interval", seconds=interval, jitter=interval * 0.1,
                          coalesce=True, max_instances=1, misfire_grace_time=int(interval),
                          next_run_time=first, id=f"poll:{i}")  # fmt: skip
    scheduler.start()
    await asyncio.sleep(interval)  # every job has run once: steady state
    cpu, before = time.process_time(), runs
    await asyncio.sleep(window)
    cpu, done = time.process_time() - cpu, runs - before
    scheduler.shutdown(wait=False)
    return {"us_per_run": cpu / done * 1e6, "runs_per_s": done / window}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.jobs, args.interval, args.window))))
        return 0
    results: dict[str, list[float]] = {"apscheduler": [], "ticking": []}
    rate = 0.0
    for r in range(args.repeat):
        for kind in ["apscheduler", "ticking"] if r % 2 == 0 else ["ticking", "apscheduler"]:
            cmd = [sys.executable, __file__, "--child", kind, "--jobs", str(args.jobs),
                   "--interval", str(args.interval), "--window", str(args.window)]  # fmt: skip
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            results[kind].append(out["us_per_run"])
            rate = out["runs_per_s"]
    print(f"\n{args.jobs} jobs every {args.interval:g} s ({rate:.0f} runs a second); "
          f"medians of {args.repeat}\n")  # fmt: skip
    print("| scheduler | CPU per job run | runs |")
    print("|---|---|---|")
    for kind, values in results.items():
        low, high = min(values), max(values)
        print(
            f"| {kind} | {statistics.median(values):.0f} µs ({low:.0f}–{high:.0f}) | {rate:.0f}/s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
