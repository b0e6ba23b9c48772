"""The `sobriety` command: run | check-config | poll-once | demo | export | profiles."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sobriety import __version__
from sobriety.errors import ConfigError, ConfigProblem, StoreError

if TYPE_CHECKING:
    from sobriety.config.load import Config
    from sobriety.reports.eol import EolReport
    from sobriety.reports.exports import Stored
    from sobriety.store import StateStore

log = logging.getLogger("sobriety")
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INVALID = 2
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "logfmt", "json")


def _add_logging_flags(parser: argparse.ArgumentParser) -> None:
    """`--log.level` and `--log.format` (also spelt `--log-level`, `--log-format`), accepted
    before and after the subcommand (SUPPRESS: a flag not given sets nothing)."""
    parser.add_argument(
        "--log.level", "--log-level", dest="log_level", choices=LOG_LEVELS,
        default=argparse.SUPPRESS, help="debug, info (default), warning or error",
    )  # fmt: skip
    parser.add_argument(
        "--log.format", "--log-format", dest="log_format", choices=LOG_FORMATS,
        default=argparse.SUPPRESS, help="text (default), logfmt or json, on stderr",
    )  # fmt: skip


def _every_subparser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *_every_subparser(child)]
    return found


def _add_web_flags(run: argparse.ArgumentParser) -> None:
    """The HTTP flags every Prometheus exporter has (exporter-toolkit, Prometheus)."""
    from sobriety.daemon.webguard import Limits

    defaults = Limits()
    run.add_argument(
        "--web.listen-address", dest="web_listen", type=_listen, metavar="[HOST]:PORT",
        help="where to serve HTTP (default: the config's settings.listen, 127.0.0.1:9471)",
    )  # fmt: skip
    run.add_argument(
        "--web.config.file", dest="web_config", type=Path, metavar="FILE",
        help="TLS, basic auth and headers, in exporter-toolkit's web-config.yml format",
    )  # fmt: skip
    run.add_argument(
        "--web.enable-lifecycle", dest="web_lifecycle", action="store_true",
        help="allow POST /-/reload (authenticated when basic auth is set)",
    )  # fmt: skip
    run.add_argument(
        "--web.read-header-timeout", dest="header_timeout", type=_seconds,
        default=defaults.header_timeout, metavar="DURATION",
        help=f"time to send a request's headers (default {defaults.header_timeout:g}s)",
    )  # fmt: skip
    run.add_argument(
        "--web.idle-timeout", dest="idle_timeout", type=_seconds,
        default=defaults.idle_timeout, metavar="DURATION",
        help=f"idle keep-alive connections close after it (default {defaults.idle_timeout:g}s)",
    )  # fmt: skip
    run.add_argument(
        "--web.max-connections", dest="max_connections", type=int,
        default=defaults.max_connections, metavar="N",
        help=f"open connections at once, more get 503 (default {defaults.max_connections})",
    )  # fmt: skip


def _listen(text: str) -> str:
    from sobriety.daemon.lifecycle import listen_address

    try:
        listen_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _seconds(text: str) -> float:
    from sobriety.config.types import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above zero: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sobriety",
        description="Frugal SNMP daemon: energy and lifetime of public IT fleets.",
    )
    parser.add_argument("--version", action="version", version=f"sobriety {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the daemon: schedule, poll, store, expose")
    run.add_argument("--config", type=Path, required=True, metavar="FILE")
    _add_web_flags(run)

    check = sub.add_parser("check-config", help="validate a configuration, start nothing")
    check.add_argument("--config", type=Path, required=True, metavar="FILE")
    check.add_argument(
        "--web.config.file", dest="web_config", type=Path, metavar="FILE",
        help="also check a web config (TLS files, bcrypt hashes, headers)",
    )  # fmt: skip

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
    demo.add_argument(
        "--listen", "--web.listen-address", dest="listen", default="127.0.0.1:9471",
        type=_listen, metavar="HOST:PORT",
    )  # fmt: skip
    demo.add_argument("--interval", default="30s", help="poll interval (default 30s)")
    demo.add_argument(
        "--timeout", default="2s", help="SNMP timeout per request (default 2s; raise it on a "
        "loaded machine)",
    )  # fmt: skip

    _add_report_commands(sub)

    profiles = sub.add_parser("profiles", help="the device knowledge shipped")
    psub = profiles.add_subparsers(dest="profiles_command", required=True)
    psub.add_parser("list", help="list profiles and how they match")
    show = psub.add_parser("show", help="show one profile as loaded")
    show.add_argument("name")
    pcheck = psub.add_parser("check", help="validate a folder of site profiles")
    pcheck.add_argument("dir", type=Path)

    assets = sub.add_parser(
        "install-assets", help="write the shipped dashboards, Prometheus rules and systemd files"
    )
    assets.add_argument("dir", type=Path, help="written to DIR/dashboards, DIR/rules, DIR/systemd")
    for parser_ in [parser, *_every_subparser(parser)]:
        _add_logging_flags(parser_)
    return parser


def _add_report_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`export` and `disposal`: what recycling planners and operators take away."""
    export = sub.add_parser("export", help="reports from the stored state")
    export.add_argument("what", choices=["energy", "eol", "opendata", "state"])
    export.add_argument("--config", type=Path, required=True, metavar="FILE")
    export.add_argument("--format", choices=["csv", "json", "ods"], help="default csv")
    export.add_argument(
        "--out", type=Path, required=True, metavar="PATH",
        help="a file (opendata: a folder; state: a new SQLite file)",
    )  # fmt: skip
    export.add_argument(
        "--publisher", help="opendata: who publishes it (default: the organisation's publisher)"
    )
    export.add_argument(
        "--organisation", metavar="ID",
        help="one organisation's devices, sites and shares (opendata: its publisher and SIREN)",
    )  # fmt: skip
    export.add_argument(
        "--state", type=Path, action="append", default=[], metavar="FILE",
        help="a central report: read these daemons' snapshots (`export state`), repeatable, "
        "instead of this daemon's state; every configured target is covered",
    )  # fmt: skip
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


def _table_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=["fr", "en"], help="report language (default fr)")
    parser.add_argument(
        "--delimiter", choices=[";", ","], help="CSV only (default ; in French, , in English)"
    )


class LogfmtFormatter(logging.Formatter):
    """`ts=… level=… logger=… msg="…"`, the format of Prometheus' own logs."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(self, record).items())


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg (and exc)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(self, record), ensure_ascii=False)


def _fields(formatter: logging.Formatter, record: logging.LogRecord) -> dict[str, str]:
    at = datetime.fromtimestamp(record.created, UTC)
    fields = {
        "ts": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    if record.exc_info:
        fields["exc"] = formatter.formatException(record.exc_info)
    return fields


def _logfmt_value(value: str) -> str:
    if value and not any(c in value for c in ' ="\\\n\t'):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def setup_logging(level: str, style: str) -> None:
    """The root logger on stderr, at `level`, in `style` (text, logfmt or json)."""
    handler = logging.StreamHandler(sys.stderr)
    if style == "logfmt":
        handler.setFormatter(LogfmtFormatter())
    elif style == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # one INFO line per job is noise; a job's error is reported by the poller itself
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "log_level", "info"), getattr(args, "log_format", "text"))
    try:
        return _dispatch(args)
    except BrokenPipeError:  # `sobriety … | head`: the reader left; say so in one line
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("sobriety: output closed before the end (broken pipe)", file=sys.stderr)
        return EXIT_FAILURE


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "check-config":
        return _check_config(args.config, args.web_config)
    if command == "run":
        return _run(args)
    if command == "poll-once":
        return _poll_once(args)
    if command == "export":
        return _export(args)
    if command == "disposal":
        return _disposal(args)
    if command == "install-assets":
        return _install_assets(args.dir)
    if command == "demo":
        import importlib.util

        from sobriety.daemon.lifecycle import ListenError
        from sobriety.demo.fleet import run_demo
        from sobriety.demo.snmpsim_agent import SimulatorError

        if importlib.util.find_spec("snmpsim") is None:
            print("sobriety demo needs snmpsim: pip install 'sobriety[demo]'", file=sys.stderr)
            return EXIT_FAILURE
        try:
            return run_demo(args.data_dir, args.listen, args.interval, args.timeout)
        except (ListenError, SimulatorError) as exc:
            print(f"sobriety demo: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    return _profiles(args)


def _check_config(path: Path, web_config: Path | None = None) -> int:
    from sobriety.alerts.engine import builtin_rules_path, load_rules
    from sobriety.collectors.profiles import builtin_profile_dir, load_profiles
    from sobriety.config.load import load_config
    from sobriety.daemon.webconfig import load_web_config
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
        checks.append(partial(load_web_config, web_config))
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
    if web_config is not None:
        from sobriety.daemon.webusers import UserMap, mapping_warnings

        logins = set(load_web_config(web_config).basic_auth_users)
        for warning in mapping_warnings(UserMap.of(config), logins):
            print(f"warning: {warning}", file=sys.stderr)
    orgs = f", {len(config.organisations)} organisations" if config.organisations else ""
    print(f"{path}: valid ({len(config.targets)} targets, {len(config.sites)} sites{orgs})")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from sobriety.daemon.app import Daemon
    from sobriety.daemon.lifecycle import ListenError, WebOptions, run_daemon
    from sobriety.daemon.webconfig import load_web_config
    from sobriety.daemon.webguard import Limits

    options = WebOptions(
        listen=args.web_listen,
        config_file=args.web_config,
        lifecycle=args.web_lifecycle,
        limits=Limits(args.header_timeout, args.idle_timeout, args.max_connections),
    )
    try:
        load_web_config(args.web_config)  # its problems before anything is opened
        daemon = Daemon(args.config)
        asyncio.run(run_daemon(daemon, lambda url: log.info("serving %s/metrics", url), options))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except ListenError as exc:
        print(f"sobriety: {exc}", file=sys.stderr)
        return EXIT_FAILURE
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
    if args.what == "state":
        given = [flag for flag, value in (
            ("--format", args.format), ("--lang", args.lang), ("--delimiter", args.delimiter),
            ("--publisher", args.publisher), ("--organisation", args.organisation),
            ("--from", args.first), ("--to", args.last), ("--site", args.site),
            ("--state", args.state or None),
        ) if value is not None]  # fmt: skip
        return (
            f"{given[0]} does not apply to state (a copy of the whole database)" if given else None
        )
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
    refused = _refused(args)
    if refused is not None:
        print(f"export: {refused}", file=sys.stderr)
        return EXIT_INVALID
    loaded = _load_for_report(args.config)
    if isinstance(loaded, int):
        return loaded
    config, store = loaded
    if args.what == "state":
        return _export_state(args, config, store)
    unknown = _unknown_scope(config, args.site, args.organisation)
    missing = [str(p) for p in args.state if not p.is_file()]
    if unknown is not None or missing:
        if store is not None:
            store.close()
        print(f"export: {unknown or 'no snapshot at ' + ', '.join(missing)}", file=sys.stderr)
        return EXIT_INVALID
    if store is None and not args.state:
        database = config.settings.data_dir / "state.sqlite3"
        print(f"export: no state yet at {database} (has the daemon run?)", file=sys.stderr)
        return EXIT_FAILURE
    try:
        stored = _read_stored(args, store)
    except (ValueError, StoreError) as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    for target, day in stored.overlaps[:5]:
        log.warning("%s booked energy on %s in two snapshots (moved, or shards overlap?): "
                    "both are counted", target, day)  # fmt: skip
    try:
        count = _write_export(args, config, stored)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{args.out}: {count} rows", file=sys.stderr)
    return EXIT_OK


def _unknown_scope(config: Config, site: str | None, organisation: str | None) -> str | None:
    if site is not None and site not in config.sites:
        return f"unknown site {site!r}"
    if organisation is not None and organisation not in config.organisations:
        known = ", ".join(sorted(config.organisations)) or "none defined"
        return f"unknown organisation {organisation!r} (known: {known})"
    return None


def _read_stored(args: argparse.Namespace, store: StateStore | None) -> Stored:
    """This daemon's state, or the merged snapshots given with --state."""
    from sobriety.reports.exports import Stored
    from sobriety.store import StateStore

    if not args.state:
        try:
            return Stored.read(store, args.first, args.last, args.site)
        finally:
            if store is not None:
                store.close()
    if store is not None:
        store.close()
    snapshots = [StateStore(path) for path in args.state]
    try:
        return Stored.merge(snapshots, args.first, args.last, args.site)
    finally:
        for snapshot in snapshots:
            snapshot.close()


def _write_export(args: argparse.Namespace, config: Config, stored: Stored) -> int:
    """Write the report asked for; the number of rows written."""
    from sobriety.reports.eol import eol_table
    from sobriety.reports.exports import build_eol_report, scoped
    from sobriety.reports.i18n import Lang
    from sobriety.reports.radio import radio_opendata_rows
    from sobriety.reports.tables import (
        Owners,
        Publisher,
        energy_rows,
        energy_table,
        opendata_rows,
        share_rows,
        write_opendata,
    )  # fmt: skip
    from sobriety.reports.writers import write_table

    fmt, period = args.format or "csv", (args.first, args.last)
    lang = Lang(args.lang or ("en" if fmt == "json" else "fr"))  # JSON: ids and English texts
    orgs = None if args.organisation is None else {args.organisation}
    scope = scoped(config, site=args.site, organisations=orgs, everything=bool(args.state))
    owners = Owners.of(config)
    if args.what == "energy":
        meta: dict[str, object] = {"title": "energy", "site": args.site,
                                   "organisation": args.organisation,
                                   "from": args.first, "to": args.last}  # fmt: skip
        rows = energy_rows(stored.days, owners, args.organisation)
        write_table(args.out, fmt, energy_table(rows, lang, meta), lang, args.delimiter)
        return len(rows)
    if args.what == "eol":
        report = build_eol_report(scope, stored, period)
        table = eol_table(report, lang, machine=fmt == "json")
        if args.organisation is not None:
            table = replace(table, meta={**(table.meta or {}), "organisation": args.organisation})
        write_table(args.out, fmt, table, lang, args.delimiter)
        return len(report.rows)
    at = datetime.now(UTC).timestamp()
    sites = {t.site for t in scope.targets} | {
        sid for sid, site in config.sites.items() if orgs is None or site.organisation in orgs
    }
    days = [d for d in stored.days if d.site in sites]
    lines = opendata_rows(scope.targets, stored.facts, days, at, owners)
    shares = share_rows(energy_rows(stored.days, owners, args.organisation))
    org = config.organisations.get(args.organisation or "")
    publisher = Publisher(
        args.publisher or (org.publisher_name if org else ""), org.siren if org else None
    )
    radio_days = [d for d in stored.radio_days if d.site in sites]
    radios = radio_opendata_rows(scope, stored.radios, radio_days)
    write_opendata(args.out, lines, publisher, period, shares, radios)
    return len(lines)


def _export_state(args: argparse.Namespace, config: Config, store: StateStore | None) -> int:
    """A consistent copy of this daemon's state, for a central report (`--state`)."""
    if store is None:
        database = config.settings.data_dir / "state.sqlite3"
        print(f"export: no state yet at {database} (has the daemon run?)", file=sys.stderr)
        return EXIT_FAILURE
    try:
        store.snapshot(args.out)
        instance = store.instance
    except StoreError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.close()
    print(f"{args.out}: snapshot of daemon {instance} ({config.settings.shard} by "
          f"{config.settings.shard_by})", file=sys.stderr)  # fmt: skip
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


def _install_assets(dest: Path) -> int:
    from sobriety.resources import install_assets

    try:
        written = install_assets(dest)
    except OSError as exc:
        print(f"install-assets: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    for path in written:
        print(path)
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
