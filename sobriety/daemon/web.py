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
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web

from sobriety import __version__
from sobriety.daemon.webaccess import USER, Access, access_middleware
from sobriety.daemon.webconfig import WebConfig, apply_tls, tls_context
from sobriety.daemon.webguard import ConnectionGuard, GuardedSite, Limits
from sobriety.daemon.webusers import UserMap, Viewer
from sobriety.exposition import Format, Renderable, ScrapeCache, negotiate
from sobriety.model import Sample
from sobriety.reports.eol import EolReport, eol_table
from sobriety.reports.eolpage import filtered, parse_lang, render_page
from sobriety.reports.i18n import Lang
from sobriety.reports.radio import RadioReport
from sobriety.reports.radiopage import render_radio_page
from sobriety.reports.writers import csv_text, json_text, ods_bytes

log = logging.getLogger(__name__)
GZIP_LEVEL = 1  # the scrape body: see _scrape_body


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

    def users(self) -> UserMap:
        """Which organisations each web user sees."""


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
        self.app.router.add_get("/reports/end-of-life.json", self.eol_json)
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

    def viewer(self, request: web.Request) -> Viewer:
        """Who asks, and which organisations they see."""
        return self.daemon.users().viewer(request.get(USER))

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        """The scrape, streamed. It is put together in a worker thread (targets polled since
        the last scrape rendered, the rest from the cache), so the event loop keeps polling
        meanwhile; gzip when the scraper accepts it, as Prometheus does. A scrape shows every
        organisation: a user mapped to some is refused; the scraper's user, mapped to none,
        and the admins scrape."""
        viewer = self.viewer(request)
        if viewer.organisations:
            return web.Response(
                status=403,
                text=f"{viewer.user} reads its organisations' reports; /metrics shows every "
                "organisation and is for the scraper's user or an admin\n",
            )
        fmt = negotiate(request.headers.get("Accept"))
        gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        chunks = await asyncio.get_running_loop().run_in_executor(
            None, self._scrape_body, self.daemon.entries(), fmt, gzip
        )
        headers = {"Content-Type": fmt.content_type, "Vary": "Accept-Encoding"}
        if gzip:
            headers["Content-Encoding"] = "gzip"
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    def _scrape_body(self, entries: Mapping[str, Renderable], fmt: Format, gzip: bool
                     ) -> list[bytes]:  # fmt: skip
        """The scrape's chunks, gzipped at level 1 when asked, in the worker thread (on this
        repetitive text, 14 µs a device against 49 at zlib's default level 6, for a body a
        fifth larger: 0.22 MB instead of 0.18 for 600 replayed devices)."""
        chunks = self.cache.chunks(entries, self._unpolled_samples, fmt)
        if not gzip:
            return list(chunks)
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        packed = [packer.compress(chunk) for chunk in chunks]  # the text is never whole
        packed.append(packer.flush())
        return [chunk for chunk in packed if chunk]

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

    async def index(self, request: web.Request) -> web.Response:
        viewer = self.viewer(request)
        targets = self.daemon.targets()
        if not viewer.everything:
            visible = {str(r["target"]) for r in self.daemon.eol_report().rows
                       if viewer.sees(str(r.get("organisation") or ""))}  # fmt: skip
            targets = [t for t in targets if t in visible]
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

    def visible_report(self, request: web.Request) -> EolReport | web.Response:
        """The end-of-life list as the asking user may see it, or the refusal of a filter on
        another organisation (403: what exists elsewhere is not theirs to probe)."""
        viewer = self.viewer(request)
        report = self.daemon.eol_report()
        if viewer.organisations is None:
            return report
        if not viewer.organisations:
            return _forbidden(f"no organisation's reports are open to {viewer.user}")
        organisation, site = request.query.get("organisation"), request.query.get("site")
        if organisation and not viewer.sees(organisation):
            return _forbidden(f"{viewer.user} may not see organisation {organisation!r}")
        if site and not viewer.sees(report.site_owners.get(site)):
            return _forbidden(f"{viewer.user} may not see site {site!r}")
        return report.of_organisations(viewer.organisations)

    async def eol_page(self, request: web.Request) -> web.Response:
        report = self.visible_report(request)
        if isinstance(report, web.Response):
            return report
        page = render_page(report, dict(request.query))
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def radio_page(self, request: web.Request) -> web.Response:
        """The radio report, of the organisations the asking user sees (403 for a site of
        another one, as the end-of-life list)."""
        viewer = self.viewer(request)
        report = self.daemon.radio_report()
        if viewer.organisations is not None:
            if not viewer.organisations:
                return _forbidden(f"no organisation's reports are open to {viewer.user}")
            site = report.sites.get(request.query.get("site", ""))
            if site is not None and not viewer.sees(site.organisation):
                return _forbidden(f"{viewer.user} may not see site {site.id!r}")
            report = report.of_organisations(viewer.organisations)
        page = render_radio_page(report, dict(request.query))
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def eol_csv(self, request: web.Request) -> web.Response:
        """The page's rows (same filters, same language) as CSV; `sep=,` for a comma."""
        report = self.visible_report(request)
        if isinstance(report, web.Response):
            return report
        query = dict(request.query)
        lang = parse_lang(query)
        sep = query.get("sep") if query.get("sep") in (";", ",") else None
        table = eol_table(filtered(report, query), lang)
        return web.Response(
            body=csv_text(table, lang, sep).encode("utf-8"),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="end-of-life.csv"'},
        )

    async def eol_ods(self, request: web.Request) -> web.Response:
        report = self.visible_report(request)
        if isinstance(report, web.Response):
            return report
        query = dict(request.query)
        lang = parse_lang(query)
        table = eol_table(filtered(report, query), lang)
        return web.Response(
            body=ods_bytes(table, lang),
            content_type="application/vnd.oasis.opendocument.spreadsheet",
            headers={"Content-Disposition": 'attachment; filename="end-of-life.ods"'},
        )

    async def eol_json(self, request: web.Request) -> web.Response:
        """The rows for machines, as `export eol --format json` writes them (stable ids,
        English texts, ISO dates), with the page's filters."""
        report = self.visible_report(request)
        if isinstance(report, web.Response):
            return report
        lang = Lang("en")
        table = eol_table(filtered(report, dict(request.query)), lang, machine=True)
        return web.Response(text=json_text(table, lang), content_type="application/json")


def _forbidden(why: str) -> web.Response:
    return web.Response(status=403, text=f"Forbidden: {why}\n")


def is_loopback(host: str) -> bool:
    """Whether a listen host only reaches this machine (`localhost` counts; `""` does not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
