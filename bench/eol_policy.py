"""What the end-of-life advice costs per poll, and what the planner's page costs to render.

The advice runs after every successful poll of every device (facts, then the rules); the page
and its downloads are rendered on request. Both are measured on the demo fleet's recordings
replayed through the shipped profiles (no network), so the samples are what the daemon sees.

    .venv/bin/python bench/eol_policy.py --repeat 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
from sobriety.config.load import SiteConfig, load_config
from sobriety.demo.fleet import DEMO_FLEET, write_demo_config
from sobriety.energy.classes import load_classes
from sobriety.lifetime.facts import FactInputs
from sobriety.lifetime.policy import evaluate, load_policy
from sobriety.pollonce import poll_recording
from sobriety.reports.eol import EolInputs, eol_report, eol_table
from sobriety.reports.eolpage import render_page
from sobriety.reports.i18n import Lang
from sobriety.reports.writers import csv_text, ods_bytes
from sobriety.resources import data_dir
from sobriety.store import LifetimeState


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    profiles = load_profiles([builtin_profile_dir()])
    classes = load_classes()
    policy = load_policy()
    with tempfile.TemporaryDirectory() as folder:
        path = write_demo_config(Path(folder), 161, "127.0.0.1:0", "30s", sorted(DEMO_FLEET))
        config = load_config(path)
    targets = {t.id: t for t in config.targets}
    now = datetime.now(UTC).timestamp()
    inputs = []
    for path in sorted(data_dir("recordings").glob("*.snmprec*")):
        name = path.name.split(".snmprec")[0]
        result = asyncio.run(poll_recording(path, profiles))
        target = targets[name]
        state = LifetimeState(name, 100.0, now, 0, 1e6, None, 0)
        cls = classes.get(target.device_class or "")
        inputs.append(
            FactInputs(target, cls, result.samples, state, now, now - 86_400, SiteConfig())
        )
    start = time.process_time()
    for _ in range(args.repeat):
        for one in inputs:
            evaluate(policy, one)
    per_device = (time.process_time() - start) / (args.repeat * len(inputs))
    print(f"advice (facts + rules): {per_device * 1e6:.0f} µs CPU per device poll "
          f"({len(inputs)} recordings x {args.repeat})")  # fmt: skip
    report = eol_report(EolInputs(config, classes, {}, {}, policy, now))
    lang = Lang("fr")
    for label, work in (
        ("page", lambda: render_page(report, {})),
        ("csv", lambda: csv_text(eol_table(report, lang), lang)),
        ("ods", lambda: ods_bytes(eol_table(report, lang), lang)),
    ):
        times = []
        for _ in range(20):
            t0 = time.process_time()
            work()
            times.append(time.process_time() - t0)
        print(f"{label}: {statistics.median(times) * 1000:.1f} ms CPU for {len(report.rows)} "
              "devices (median of 20)")  # fmt: skip


if __name__ == "__main__":
    main()
