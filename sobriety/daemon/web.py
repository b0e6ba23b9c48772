"""The daemon's HTTP side: /metrics, health, reload. Scrapes read memory only."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from aiohttp import web

from sobriety import __version__
from sobriety.exposition import Renderable, ScrapeCache, negotiate
from sobriety.model import Sample
from sobriety.reports.eol import EolReport, eol_table
from sobriety.reports.eolpage import filtered, parse_lang, render_page
from sobriety.reports.writers import csv_text, ods_bytes


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


class WebServer:
    """aiohttp server bound to the configured listen address."""

    def __init__(
        self,
        daemon: Served,
        reload: Callable[[], Awaitable[list[str]]],
        host: str,
        port: int,
    ) -> None:
        """`reload` re-reads the configuration and returns its problems (none: reloaded)."""
        self.daemon = daemon
        self._reload = reload
        self.host = host
        self.port = port
        self.cache = ScrapeCache()
        self.app = web.Application()
        self.app.router.add_get("/", self.index)
        self.app.router.add_get("/metrics", self.metrics)
        self.app.router.add_get("/-/healthy", self.healthy)
        self.app.router.add_get("/-/ready", self.ready)
        self.app.router.add_post("/-/reload", self.reload)
        self.app.router.add_get("/reports/end-of-life", self.eol_page)
        self.app.router.add_get("/reports/end-of-life.csv", self.eol_csv)
        self.app.router.add_get("/reports/end-of-life.ods", self.eol_ods)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # an ephemeral port was asked for: learn which one we got
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])

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
            None, self.cache.body, self.daemon.entries(), self.daemon.daemon_samples, fmt
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
            '<a href="/reports/end-of-life">end-of-life list</a></p>'
            f"<h2>Targets</h2><ul>{items}</ul>"
            "</body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def eol_page(self, request: web.Request) -> web.Response:
        page = render_page(self.daemon.eol_report(), dict(request.query))
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
