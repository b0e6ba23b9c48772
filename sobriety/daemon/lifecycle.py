"""Start, reload and stop a daemon; `run_daemon` adds the HTTP server and the signals.

The scheduler holds two kinds of jobs: one poll job per target (`PollScheduler` owns them
and a reload replaces exactly those) and the daemon's own jobs added here at start (alert
evaluation of site and daemon series, re-sending firing alerts), which a reload leaves alone.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sobriety.config.types import split_listen
from sobriety.daemon.app import Daemon
from sobriety.daemon.runtime import build_runtime
from sobriety.daemon.webguard import Limits
from sobriety.daemon.webusers import mapping_warnings
from sobriety.errors import ConfigError, SobrietyError

log = logging.getLogger(__name__)

EVALUATE_JOB = "daemon:alerts-evaluate"
RESEND_JOB = "daemon:alerts-resend"


class _CancelledIsNotAnError(logging.Filter):
    """APScheduler logs a job cancelled at stop as "raised an exception" with a traceback;
    dropping polls in flight at stop is by design, so those records are not errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


logging.getLogger("apscheduler.executors.default").addFilter(_CancelledIsNotAnError())


# Objects allocated, less freed, before the cyclic collector's youngest pass (CPython's
# default is 700). A poll makes thousands of short-lived objects and frees nearly all of
# them by reference counting (it makes no cyclic garbage: checked with DEBUG_SAVEALL), yet
# at 700 the passes ran 3.4 times a second at 1,000 devices and, through the older
# generations' passes they trigger, took 5.6 % of the daemon's CPU (docs/performance.md).
GC_YOUNG_THRESHOLD = 10_000


def _tune_collector() -> None:
    """Fewer cyclic-collector passes: the youngest generation collected every
    `GC_YOUNG_THRESHOLD` allocations; the older ones keep their default ratios."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def _freeze_long_lived() -> None:
    """Move what lives as long as the configuration (profiles, the enterprise registry,
    classes, rules, targets) out of the cyclic collector's way, so that its full passes
    do not scan it again and again. Unfrozen first: a replaced configuration's objects
    become collectable again."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Lifecycle:
    """Starts, reloads and stops one `Daemon`."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon

    async def start(self) -> None:
        """Schedule the polls and the daemon's own jobs; start the notifiers."""
        daemon = self.daemon
        daemon.dispatcher.start()
        daemon.use(daemon.runtime)
        alerting = daemon.runtime.config.settings.alerting
        for job_id, job, seconds in (
            (EVALUATE_JOB, daemon.evaluate_global, alerting.evaluate_every),
            (RESEND_JOB, daemon.resend, alerting.resend),
        ):
            daemon.scheduler.add_job(
                job, "interval", seconds=seconds, id=job_id, max_instances=1, coalesce=True
            )
        daemon.scheduler.start()
        _tune_collector()
        _freeze_long_lived()
        log.info("polling %d targets", len(daemon.runtime.collectors))

    async def reload(self) -> list[str]:
        """Re-read the config; on any error keep the running one and return the problems."""
        daemon = self.daemon
        try:
            runtime = build_runtime(daemon.config_path, daemon.world, previous=daemon.runtime)
        except ConfigError as exc:
            daemon.reload_ok = False
            log.error("reload failed, keeping the running configuration:\n%s", exc)
            return [str(p) for p in exc.problems]
        old = daemon.runtime
        daemon.use(runtime)
        log.info("reloaded: polling %d targets", len(runtime.collectors))
        for target, collector in old.collectors.items():
            if runtime.collectors.get(target) is not collector:  # not kept by the new one
                await collector.close()
        del old
        _freeze_long_lived()
        return []

    async def stop(self) -> None:
        """Stop polling, write what is pending, release transports."""
        daemon = self.daemon
        if daemon.scheduler.running:
            daemon.scheduler.shutdown(wait=False)
        daemon.poller.closed = True  # polls still in flight are dropped, not written
        await daemon.dispatcher.stop()
        for collector in daemon.runtime.collectors.values():
            await collector.close()
        daemon.store.close()
        close_factory = getattr(daemon.world.transport_factory, "close", None)
        if callable(close_factory):
            close_factory()
        log.info("stopped")


@dataclass(frozen=True)
class WebOptions:
    """The exporter-style flags of the HTTP side (`sobriety run --web.*`)."""

    listen: str | None = None  # --web.listen-address; None: the config's settings.listen
    config_file: Path | None = None  # --web.config.file (exporter-toolkit format)
    lifecycle: bool = False  # --web.enable-lifecycle: POST /-/reload allowed
    limits: Limits = field(default_factory=Limits)


def listen_address(listen: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT`, or `:PORT` for every interface (the exporters' form);
    ValueError otherwise."""
    if listen.startswith(":") and listen[1:].isdigit() and int(listen[1:]) <= 65535:
        return "", int(listen[1:])
    return split_listen(listen)


class ListenError(SobrietyError, OSError):
    """The HTTP address could not be bound (in use, not ours, no permission)."""


async def run_daemon(
    daemon: Daemon,
    on_ready: Callable[[str], None] | None = None,
    options: WebOptions | None = None,
) -> None:
    """Listen, start, reload on SIGHUP (and `POST /-/reload` with the lifecycle flag), stop
    on SIGTERM/SIGINT. ConfigError for a bad web config and ListenError for an address that
    cannot be bound, both before anything is polled."""
    from sobriety.daemon.web import WebServer
    from sobriety.daemon.webconfig import load_web_config

    options = options or WebOptions()
    web_config = load_web_config(options.config_file)
    lifecycle = Lifecycle(daemon)
    listen = options.listen or daemon.runtime.config.settings.listen
    host, port = listen_address(listen)

    def warn() -> None:
        logins = set(web.web_config.basic_auth_users)
        for warning in mapping_warnings(daemon.users(), logins):
            log.warning("%s", warning)

    async def reload() -> list[str]:
        problems = await lifecycle.reload()
        try:
            web.use_web_config(load_web_config(options.config_file))
        except ConfigError as exc:
            log.error("web config not reloaded, keeping the running one:\n%s", exc)
            problems += [str(p) for p in exc.problems]
        warn()
        return problems

    web = WebServer(daemon, reload, host, port, web_config=web_config,
                    lifecycle=options.lifecycle, limits=options.limits)  # fmt: skip
    try:
        await web.start()
    except OSError as exc:
        why = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise ListenError(f"cannot listen on {listen}: {why}") from None
    warn()
    try:
        await lifecycle.start()
        if on_ready is not None:
            on_ready(web.url)
        await _serve_until_stopped(reload)
    finally:
        await web.stop()
        await lifecycle.stop()


async def _serve_until_stopped(reload: Callable[[], object]) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))  # type: ignore[arg-type]
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
