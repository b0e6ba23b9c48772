"""The daemon's HTTP side: /metrics, health, reload, reports. Scrapes read memory only.

Every endpoint goes through the same middleware (`sobriety.daemon.webaccess`): the web
config's headers, rate limit, client certificate names and basic auth; `POST /-/reload`
also needs `--web.enable-lifecycle` and refuses what a web page could send cross-origin.
Connections are watched by a `ConnectionGuard` (header-read and idle timeouts, a cap).
"""

from __future__ import annotations

import csv
import html
import io
import ipaddress
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from sobriety import __version__
from sobriety.daemon.webaccess import Access, access_middleware
from sobriety.daemon.webconfig import WebConfig, apply_tls, tls_context
from sobriety.daemon.webguard import ConnectionGuard, GuardedSite, Limits
from sobriety.exposition import new_registry, render
from sobriety.model import Sample
from sobriety.reports.eolpage import filtered, render_page
from sobriety.reports.tables import EOL_COLUMNS, ods_bytes

log = logging.getLogger(__name__)


class Served(Protocol):
    """What the HTTP side needs of the daemon."""

    @property
    def ready(self) -> bool:
        """Whether a configuration is running."""

    def samples(self) -> list[Sample]:
        """Everything a scrape shows."""

    def targets(self) -> list[str]:
        """The polled targets' ids."""

    def eol_rows(self) -> list[list[object]]:
        """The end-of-life list."""


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
        self.registry = new_registry(daemon.samples, self.http_samples)
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

    def http_samples(self) -> list[Sample]:
        """What the HTTP side counts: requests by handler and code, connections cut."""
        return self.access.samples()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def metrics(self, request: web.Request) -> web.Response:
        body, content_type = render(self.registry, request.headers.get("Accept"))
        mime, _, params = content_type.partition(";")
        charset = "utf-8" if "charset" in params else None
        response = web.Response(body=body, content_type=mime.strip(), charset=charset)
        if not charset:
            response.headers["Content-Type"] = content_type
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
            '<a href="/reports/end-of-life">end-of-life list</a></p>'
            f"<h2>Targets</h2><ul>{items}</ul>"
            "</body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def eol_page(self, request: web.Request) -> web.Response:
        page = render_page(self.daemon.eol_rows(), dict(request.query))
        return web.Response(text=page, content_type="text/html")

    async def eol_csv(self, request: web.Request) -> web.Response:
        rows = filtered(self.daemon.eol_rows(), dict(request.query))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(EOL_COLUMNS)
        writer.writerows(rows)
        return web.Response(
            text=buffer.getvalue(),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="end-of-life.csv"'},
        )

    async def eol_ods(self, request: web.Request) -> web.Response:
        rows = filtered(self.daemon.eol_rows(), dict(request.query))
        return web.Response(
            body=ods_bytes(EOL_COLUMNS, rows, "end-of-life"),
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
