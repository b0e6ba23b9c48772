"""The daemon's HTTP side: /metrics, health, reload, reports. Scrapes read memory only.

Every endpoint goes through the same middleware (`sobriety.daemon.webaccess`): the web
config's headers, rate limit, client certificate names and basic auth; `POST /-/reload`
also needs `--web.enable-lifecycle` and refuses what a web page could send cross-origin.
Connections are watched by a `ConnectionGuard` (header-read and idle timeouts, a cap).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web

from sobriety import __version__
from sobriety.daemon.webaccess import Access, access_middleware
from sobriety.daemon.webconfig import WebConfig, apply_tls, tls_context
from sobriety.daemon.webguard import ConnectionGuard, GuardedSite, Limits
from sobriety.exposition import Renderable, ScrapeCache, negotiate
from sobriety.model import Sample
from sobriety.reports.eol import EolReport, eol_table
from sobriety.reports.eolpage import filtered, parse_lang, render_page
from sobriety.reports.radio import RadioReport
from sobriety.reports.radiopage import render_radio_page
from sobriety.reports.writers import csv_text, ods_bytes

log = logging.getLogger(__name__)


class Served(Protocol):
    """What the HTTP side needs of the daemon."""

    @property
    def ready(self) -> bool:
        """Whether a configuration is running."""

    def entries(self) -> Mapping[str, Renderable]:
        """Every polled target's latest poll, as the snapshot keeps it."""

    def daemon_samples(self) -> list[Sample]:
        """What a scrape shows that is no target's: site totals, alerts, self cost. Called
        from a worker thread: it reads shared state through copies."""

    def targets(self) -> list[str]:
        """The polled targets' ids."""

    def eol_report(self) -> EolReport:
        """The end-of-life list."""

    def radio_report(self) -> RadioReport:
        """The radio transmitters, their EIRP, field bound and hours on this month."""


class WebServer:
    """aiohttp server bound to the configured listen address."""

    def __init__(
        self,
        daemon: Served,
        reload: Callable[[], Awaitable[list[str]]],
        host: str,
        port: int,
        *,
        web_config: WebConfig | None = None,
        lifecycle: bool = False,
        limits: Limits | None = None,
    ) -> None:
        """`reload` re-reads the configuration and returns its problems (none: reloaded);
        it is reachable over HTTP only with `lifecycle` (`--web.enable-lifecycle`)."""
        self.daemon = daemon
        self._reload = reload
        self.host = host
        self.port = port
        self.web_config = web_config or WebConfig()
        self.guard = ConnectionGuard(limits or Limits())
        self.access = Access(self.web_config, self.guard, lifecycle=lifecycle)
        self.cache = ScrapeCache()
        self.app = web.Application(middlewares=[access_middleware(self.access)])
        self.app.router.add_get("/", self.index)
        self.app.router.add_get("/metrics", self.metrics)
        self.app.router.add_get("/-/healthy", self.healthy)
        self.app.router.add_get("/-/ready", self.ready)
        self.app.router.add_post("/-/reload", self.reload)
        self.app.router.add_put("/-/reload", self.reload)  # Prometheus takes both
        self.app.router.add_get("/reports/end-of-life", self.eol_page)
        self.app.router.add_get("/reports/end-of-life.csv", self.eol_csv)
        self.app.router.add_get("/reports/end-of-life.ods", self.eol_ods)
        self.app.router.add_get("/reports/radio", self.radio_page)
        self._runner: web.AppRunner | None = None
        self._context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        """Where to reach it (this machine's name when listening on every interface)."""
        host = f"[{self.host}]" if ":" in self.host else self.host or socket.gethostname()
        scheme = "https" if self.web_config.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Listen; OSError (address in use, permission) if the address cannot be bound."""
        context = self._context = tls_context(self.web_config)
        limits = self.guard.limits
        self._runner = web.AppRunner(
            self.app, access_log=None, keepalive_timeout=limits.idle_timeout
        )
        await self._runner.setup()
        site = GuardedSite(self._runner, self.host, self.port, self.guard, context)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = site.port
        self._warn_if_exposed()

    def use_web_config(self, config: WebConfig) -> None:
        """A reloaded (already checked) web config: auth, headers and rate limit at once,
        TLS settings and renewed certificates for the next handshakes."""
        if config.tls != self.web_config.tls:
            log.warning("TLS cannot be switched on or off by a reload: restart the daemon")
            return
        if self._context is not None and config.tls_server_config is not None:
            apply_tls(self._context, config.tls_server_config)
        self.web_config = config
        self.access.use(config)
        self._warn_if_exposed()

    def _warn_if_exposed(self) -> None:
        if is_loopback(self.host) or self.web_config.auth:
            return
        log.warning(
            "listening on %s beyond loopback with no authentication: anyone who reaches the "
            "port reads the metrics and the end-of-life list (set basic_auth_users in a "
            "--web.config.file)",
            self.url,
        )

    def _unpolled_samples(self) -> list[Sample]:
        return [*self.daemon.daemon_samples(), *self.http_samples()]

    def http_samples(self) -> list[Sample]:
        """What the HTTP side counts: requests by handler and code, connections cut."""
        return self.access.samples()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        """The scrape, streamed. It is put together in a worker thread (targets polled since
        the last scrape rendered, the rest from the cache), so the event loop keeps polling
        meanwhile; gzip when the scraper accepts it, as Prometheus does."""
        fmt = negotiate(request.headers.get("Accept"))
        chunks = await asyncio.get_running_loop().run_in_executor(
            None, self.cache.body, self.daemon.entries(), self._unpolled_samples, fmt
        )
        response = web.StreamResponse(headers={"Content-Type": fmt.content_type})
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response.enable_compression(web.ContentCoding.gzip)
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def healthy(self, _: web.Request) -> web.Response:
        return web.Response(text="OK\n")

    async def ready(self, _: web.Request) -> web.Response:
        if not self.daemon.ready:
            return web.Response(status=503, text="starting\n")
        return web.Response(text="ready\n")

    async def reload(self, _: web.Request) -> web.Response:
        problems = await self._reload()
        if problems:
            return web.Response(status=400, text="\n".join(problems) + "\n")
        return web.Response(text="reloaded\n")

    async def index(self, _: web.Request) -> web.Response:
        targets = self.daemon.targets()
        items = "".join(f"<li>{html.escape(t)}</li>" for t in sorted(targets))
        page = (
            f"<!doctype html><html><head><title>sobriety</title></head><body>"
            f"<h1>sobriety {html.escape(__version__)}</h1>"
            '<p><a href="/metrics">/metrics</a> · '
            '<a href="/reports/end-of-life">end-of-life list</a> · '
            '<a href="/reports/radio">radio transmitters</a></p>'
            f"<h2>Targets</h2><ul>{items}</ul>"
            "</body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def eol_page(self, request: web.Request) -> web.Response:
        page = render_page(self.daemon.eol_report(), dict(request.query))
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def radio_page(self, request: web.Request) -> web.Response:
        page = render_radio_page(self.daemon.radio_report(), dict(request.query))
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def eol_csv(self, request: web.Request) -> web.Response:
        """The page's rows (same filters, same language) as CSV; `sep=,` for a comma."""
        query = dict(request.query)
        lang = parse_lang(query)
        sep = query.get("sep") if query.get("sep") in (";", ",") else None
        table = eol_table(filtered(self.daemon.eol_report(), query), lang)
        return web.Response(
            body=csv_text(table, lang, sep).encode("utf-8"),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="end-of-life.csv"'},
        )

    async def eol_ods(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        lang = parse_lang(query)
        table = eol_table(filtered(self.daemon.eol_report(), query), lang)
        return web.Response(
            body=ods_bytes(table, lang),
            content_type="application/vnd.oasis.opendocument.spreadsheet",
            headers={"Content-Disposition": 'attachment; filename="end-of-life.ods"'},
        )


def is_loopback(host: str) -> bool:
    """Whether a listen host only reaches this machine (`localhost` counts; `""` does not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
