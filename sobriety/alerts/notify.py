"""Notifiers: Alertmanager API v2, a JSON webhook, e-mail (SMTP, STARTTLS or implicit TLS,
auth, recipients routed by site and severity) and the log.

`Dispatcher.submit` never waits: transitions go to a bounded queue that a background task
drains, one notifier after the other. A notifier that fails keeps its batch and is retried
with exponential backoff (1 s doubling to 5 min); failures and deliveries are counted per
notifier. Polling never waits for a notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

import aiohttp

from sobriety.alerts.engine import Transition
from sobriety.model import Sample

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000
BACKOFF_MAX = 300.0


class Rejected(Exception):
    """The receiver refused the notification itself (4xx): sending it again will not help."""


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


class Notifier(Protocol):
    name: str

    async def send(self, batch: Sequence[Transition]) -> None: ...


@dataclass
class AlertmanagerNotifier:
    """POST /api/v2/alerts; firing alerts carry an endsAt that resends keep pushing ahead."""

    url: str
    expire_after: float = 300.0
    generator: str | None = None  # a URL (Alertmanager rejects anything else)
    name: str = "alertmanager"
    timeout: float = 10.0

    def payload(self, batch: Sequence[Transition], now: float) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for t in batch:
            ends = t.ends_at if t.status == "resolved" and t.ends_at else now + self.expire_after
            alert: dict[str, object] = {
                "labels": t.all_labels(),
                "annotations": t.annotations(),
                "startsAt": iso(t.starts_at),
                "endsAt": iso(ends),
            }
            if self.generator:
                alert["generatorURL"] = self.generator
            out.append(alert)
        return out

    async def send(self, batch: Sequence[Transition]) -> None:
        now = datetime.now(UTC).timestamp()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(
                f"{self.url.rstrip('/')}/api/v2/alerts", json=self.payload(batch, now)
            ) as resp,
        ):
            if resp.status >= 300:
                raise OSError(f"alertmanager answered {resp.status}: {await resp.text()}")


@dataclass
class WebhookNotifier:
    """POST a JSON document shaped like Alertmanager's webhook payload."""

    url: str
    name: str = "webhook"
    timeout: float = 10.0

    async def send(self, batch: Sequence[Transition]) -> None:
        body = {
            "receiver": "sobriety",
            "status": "firing" if any(t.status == "firing" for t in batch) else "resolved",
            "alerts": [
                {
                    "status": t.status,
                    "labels": t.all_labels(),
                    "annotations": t.annotations(),
                    "startsAt": iso(t.starts_at),
                    "endsAt": iso(t.ends_at) if t.ends_at else None,
                    "value": t.value,
                }
                for t in batch
            ],
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.url, json=body) as resp,
        ):
            if 400 <= resp.status < 500:
                raise Rejected(f"webhook refused it ({resp.status})")
            if resp.status >= 300:
                raise OSError(f"webhook answered {resp.status}")


@dataclass(frozen=True)
class MailRoute:
    """Recipients for the alerts whose labels match (`site`, `severity` or any label; each
    a value or a list of values). Like Alertmanager's routes: the first match wins unless it
    says `continue`; an alert no route matches goes to the default recipients."""

    match: Mapping[str, tuple[str, ...]]
    to: tuple[str, ...]
    continue_: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(name) in values for name, values in self.match.items())


@dataclass
class EmailNotifier:
    """Messages over SMTP: plain, STARTTLS or implicit TLS (SMTPS, port 465), with a login
    when a user is given; one message per set of recipients in a batch."""

    host: str
    port: int
    sender: str
    recipients: Sequence[str]
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    name: str = "email"
    timeout: float = 20.0
    implicit_tls: bool = False
    routes: Sequence[MailRoute] = ()
    ca_file: str | None = None  # a private CA for the relay's certificate

    def recipients_of(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        """Who gets an alert with these labels (its name and severity included)."""
        found: list[str] = []
        for route in self.routes:
            if route.matches(labels):
                found += route.to
                if not route.continue_:
                    break
        return tuple(dict.fromkeys(found or self.recipients))

    def messages(self, batch: Sequence[Transition]) -> list[EmailMessage]:
        """One message per distinct recipient list, each with the alerts meant for it."""
        groups: dict[tuple[str, ...], list[Transition]] = {}
        for t in batch:
            groups.setdefault(self.recipients_of(t.all_labels()), []).append(t)
        return [self.message(part, to) for to, part in groups.items() if to]

    def message(self, batch: Sequence[Transition], to: Sequence[str] | None = None
                ) -> EmailMessage:  # fmt: skip
        msg = EmailMessage()
        firing = [t for t in batch if t.status == "firing"]
        head = f"[{'FIRING' if firing else 'RESOLVED'}:{len(batch)}] "
        msg["Subject"] = head + ", ".join(sorted({t.rule.name for t in batch}))
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients if to is None else to)
        lines = []
        for t in batch:
            labels = ", ".join(f"{k}={v}" for k, v in sorted(t.labels.items()))
            notes = t.annotations()
            lines.append(f"{t.status.upper()} {t.rule.name} ({t.rule.severity}) {labels}")
            lines.append(f"  {notes['summary']}")
            if "description" in notes:
                lines.append(f"  {notes['description']}")
            lines.append(f"  since {iso(t.starts_at)}, value {t.value:g}")
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def _deliver(self, messages: Sequence[EmailMessage]) -> None:
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls and not self.implicit_tls:
                smtp.starttls(context=self._context())
            if self.username:
                smtp.login(self.username, self.password or "")
            for msg in messages:
                smtp.send_message(msg)

    async def send(self, batch: Sequence[Transition]) -> None:
        messages = self.messages(batch)
        if messages:
            await asyncio.to_thread(self._deliver, messages)


@dataclass
class LogNotifier:
    name: str = "log"

    async def send(self, batch: Sequence[Transition]) -> None:
        for t in batch:
            level = logging.WARNING if t.rule.severity == "critical" else logging.INFO
            log.log(level, "alert %s %s %s: %s", t.status, t.rule.name, dict(t.labels),
                    t.annotations()["summary"])  # fmt: skip


@dataclass
class _Lane:
    notifier: Notifier
    queue: deque[Transition] = field(default_factory=deque)
    backoff: float = 0.0
    retry_at: float = 0.0
    sent: int = 0
    failed: int = 0
    dropped: int = 0


class Dispatcher:
    """One queue per notifier, drained by one background task."""

    def __init__(self, notifiers: Sequence[Notifier], clock: object | None = None) -> None:
        self.lanes = [_Lane(n) for n in notifiers]
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def submit(self, batch: Sequence[Transition], only: str | None = None) -> None:
        """Queue transitions for every notifier (or the one called `only`); never waits."""
        if not batch:
            return
        for lane in self.lanes:
            if only is not None and lane.notifier.name != only:
                continue
            lane.queue.extend(batch)
            while len(lane.queue) > MAX_QUEUED:
                lane.queue.popleft()
                lane.dropped += 1
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            now = loop.time()
            waits = []
            for lane in self.lanes:
                if not lane.queue:
                    continue
                if now < lane.retry_at:
                    waits.append(lane.retry_at - now)
                    continue
                batch = list(lane.queue)
                try:
                    await lane.notifier.send(batch)
                except Rejected as exc:  # permanent: drop the batch, do not block the rest
                    lane.failed += 1
                    lane.dropped += len(batch)
                    for _ in batch:
                        lane.queue.popleft()
                    log.error("notifier %s refused %d notification(s): %s",
                              lane.notifier.name, len(batch), exc)  # fmt: skip
                    continue
                except Exception as exc:  # any other failure: keep the batch, back off
                    lane.failed += 1
                    lane.backoff = min(max(lane.backoff * 2, 1.0), BACKOFF_MAX)
                    lane.retry_at = loop.time() + lane.backoff
                    waits.append(lane.backoff)
                    log.warning("notifier %s failed (%s); retry in %.0fs", lane.notifier.name,
                                exc, lane.backoff)  # fmt: skip
                    continue
                for _ in batch:
                    lane.queue.popleft()
                lane.sent += len(batch)
                lane.backoff = 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(waits) if waits else None)

    def samples(self) -> list[Sample]:
        out = []
        for lane in self.lanes:
            labels = {"notifier": lane.notifier.name}
            out.append(Sample("sobriety_notifications_total", labels, float(lane.sent)))
            out.append(Sample("sobriety_notifications_failed_total", labels, float(lane.failed)))
            out.append(Sample("sobriety_notifications_queued", labels, float(len(lane.queue))))
            out.append(Sample("sobriety_notifications_dropped_total", labels, float(lane.dropped)))
        return out
