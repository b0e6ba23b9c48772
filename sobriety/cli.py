"""The `sobriety` command: run | check-config | poll-once | demo | export | profiles."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sobriety import __version__
from sobriety.errors import ConfigError, ConfigProblem

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

    assets = sub.add_parser(
        "install-assets", help="write the shipped dashboards, Prometheus rules and systemd files"
    )
    assets.add_argument("dir", type=Path, help="written to DIR/dashboards, DIR/rules, DIR/systemd")
    for parser_ in [parser, *_every_subparser(parser)]:
        _add_logging_flags(parser_)
    return parser


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
    print(f"{path}: valid ({len(config.targets)} targets, {len(config.sites)} sites)")
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
