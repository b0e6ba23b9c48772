"""Who may use the HTTP side: the middleware in front of every endpoint.

In order: the connection guard is told a request started; the web config's rate limit
(429), client certificate names (`client_allowed_sans`, 403) and basic auth (401, bcrypt
hashes checked off the event loop, one at a time, results cached as exporter-toolkit does);
then for `/-/reload`, the lifecycle flag (403 without `--web.enable-lifecycle`, as in
Prometheus) and a refusal of what a web page can send cross-origin without a preflight (an
`Origin` that is not ours, `Sec-Fetch-Site: cross-site`, or a CORS-simple content type).
The configured headers go on every answer, errors included; each answer is counted by
handler and status code.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import bcrypt
from aiohttp import web
from aiohttp.typedefs import Middleware

from sobriety.daemon.webconfig import PeerNames, RateLimit, WebConfig
from sobriety.daemon.webguard import ConnectionGuard
from sobriety.model import Sample

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER = web.RequestKey("user", str)  # the authenticated user (absent without basic auth)
LIFECYCLE_PATHS = frozenset({"/-/reload"})
# Content types a browser sends cross-origin with no preflight (the Fetch standard's list).
CORS_SIMPLE = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
# A valid bcrypt hash of a password nobody has: unknown users cost as much as known ones.
_DUMMY_HASH = b"$2b$10$RLJbJRaJDtgHzAEEUvZiI.sizmpdKk5q5TpsoKPI9UfAI6Tz/thrC"
_CACHE_MAX = 256


@dataclass
class TokenBucket:
    """exporter-toolkit's `rate_limit`: one token every `interval`, at most `burst` saved."""

    interval: float
    burst: int
    tokens: float = 0.0
    at: float = 0.0

    @classmethod
    def of(cls, limit: RateLimit | None) -> TokenBucket | None:
        if limit is None or limit.interval <= 0:
            return None
        return cls(limit.interval, limit.burst, float(limit.burst), time.monotonic())

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) / self.interval)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class BasicAuthCheck:
    """bcrypt checks of `Authorization: Basic`, cached by (user, hash, password digest)."""

    def __init__(self, users: dict[str, bytes]) -> None:
        self.users = users
        self._cache: dict[str, bool] = {}
        self._lock = asyncio.Lock()

    async def login(self, header: str | None) -> str | None:
        """The user whose good credentials the header carries, else None."""
        if not header or not self.users:
            return None
        credentials = basic_credentials(header)
        if credentials is None:
            return None
        login, password = credentials
        known = self.users.get(login.decode("utf-8", "replace"))
        digest = known or _DUMMY_HASH
        key = hashlib.sha256(b"\0".join((login, digest, password))).hexdigest()
        if key not in self._cache:
            async with self._lock:  # bcrypt is CPU-bound on purpose: one at a time
                ok = await asyncio.to_thread(_checkpw, password, digest)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key] = ok
        return login.decode("utf-8", "replace") if known is not None and self._cache[key] else None


def basic_credentials(header: str) -> tuple[bytes, bytes] | None:
    """(user, password) of an `Authorization: Basic …` header (RFC 7617), else None."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (ValueError, binascii.Error):
        return None
    login, colon, password = decoded.partition(b":")
    return (login, password) if colon else None


def _checkpw(password: bytes, digest: bytes) -> bool:
    try:
        return bcrypt.checkpw(password, digest)
    except ValueError:  # a password bcrypt will not take (over 72 bytes for bcrypt 5)
        return False


class Access:
    """The web config as applied to requests, and what the HTTP side counts."""

    def __init__(self, config: WebConfig, guard: ConnectionGuard, *, lifecycle: bool) -> None:
        self.guard = guard
        self.lifecycle = lifecycle
        self.answers: Counter[tuple[str, str]] = Counter()
        self.use(config)

    def use(self, config: WebConfig) -> None:
        self.config = config
        self.bucket = TokenBucket.of(config.rate_limit)
        users = {u: h.get_secret_value().encode() for u, h in config.basic_auth_users.items()}
        self.auth = BasicAuthCheck(users)

    async def refusal(self, request: web.Request) -> web.Response | None:
        """The answer to a request that may not go on, or None."""
        if self.bucket is not None and not self.bucket.take():
            return web.Response(status=429, text="Too Many Requests\n")
        tls = self.config.tls_server_config
        if tls is not None and tls.client_allowed_sans:
            peer = request.transport.get_extra_info("peercert") if request.transport else None
            if not PeerNames.of(peer).allowed(tls.client_allowed_sans):
                return web.Response(status=403, text="client certificate not allowed\n")
        user = await self.auth.login(request.headers.get("Authorization"))
        if user is not None:
            request[USER] = user  # who is asking: reports filter by it
        elif self.auth.users:
            return web.Response(
                status=401,
                text="Unauthorized\n",
                headers={"WWW-Authenticate": 'Basic realm="sobriety", charset="UTF-8"'},
            )
        if request.path in LIFECYCLE_PATHS:
            return self._lifecycle_refusal(request)
        return None

    def _lifecycle_refusal(self, request: web.Request) -> web.Response | None:
        if not self.lifecycle:
            return web.Response(status=403, text="Lifecycle API is not enabled.\n")
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            return web.Response(status=403, text="cross-origin request refused\n")
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return web.Response(status=403, text="cross-site request refused\n")
        if request.content_type in CORS_SIMPLE and "Content-Type" in request.headers:
            return web.Response(
                status=403,
                text=f"{request.content_type} refused here (a web page could send it from "
                "another site); send no body: curl -X POST URL/-/reload\n",
            )
        return None

    def decorate(self, response: web.StreamResponse | web.HTTPException) -> None:
        """The configured headers, on any answer not yet sent."""
        if isinstance(response, web.StreamResponse) and response.prepared:
            return
        for name, value in self.config.http_server_config.headers.items():
            response.headers[name] = value

    def count(self, request: web.Request, status: int) -> None:
        route = request.match_info.route
        resource = route.resource if route is not None else None
        handler = resource.canonical if resource is not None else "other"
        self.answers[(handler, str(status))] += 1

    def samples(self) -> list[Sample]:
        out = [
            Sample("sobriety_http_requests_total", {"handler": h, "code": c}, float(n))
            for (h, c), n in sorted(self.answers.items())
        ]
        out += [
            Sample("sobriety_http_connections_cut_total", {"reason": r}, float(n))
            for r, n in sorted(self.guard.samples().items())
        ]
        out.append(Sample("sobriety_http_connections", {}, float(len(self.guard.open))))
        return out


def access_middleware(access: Access) -> Middleware:
    """The aiohttp middleware applying `access` to every request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        access.guard.request_started(transport)
        status = 500
        try:
            response = await access.refusal(request) or await handler(request)
            status = response.status
            access.decorate(response)
            return response
        except web.HTTPException as exc:
            status = exc.status
            access.decorate(exc)
            raise
        finally:
            access.count(request, status)
            access.guard.request_ended(transport)

    return middleware
