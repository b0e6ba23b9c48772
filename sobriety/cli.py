"""The `sobriety` command: run | check-config | poll-once | demo | export | profiles."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sobriety import __version__
from sobriety.errors import ConfigError, ConfigProblem

if TYPE_CHECKING:
    from sobriety.config.load import Config
    from sobriety.reports.eol import EolReport
    from sobriety.store import StateStore

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
    export.add_argument("--format", choices=["csv", "json", "ods"], help="default csv")
    export.add_argument(
        "--out", type=Path, required=True, metavar="PATH", help="a file (opendata: a folder)"
    )
    export.add_argument("--publisher", help="opendata: who publishes it")
    export.add_argument(
        "--from", dest="first", metavar="YYYY-MM-DD", type=_iso_day,
        help="energy figures from this day (every export)",
    )  # fmt: skip
    export.add_argument("--to", dest="last", metavar="YYYY-MM-DD", type=_iso_day,
                        help="energy figures up to this day, included (every export)")  # fmt: skip
    export.add_argument("--site", metavar="ID")
    _table_options(export)

    disposal = sub.add_parser("disposal", help="disposal batches: list, check, hand-over list")
    dsub = disposal.add_subparsers(dest="disposal_command", required=True)
    for name, text in (("list", "the batches and their devices"),
                       ("check", "what to settle before a batch leaves (erasure certificates)"),
                       ("export", "the list an operator or recipient receives")):  # fmt: skip
        cmd = dsub.add_parser(name, help=text)
        cmd.add_argument("--config", type=Path, required=True, metavar="FILE")
        if name != "list":
            cmd.add_argument("--batch", metavar="ID", required=name == "export")
        if name == "export":
            cmd.add_argument("--format", choices=["csv", "ods", "json"], default="ods")
            cmd.add_argument("--out", type=Path, required=True, metavar="PATH")
            _table_options(cmd)

    profiles = sub.add_parser("profiles", help="the device knowledge shipped")
    psub = profiles.add_subparsers(dest="profiles_command", required=True)
    psub.add_parser("list", help="list profiles and how they match")
    show = psub.add_parser("show", help="show one profile as loaded")
    show.add_argument("name")
    pcheck = psub.add_parser("check", help="validate a folder of site profiles")
    pcheck.add_argument("dir", type=Path)
    return parser


def _table_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=["fr", "en"], help="report language (default fr)")
    parser.add_argument(
        "--delimiter", choices=[";", ","], help="CSV only (default ; in French, , in English)"
    )


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
    if command == "disposal":
        return _disposal(args)
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


def _refused(args: argparse.Namespace) -> str | None:
    """An option given to an export it does not apply to."""
    fmt = args.format or "csv"
    if args.what == "opendata":
        for flag, value in (("--format", args.format), ("--lang", args.lang),
                            ("--delimiter", args.delimiter)):  # fmt: skip
            if value is not None:
                return f"{flag} does not apply to opendata (a CSV and its datapackage.json)"
    elif args.publisher is not None:
        return "--publisher applies to opendata only"
    if args.delimiter is not None and fmt != "csv":
        return "--delimiter applies to --format csv only"
    if args.lang is not None and fmt == "json":
        return "--lang does not apply to json (stable keys, ISO dates)"
    return None


def _load_for_report(path: Path) -> tuple[Config, StateStore | None] | int:
    from sobriety.config.load import load_config
    from sobriety.store import StateStore

    try:
        config = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    database = config.settings.data_dir / "state.sqlite3"
    return config, (StateStore(database) if database.exists() else None)


def _export(args: argparse.Namespace) -> int:
    from sobriety.reports.eol import eol_table
    from sobriety.reports.exports import Stored, build_eol_report, only_site
    from sobriety.reports.i18n import Lang
    from sobriety.reports.tables import energy_rows, energy_table, opendata_rows, write_opendata
    from sobriety.reports.writers import write_table

    refused = _refused(args)
    if refused is not None:
        print(f"export: {refused}", file=sys.stderr)
        return EXIT_INVALID
    loaded = _load_for_report(args.config)
    if isinstance(loaded, int):
        return loaded
    config, store = loaded
    if args.site is not None and args.site not in config.sites:
        print(f"export: unknown site {args.site!r}", file=sys.stderr)
        return EXIT_INVALID
    if store is None:
        database = config.settings.data_dir / "state.sqlite3"
        print(f"export: no state yet at {database} (has the daemon run?)", file=sys.stderr)
        return EXIT_FAILURE
    try:
        stored = Stored.read(store, args.first, args.last, args.site)
    finally:
        store.close()
    fmt, period = args.format or "csv", (args.first, args.last)
    lang = Lang(args.lang or ("en" if fmt == "json" else "fr"))  # JSON: ids and English texts
    scoped = only_site(config, args.site)
    try:
        if args.what == "energy":
            meta: dict[str, object] = {"title": "energy", "site": args.site,
                                       "from": args.first, "to": args.last}  # fmt: skip
            rows = energy_rows(stored.days)
            write_table(args.out, fmt, energy_table(rows, lang, meta), lang, args.delimiter)
            count = len(rows)
        elif args.what == "eol":
            report = build_eol_report(scoped, stored, period)
            table = eol_table(report, lang, machine=fmt == "json")
            write_table(args.out, fmt, table, lang, args.delimiter)
            count = len(report.rows)
        else:
            at = datetime.now(UTC).timestamp()
            lines = opendata_rows(scoped.targets, stored.facts, stored.days, at)
            write_opendata(args.out, lines, args.publisher or "", period)
            count = len(lines)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{args.out}: {count} rows", file=sys.stderr)
    return EXIT_OK


def _disposal(args: argparse.Namespace) -> int:
    from sobriety.reports.exports import Stored, build_eol_report

    loaded = _load_for_report(args.config)
    if isinstance(loaded, int):
        return loaded
    config, store = loaded
    batch_id = getattr(args, "batch", None)
    if batch_id is not None and batch_id not in config.disposals:
        known = ", ".join(sorted(config.disposals)) or "none defined"
        print(f"disposal: unknown batch {batch_id!r} (known: {known})", file=sys.stderr)
        return EXIT_INVALID
    if store is None and args.disposal_command == "export":  # it keeps what it issues
        from sobriety.store import StateStore

        store = StateStore(config.settings.data_dir / "state.sqlite3")
    try:
        report = build_eol_report(config, Stored.read(store, None, None, None), (None, None))
        if args.disposal_command == "list":
            return _disposal_list(config, report, store)
        if args.disposal_command == "check":
            return _disposal_check(config, report, batch_id)
        assert store is not None
        return _disposal_export(args, config, report, store)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    finally:
        if store is not None:
            store.close()


def _disposal_list(config: Config, report: EolReport, store: StateStore | None) -> int:
    from sobriety.reports.handover import batch_rows, handover_problems, issued

    if not config.disposals:
        print("no disposal batch in this configuration")
    for batch_id, batch in sorted(config.disposals.items(), key=lambda kv: kv[1].date):
        rows = batch_rows(report, batch_id)
        masses = [m for r in rows if isinstance(m := r.get("mass_kg"), int | float)]
        who = " / ".join(x for x in (batch.operator, batch.recipient) if x)
        print(f"{batch_id}  {batch.date.isoformat()}  {who}  {len(rows)} devices, "
              f"{sum(masses):.1f} kg known ({len(rows) - len(masses)} unknown), "
              f"{len(handover_problems(rows))} erasure certificate(s) missing"
              f"{', tracking ' + batch.tracking if batch.tracking else ''}")  # fmt: skip
        lists = store.handovers(batch_id) if store is not None else []
        if lists:
            last = lists[-1]
            now = issued(report, batch_id, batch, last.issued)
            when = datetime.fromtimestamp(last.issued, UTC).isoformat(timespec="seconds")
            state = (
                "unchanged since" if now.digest == last.digest else "the inventory changed since"
            )
            print(f"    hand-over list issued {when} ({last.devices} devices): {state}")
    return EXIT_OK


def _disposal_check(config: Config, report: EolReport, batch_id: str | None) -> int:
    from sobriety.reports.handover import batch_rows, handover_problems

    problems = 0
    for bid in sorted(config.disposals) if batch_id is None else [batch_id]:
        for problem in handover_problems(batch_rows(report, bid)):
            print(f"{bid}: {problem.target}: {problem.message}", file=sys.stderr)
            problems += 1
    if problems:
        print(f"{problems} problem(s) to settle before hand-over", file=sys.stderr)
        return EXIT_FAILURE
    print("every batch is ready to hand over")
    return EXIT_OK


def _disposal_export(
    args: argparse.Namespace, config: Config, report: EolReport, store: StateStore
) -> int:
    from sobriety.reports.handover import handover_table, issued
    from sobriety.reports.i18n import Lang
    from sobriety.reports.writers import write_table

    if args.delimiter is not None and args.format != "csv":
        print("disposal export: --delimiter applies to --format csv only", file=sys.stderr)
        return EXIT_INVALID
    lang = Lang(args.lang or ("en" if args.format == "json" else "fr"))
    table = handover_table(report, args.batch, config.disposals[args.batch], lang)
    try:
        write_table(args.out, args.format, table, lang, args.delimiter)
    except OSError as exc:
        print(f"disposal export: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    batch = config.disposals[args.batch]
    store.record_handover(issued(report, args.batch, batch, datetime.now(UTC).timestamp()))
    print(f"{args.out}: {len(table.rows)} devices of batch {args.batch} (kept in the state "
          "database as issued)", file=sys.stderr)  # fmt: skip
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
