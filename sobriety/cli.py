"""The `sobriety` command: run | check-config | poll-once | demo | export | profiles."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from sobriety import __version__
from sobriety.errors import ConfigError, ConfigProblem

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sobriety",
        description="Frugal SNMP daemon: energy and lifetime of public IT fleets.",
    )
    parser.add_argument("--version", action="version", version=f"sobriety {__version__}")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the daemon: schedule, poll, store, expose")
    run.add_argument("--config", type=Path, required=True, metavar="FILE")

    check = sub.add_parser("check-config", help="validate a configuration, start nothing")
    check.add_argument("--config", type=Path, required=True, metavar="FILE")

    once = sub.add_parser("poll-once", help="poll one target (or a recording) once and print")
    source = once.add_mutually_exclusive_group(required=True)
    source.add_argument("--replay", type=Path, metavar="REC.snmprec[.bz2]")
    source.add_argument("--config", type=Path, metavar="FILE")
    once.add_argument("--target", metavar="ID", help="with --config: the target to poll")
    once.add_argument("--format", choices=["json", "prom"], default="json")
    once.add_argument(
        "--profile-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="with --replay: a site's own profiles, beside the shipped ones (repeatable)",
    )

    demo = sub.add_parser("demo", help="the embedded demo fleet on loopback")
    demo.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    demo.add_argument("--listen", default="127.0.0.1:9471", metavar="HOST:PORT")
    demo.add_argument("--interval", default="30s", help="poll interval (default 30s)")

    export = sub.add_parser("export", help="reports from the stored state")
    export.add_argument("what", choices=["energy", "eol", "opendata"])
    export.add_argument("--config", type=Path, required=True, metavar="FILE")
    export.add_argument("--format", choices=["csv", "json", "ods"], default="csv")
    export.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help="a file (opendata: a folder)"
    )
    export.add_argument("--publisher", default="", help="opendata: who publishes it")
    export.add_argument("--from", dest="first", metavar="YYYY-MM-DD", type=_iso_day)
    export.add_argument("--to", dest="last", metavar="YYYY-MM-DD", type=_iso_day)
    export.add_argument("--site", metavar="ID")

    profiles = sub.add_parser("profiles", help="the device knowledge shipped")
    psub = profiles.add_subparsers(dest="profiles_command", required=True)
    psub.add_parser("list", help="list profiles and how they match")
    show = psub.add_parser("show", help="show one profile as loaded")
    show.add_argument("name")
    pcheck = psub.add_parser("check", help="validate a folder of site profiles")
    pcheck.add_argument("dir", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one INFO line per job is noise
    command = args.command
    if command == "check-config":
        return _check_config(args.config)
    if command == "run":
        return _run(args.config)
    if command == "poll-once":
        return _poll_once(args)
    if command == "export":
        return _export(args)
    if command == "demo":
        from sobriety.demo.fleet import run_demo

        return run_demo(args.data_dir, args.listen, args.interval)
    return _profiles(args)


def _check_config(path: Path) -> int:
    from sobriety.alerts.engine import builtin_rules_path, load_rules
    from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
    from sobriety.config.load import load_config
    from sobriety.energy.sitecalendar import SiteCalendar
    from sobriety.lifetime.policy import load_policy

    try:
        config = load_config(path)
        problems: list[ConfigProblem] = []
        checks: list[Callable[[], object]] = [
            lambda: load_profiles([builtin_profile_dir(), *config.settings.profile_dirs]),
            lambda: load_policy(config.settings.eol_policy),
            lambda: load_rules(
                [builtin_rules_path()] * config.settings.alerting.shipped_rules
                + list(config.settings.alerting.rule_files)
            ),
        ]
        checks += [partial(SiteCalendar.load, site) for site in config.sites.values()]
        for check in checks:  # every file's problems, all at once
            try:
                check()
            except ConfigError as exc:
                problems += exc.problems
        if problems:
            raise ConfigError(problems)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return EXIT_INVALID
    print(f"{path}: valid ({len(config.targets)} targets, {len(config.sites)} sites)")
    return EXIT_OK


def _run(path: Path) -> int:
    from sobriety.daemon.app import Daemon
    from sobriety.daemon.lifecycle import run_daemon

    try:
        daemon = Daemon(path)
        asyncio.run(run_daemon(daemon, lambda url: logging.info("serving %s/metrics", url)))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _poll_once(args: argparse.Namespace) -> int:
    from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
    from sobriety.exposition import render_text
    from sobriety.pollonce import poll_config_target, poll_recording

    try:
        if args.replay is not None:
            profiles = load_profiles([builtin_profile_dir(), *args.profile_dir])
            result = asyncio.run(poll_recording(args.replay, profiles))
        else:
            if not args.target:
                print("poll-once --config needs --target ID", file=sys.stderr)
                return EXIT_INVALID
            result = asyncio.run(poll_config_target(args.config, args.target))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except (OSError, ValueError) as exc:
        print(f"poll-once: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.format == "json":
        print(json.dumps(result.as_json(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(render_text(result.samples))
    return EXIT_OK if result.up else EXIT_FAILURE


def _iso_day(text: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _export(args: argparse.Namespace) -> int:
    from sobriety.config.load import load_config
    from sobriety.energy.classes import load_classes
    from sobriety.reports.tables import (
        ENERGY_COLUMNS,
        ENERGY_UNITS,
        EOL_COLUMNS,
        energy_rows,
        eol_rows,
        opendata_rows,
        write_opendata,
        write_table,
    )
    from sobriety.store import StateStore

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    if args.site is not None and args.site not in config.sites:
        print(f"export: unknown site {args.site!r}", file=sys.stderr)
        return EXIT_INVALID
    database = config.settings.data_dir / "state.sqlite3"
    if not database.exists():
        print(f"export: no state yet at {database} (has the daemon run?)", file=sys.stderr)
        return EXIT_FAILURE
    store = StateStore(database)
    try:
        if args.what == "energy":
            days = store.energy_days(args.first, args.last, args.site)
            columns, rows = ENERGY_COLUMNS, energy_rows(days)
        else:
            targets = [t for t in config.targets if args.site is None or t.site == args.site]
            energy = [e for e in store.energy_rows() if args.site is None or e.site == args.site]
            facts = store.device_facts()
    finally:
        store.close()
    meta: dict[str, object] = {"title": args.what, "site": args.site}
    try:
        if args.what == "energy":
            meta.update({"from": args.first, "to": args.last, "units": ENERGY_UNITS})
            write_table(args.out, args.format, columns, rows, meta)
        elif args.what == "eol":
            rows = eol_rows(targets, load_classes(), facts, energy)
            write_table(args.out, args.format, EOL_COLUMNS, rows, meta)
        else:
            rows = opendata_rows(targets, facts, energy)
            write_opendata(args.out, rows, args.publisher)
    except OSError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{args.out}: {len(rows)} rows", file=sys.stderr)
    return EXIT_OK


def _profiles(args: argparse.Namespace) -> int:
    import yaml

    from sobriety.collectors.profiles import builtin_profile_dir, load_profiles

    if args.profiles_command == "check":
        try:
            loaded = load_profiles([args.dir])
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return EXIT_INVALID
        print(f"{args.dir}: {len(loaded)} valid profile(s)")
        return EXIT_OK
    profile_set = load_profiles([builtin_profile_dir()])
    if args.profiles_command == "list":
        for profile in profile_set.profiles:
            m = profile.match
            how = ", ".join(
                part
                for part in (
                    "always" if m.always else "",
                    f"sysObjectID {' '.join(m.sysobjectid)}" if m.sysobjectid else "",
                    f"sysDescr /{'|'.join(m.sysdescr)}/" if m.sysdescr else "",
                    f"probe {' '.join(m.probe)}" if m.probe else "",
                )
                if part
            )
            print(f"{profile.name:20} {profile.title}  [{how}]")
        return EXIT_OK
    shown = profile_set.by_name.get(args.name)
    if shown is None:
        print(f"no profile named {args.name!r}", file=sys.stderr)
        return EXIT_FAILURE
    dumped = shown.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    print(yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True), end="")
    return EXIT_OK
