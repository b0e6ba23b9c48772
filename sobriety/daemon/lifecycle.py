"""Start, reload and stop a daemon; `run_daemon` adds the HTTP server and the signals.

The scheduler holds two kinds of jobs: one poll job per target (`PollScheduler` owns them
and a reload replaces exactly those) and the daemon's own jobs added here at start (alert
evaluation of site and daemon series, re-sending firing alerts), which a reload leaves alone.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from sobriety.daemon.app import Daemon
from sobriety.daemon.runtime import build_runtime
from sobriety.errors import ConfigError

log = logging.getLogger(__name__)

EVALUATE_JOB = "daemon:alerts-evaluate"
RESEND_JOB = "daemon:alerts-resend"


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
        log.info("polling %d targets", len(daemon.runtime.collectors))

    async def reload(self) -> list[str]:
        """Re-read the config; on any error keep the running one and return the problems."""
        daemon = self.daemon
        try:
            runtime = build_runtime(daemon.config_path, daemon.world)
        except ConfigError as exc:
            daemon.reload_ok = False
            log.error("reload failed, keeping the running configuration:\n%s", exc)
            return [str(p) for p in exc.problems]
        old = daemon.runtime
        daemon.use(runtime)
        log.info("reloaded: polling %d targets", len(runtime.collectors))
        for collector in old.collectors.values():
            await collector.close()
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


async def run_daemon(daemon: Daemon, on_ready: Callable[[str], None] | None = None) -> None:
    """Start, serve HTTP, reload on SIGHUP, stop on SIGTERM/SIGINT."""
    from sobriety.daemon.web import WebServer

    lifecycle = Lifecycle(daemon)
    await lifecycle.start()
    settings = daemon.runtime.config.settings
    web = WebServer(daemon, lifecycle.reload, settings.listen_host, settings.listen_port)
    try:
        await web.start()
        if on_ready is not None:
            on_ready(web.url)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(lifecycle.reload()))
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
    finally:
        await web.stop()
        await lifecycle.stop()
