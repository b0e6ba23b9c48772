"""The lean SNMP engine: one asyncio UDP socket per address family, shared by every target.

`SnmpClient` sends encoded requests and matches answers by request-id and source address;
retries reuse the request-id so a late answer to the first try still counts. Anything that is
not the awaited answer (malformed, unknown request-id, wrong source, duplicate, late) is
counted in `client.dropped` by reason and dropped. When a request gets nothing usable back,
what its target did send says why: `TruncatedResponse`, `MalformedResponse` (garbage) or
`WrongRequestId`, and only silence is a `TargetTimeout`. `LeanTransport` is the per-target
`SnmpTransport` on top of it for SNMPv1 and v2c: GETs that are too big are split, GETBULK
max-repetitions shrink on tooBig and on a timeout from an agent that answered just before
(and stay smaller for that target), and SNMPv1 noSuchName is mapped per varbind.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sobriety.errors import (
    AgentError,
    CollectError,
    MalformedResponse,
    TargetTimeout,
    TargetUnreachable,
    TruncatedResponse,
    WrongRequestId,
)
from sobriety.snmp import ber, v3
from sobriety.snmp.credentials import PUBLIC, Credentials
from sobriety.snmp.transport import RequestStats
from sobriety.snmp.types import Oid, Tag, VarBind

MAX_DATAGRAM = 65_507
# The most a UDP datagram carries over IPv4 or IPv6 without jumbograms: what one read asks
# for. asyncio asks for 256 KiB, which glibc serves with an mmap and an munmap per datagram
# read (strace): 16-17 us of system time per datagram against 4.5-5 us with this size
# (1,200-byte datagrams on loopback, 50,000 of them).
RECEIVE_BYTES = 65_535
BULK_LIMIT_TTL = 86_400.0  # seconds a learnt smaller GETBULK size is kept


Answer = tuple["ber.Message | None", bytes]  # decoded v1/v2c message (None for v3), raw bytes


@dataclass
class _Pending:
    future: asyncio.Future[Answer]
    address: tuple[str, int]
    junk: str | None = None  # the first unusable thing its target sent while it waited

    def failure(self) -> CollectError:
        """Why the request got no usable answer: what the target sent, else silence."""
        address = f"{self.address[0]}:{self.address[1]}"
        if self.junk == "truncated":
            return TruncatedResponse()
        if self.junk == "wrong_request_id":
            return WrongRequestId(f"{address} answered with another request-id")
        if self.junk is not None:
            return MalformedResponse(self.junk)
        return TargetTimeout(f"no answer from {address}")


@dataclass
class ClientCounters:
    """What the shared socket saw that belonged to no request, by reason."""

    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: SnmpClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.client._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        self.client.counters.drop("socket_error")


class SnmpClient:
    """Shared UDP sockets, request-id matching, an in-flight cap."""

    def __init__(self, max_in_flight: int = 256) -> None:
        self.counters = ClientCounters()
        self._pending: dict[int, _Pending] = {}
        self._waiting: dict[tuple[str, int], set[int]] = {}  # address -> its pending ids
        self._transports: dict[int, asyncio.DatagramTransport] = {}
        self._slots = asyncio.Semaphore(max_in_flight)
        self._next_id = 1 + secrets.randbelow(2**30)  # unpredictable: harder to spoof

    def _request_id(self) -> int:
        self._next_id = self._next_id % (2**31 - 1) + 1
        while self._next_id in self._pending:
            self._next_id = self._next_id % (2**31 - 1) + 1
        return self._next_id

    async def _socket(self, family: int) -> asyncio.DatagramTransport:
        transport = self._transports.get(family)
        if transport is None or transport.is_closing():
            loop = asyncio.get_running_loop()
            local = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)  # noqa: S104
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=local, family=family
            )
            if hasattr(transport, "max_size"):  # the selector loop's datagram transport
                transport.max_size = RECEIVE_BYTES
            self._transports[family] = transport
        return transport

    def _received(self, data: bytes, addr: tuple[str, int]) -> None:
        message: ber.Message | None = None
        try:
            message = ber.decode_message(data)
            key = message.pdu.request_id
        except MalformedResponse as exc:
            peeked = v3.peek_msg_id(data) if exc.detail == "unsupported_version" else None
            if peeked is None:
                self.counters.drop(f"malformed_{exc.detail}")
                self._note_junk(addr, "truncated" if exc.detail == "truncated" else exc.detail)
                return
            key = peeked  # v3: matched on msgID here, verified by its transport
        pending = self._pending.get(key)
        if pending is None:
            self.counters.drop("unknown_request_id")  # late, duplicate or forged
            self._note_junk(addr, "wrong_request_id")
            return
        if addr != pending.address and _normal(pending.address) != _normal(addr):
            self.counters.drop("wrong_source")
            return
        if pending.future.done():
            self.counters.drop("duplicate")
            return
        pending.future.set_result((message, data))

    def _note_junk(self, addr: tuple[str, int], what: str) -> None:
        """Remember, for the requests waiting on this address, what unusable thing came."""
        for request_id in self._waiting.get(_normal(addr), ()):
            pending = self._pending.get(request_id)
            if pending is not None and pending.junk is None:
                pending.junk = what

    async def exchange(
        self,
        address: tuple[str, int],
        payload: bytes,
        request_id: int,
        stats: RequestStats,
        per_try: float,
        retries: int,
    ) -> Answer:
        """Send `payload` (encoded with `request_id` as its id) and await the answer."""
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        transport = await self._socket(family)
        loop = asyncio.get_running_loop()
        async with self._slots:
            pending = _Pending(loop.create_future(), address)
            self._pending[request_id] = pending
            waiting = self._waiting.setdefault(_normal(address), set())
            waiting.add(request_id)
            try:
                for attempt in range(retries + 1):
                    if attempt:
                        stats.retries += 1
                        pending.future = loop.create_future()  # same id: a late answer counts
                    transport.sendto(payload, address)
                    stats.bytes_sent += len(payload)
                    timer = loop.call_later(per_try, _expire, pending.future)
                    try:
                        answer = await pending.future
                    except TimeoutError:
                        continue
                    finally:
                        timer.cancel()
                    stats.bytes_received += len(answer[1])
                    return answer
            finally:
                del self._pending[request_id]
                waiting.discard(request_id)
                if not waiting:
                    self._waiting.pop(_normal(address), None)
        failure = pending.failure()
        if isinstance(failure, TargetTimeout):
            stats.timeouts += 1
        raise failure

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()


def _expire(future: asyncio.Future[Answer]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


@functools.lru_cache(maxsize=65_536)  # per packet otherwise; a fleet has few addresses
def _normal(addr: tuple[str, int]) -> tuple[str, int]:
    host = addr[0].split("%")[0]
    try:
        ip = ipaddress.ip_address(host)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        host = str(ip)
    except ValueError:
        pass
    return host, addr[1]


class LeanTransport:
    """SnmpTransport for one SNMPv1/v2c target over the shared client."""

    VERSIONS: tuple[str, ...] = ("1", "2c")

    def __init__(
        self,
        client: SnmpClient,
        host: str,
        port: int = 161,
        *,
        credentials: Credentials = PUBLIC,
        timeout: float = 2.0,
        retries: int = 1,
    ) -> None:
        if credentials.version not in self.VERSIONS:
            raise ValueError(f"{type(self).__name__} speaks SNMP {', '.join(self.VERSIONS)}")
        self.client = client
        self.host, self.port = host, port
        self.address: tuple[str, int] | None = None
        self.credentials = credentials
        self.version = credentials.version
        self.community = credentials.community.encode("utf-8")
        self.timeout = timeout
        self.retries = retries
        self.stats = RequestStats()
        self.bulk_limit: int | None = None  # varbinds a GETBULK may ask for, once learnt
        self._bulk_limit_at = 0.0
        self.answered = False  # did the last request get an answer?

    @property
    def supports_bulk(self) -> bool:
        return self.version != "1"

    async def _resolve(self) -> tuple[str, int]:
        """The target's address; a host name is resolved once, on first use."""
        if self.address is None:
            try:
                ipaddress.ip_address(self.host)
                self.address = (self.host, self.port)
            except ValueError:
                loop = asyncio.get_running_loop()
                try:
                    infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
                except OSError as exc:
                    raise TargetUnreachable(f"cannot resolve {self.host}: {exc}") from None
                self.address = (str(infos[0][4][0]), self.port)
        return self.address

    async def _send(
        self, pdu_type: int, oids: Sequence[Oid], non_rep: int = 0, max_rep: int = 0
    ) -> ber.Pdu:
        kind = {ber.GET: "get", ber.GET_NEXT: "getnext", ber.GET_BULK: "getbulk"}[pdu_type]
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        self.answered = False
        pdu = await self._exchange(pdu_type, oids, non_rep, max_rep)
        self.answered = True
        if pdu.pdu_type != ber.RESPONSE:
            raise MalformedResponse("unexpected_pdu")
        self.stats.varbinds += len(pdu.varbinds)
        return pdu

    async def _exchange(
        self, pdu_type: int, oids: Sequence[Oid], non_rep: int, max_rep: int
    ) -> ber.Pdu:
        """One request and its answer, community-based (v1/v2c)."""
        address = await self._resolve()
        request_id = self.client._request_id()
        payload = ber.encode_request(
            self.version, self.community, pdu_type, request_id, oids, non_rep, max_rep
        )
        message, _ = await self.client.exchange(
            address, payload, request_id, self.stats, self.timeout, self.retries
        )
        if message is None:
            raise MalformedResponse("unexpected_version")
        return message.pdu

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        pdu = await self._send(ber.GET, oids)
        if pdu.error_status:
            return await self._status(ber.GET, oids, pdu)
        if [vb.oid for vb in pdu.varbinds] != list(oids):
            raise MalformedResponse("answer_mismatch")
        return pdu.varbinds

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        pdu = await self._send(ber.GET_NEXT, oids)
        if pdu.error_status:
            return await self._status(ber.GET_NEXT, oids, pdu)
        if len(pdu.varbinds) != len(oids):
            raise MalformedResponse("answer_mismatch")
        return pdu.varbinds

    async def get_bulk(
        self, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]:
        if not self.supports_bulk:
            raise TypeError("SNMPv1 has no GETBULK")
        width = max(1, len(oids) - non_repeaters)
        repetitions = max_repetitions
        limit = self._limit()
        if limit is not None:
            repetitions = max(1, min(repetitions, limit // width))
        timeouts = 0
        alive = self.answered
        shrunk: str | None = None
        while True:
            try:
                pdu = await self._send(ber.GET_BULK, oids, non_repeaters, repetitions)
            except (TargetTimeout, TruncatedResponse) as exc:
                # An agent that answered the request before but not this one may be choking
                # on the size of the answer (or dropping fragments, or cutting it at its
                # buffer): ask for less, twice at most, before calling the target dead
                # (Centreon's "autoreduce"). Nothing is learnt unless the smaller request is
                # answered: a device that died mid-walk keeps its size for when it comes back.
                if not alive or repetitions == 1 or timeouts == 2:
                    raise
                timeouts += 1
                repetitions, shrunk = max(1, repetitions // 4), exc.reason
                self.stats.note_shrink(exc.reason)
                continue
            if pdu.error_status == 1 and repetitions > 1:  # tooBig: ask for fewer rows
                repetitions, shrunk = max(1, repetitions // 2), shrunk or "too_big"
                self.stats.note_shrink("too_big")
                continue
            if pdu.error_status:
                raise AgentError(f"getbulk: {ber.ERROR_STATUS.get(pdu.error_status, 'error')}")
            if shrunk is not None:
                self._learn_limit(repetitions * width)
            return pdu.varbinds

    def _limit(self) -> int | None:
        """The learnt GETBULK size; forgotten after a day, so a fixed agent gets full pages."""
        if self.bulk_limit is not None and time.monotonic() - self._bulk_limit_at > BULK_LIMIT_TTL:
            self.bulk_limit = None
        return self.bulk_limit

    def _learn_limit(self, varbinds: int) -> None:
        self.bulk_limit = varbinds
        self._bulk_limit_at = time.monotonic()

    async def _status(self, pdu_type: int, oids: Sequence[Oid], pdu: ber.Pdu) -> list[VarBind]:
        status, index = pdu.error_status, pdu.error_index
        if status == 1 and len(oids) > 1:  # tooBig: split the request in halves
            half = len(oids) // 2
            first = await self._again(pdu_type, oids[:half])
            return first + await self._again(pdu_type, oids[half:])
        if status == 2 and self.version == "1" and 1 <= index <= len(oids):
            mark = Tag.END_OF_MIB_VIEW if pdu_type == ber.GET_NEXT else Tag.NO_SUCH_INSTANCE
            rest = [o for i, o in enumerate(oids) if i != index - 1]
            answers = await self._again(pdu_type, rest) if rest else []
            answers.insert(index - 1, VarBind(oids[index - 1], mark, None))
            return answers
        name = ber.ERROR_STATUS.get(status, f"status {status}")
        raise AgentError(f"agent error {name} at varbind {index}")

    async def _again(self, pdu_type: int, oids: Sequence[Oid]) -> list[VarBind]:
        return await (self.get(oids) if pdu_type == ber.GET else self.get_next(oids))

    async def close(self) -> None:
        return None  # the socket is shared; the client owns it
