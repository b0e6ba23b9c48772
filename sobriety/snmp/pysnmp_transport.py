"""The live SNMP transport for now: pysnmp 7's asyncio engine, with no MIB resolution at all.

Requests go through pysnmp's asyncio LCD (targets, credentials) and its RFC 3413 command
generators directly, with numeric OIDs and raw response values: the hlapi `get_cmd` family
would resolve every request OID through a MIB view even with ``lookupMib=False``. Responses
become plain `VarBind`s. There is no method that sends a SET.

Counting: `stats.get/getnext/getbulk` count request PDUs, `stats.varbinds` the varbinds
returned. pysnmp retries inside its engine; the retransmissions, and the bytes sent and
received, are observed through the engine's execution-point observer (`rfc3412.sendPdu`,
`rfc3412.receiveMessage:response`), keyed by request-id. A resend that follows an SNMPv3
report (engine-ID/time discovery, or a USM error pysnmp retries) is not counted as a retry.
`bytes_received` counts response messages, not reports.

The lean engine replaces this hot path for SNMPv1/v2c behind the same `SnmpTransport`
protocol; SNMPv3 stays here.

Limitation: pysnmp keys USM users by user name per engine. Two SNMPv3 targets that share a
user name but not its keys should not share one engine.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pysnmp.carrier.error import CarrierError
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.hlapi.v3arch.asyncio.lcd import CommandGeneratorLcdConfigurator
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.api import v2c
from pysnmp.proto.error import StatusInformation

from sobriety.errors import (
    AuthFailed,
    CollectError,
    MalformedResponse,
    TargetTimeout,
    TargetUnreachable,
)
from sobriety.snmp.transport import RequestStats
from sobriety.snmp.types import Oid, Tag, Value, VarBind

AUTH_PROTOCOLS: Final[dict[str, Any]] = {
    "md5": hl.usmHMACMD5AuthProtocol,
    "sha": hl.usmHMACSHAAuthProtocol,
    "sha224": hl.usmHMAC128SHA224AuthProtocol,
    "sha256": hl.usmHMAC192SHA256AuthProtocol,
    "sha384": hl.usmHMAC256SHA384AuthProtocol,
    "sha512": hl.usmHMAC384SHA512AuthProtocol,
}
PRIV_PROTOCOLS: Final[dict[str, Any]] = {
    "des": hl.usmDESPrivProtocol,
    "aes128": hl.usmAesCfb128Protocol,
    "aes192": hl.usmAesCfb192Protocol,
    "aes256": hl.usmAesCfb256Protocol,
}
VERSIONS: Final = ("1", "2c", "3")

# USM reports (RFC 3414) and what they tell the operator.
_AUTH_ERRORS: Final[tuple[tuple[type[Any], str], ...]] = (
    (errind.UnknownUserName, "unknown SNMPv3 user"),
    (errind.WrongDigest, "wrong digest: authentication password or protocol rejected"),
    (errind.AuthenticationFailure, "authentication failed"),
    (errind.AuthenticationError, "authentication failed"),
    (errind.DecryptionError, "decryption failed: privacy password or protocol rejected"),
    (errind.UnsupportedSecurityLevel, "security level not supported for this user"),
    (errind.UnknownSecurityName, "unknown security name"),
    (errind.NotInTimeWindow, "not in time window"),
    (errind.UnsupportedAuthProtocol, "authentication protocol not supported"),
    (errind.UnsupportedPrivProtocol, "privacy protocol not supported"),
)

_TAGS: Final[dict[Any, Tag]] = {
    rfc1902.Integer32.tagSet: Tag.INTEGER,
    rfc1902.OctetString.tagSet: Tag.OCTET_STRING,
    rfc1902.Null.tagSet: Tag.NULL,
    rfc1902.ObjectIdentifier.tagSet: Tag.OBJECT_IDENTIFIER,
    rfc1902.IpAddress.tagSet: Tag.IP_ADDRESS,
    rfc1902.Counter32.tagSet: Tag.COUNTER32,
    rfc1902.Gauge32.tagSet: Tag.GAUGE32,
    rfc1902.TimeTicks.tagSet: Tag.TIMETICKS,
    rfc1902.Opaque.tagSet: Tag.OPAQUE,
    rfc1902.Counter64.tagSet: Tag.COUNTER64,
    rfc1905.NoSuchObject.tagSet: Tag.NO_SUCH_OBJECT,
    rfc1905.NoSuchInstance.tagSet: Tag.NO_SUCH_INSTANCE,
    rfc1905.EndOfMibView.tagSet: Tag.END_OF_MIB_VIEW,
}
_INTEGERS: Final = frozenset(
    {Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64}
)
_OCTETS: Final = frozenset({Tag.OCTET_STRING, Tag.IP_ADDRESS, Tag.OPAQUE})
_NULL: Final = rfc1902.Null("")

TOO_BIG: Final = 1
NO_SUCH_NAME: Final = 2
_ERROR_STATUS: Final = (
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
)

_LCD: Final = CommandGeneratorLcdConfigurator()


class TooBig(CollectError):
    """The agent could not fit the answer in one message (errorStatus tooBig)."""

    reason = "too_big"


class AgentError(CollectError):
    """The agent answered with an error status (genErr, resourceUnavailable, ...)."""

    reason = "agent_error"


@dataclass(eq=False)
class _Exchange:
    """One request in flight, as the engine observer sees it."""

    stats: RequestStats
    request_id: int | None = None
    address: Any = None
    reported: bool = False


# The exchange whose first PDU the current task is sending right now (set only around the
# synchronous send, so the observer can tell which transport a new request-id belongs to).
_SENDING: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "sobriety_pysnmp_sending", default=None
)


@dataclass(eq=False)
class _EngineTap:
    """Per-engine command generators and the observer that attributes traffic to requests."""

    get: Any = field(default_factory=cmdgen.GetCommandGenerator)
    next: Any = field(default_factory=cmdgen.NextCommandGeneratorSingleRun)
    bulk: Any = field(default_factory=cmdgen.BulkCommandGeneratorSingleRun)
    pending: dict[int, _Exchange] = field(default_factory=dict)

    def observe(self, _engine: Any, point: str, variables: dict[str, Any], _ctx: Any) -> None:
        """Observer callback of the engine (see `_tap`)."""
        pdu = variables.get("pdu")
        if pdu is None:
            return
        if point == "rfc3412.prepareDataElements:internal":
            self._reported(variables.get("transportAddress"))
            return
        request_id = int(v2c.apiPDU.get_request_id(pdu))
        if point == "rfc3412.sendPdu":
            self._sent(request_id, variables)
            return
        exchange = self.pending.get(request_id)  # rfc3412.receiveMessage:response
        if exchange is not None:
            exchange.stats.bytes_received += len(variables.get("wholeMsg") or b"")

    def _sent(self, request_id: int, variables: dict[str, Any]) -> None:
        exchange = self.pending.get(request_id)
        if exchange is None:
            exchange = _SENDING.get()
            if exchange is None or exchange.request_id is not None:
                return  # not one of ours
            exchange.request_id = request_id
            exchange.address = variables.get("transportAddress")
            self.pending[request_id] = exchange
        elif exchange.reported:  # a resend after a report is not a retry
            exchange.reported = False
        else:
            exchange.stats.retries += 1
        exchange.stats.bytes_sent += len(variables.get("outgoingMessage") or b"")

    def _reported(self, address: Any) -> None:
        """An SNMPv3 report came from `address`: pysnmp resends what is pending there."""
        for exchange in self.pending.values():
            if exchange.address == address:
                exchange.reported = True

    def forget(self, exchange: _Exchange) -> None:
        if exchange.request_id is not None:
            self.pending.pop(exchange.request_id, None)


_TAPS: weakref.WeakKeyDictionary[Any, _EngineTap] = weakref.WeakKeyDictionary()


def _tap(engine: Any) -> _EngineTap:
    tap = _TAPS.get(engine)
    if tap is None:
        tap = _TAPS[engine] = _EngineTap()
        engine.observer.register_observer(
            tap.observe,
            "rfc3412.sendPdu",
            "rfc3412.receiveMessage:response",
            "rfc3412.prepareDataElements:internal",
        )
    return tap


def _varbind(name: Any, value: Any) -> VarBind:
    """A pysnmp (ObjectName, value) pair as a plain VarBind."""
    tag = _TAGS.get(value.tagSet)
    if tag is None:
        raise MalformedResponse("bad_type")
    decoded: Value
    if tag in _INTEGERS:
        decoded = int(value)
    elif tag in _OCTETS:
        decoded = bytes(value.asOctets())
    elif tag is Tag.OBJECT_IDENTIFIER:
        decoded = tuple(value.asTuple())
    else:
        decoded = None
    return VarBind(tuple(name.asTuple()), tag, decoded)


def _status_name(status: int) -> str:
    return _ERROR_STATUS[status] if 0 <= status < len(_ERROR_STATUS) else f"status {status}"


class PysnmpTransport:
    """`SnmpTransport` over pysnmp for one target (SNMPv1, v2c or v3).

    `engine` is a pysnmp `SnmpEngine` to share between transports (one per process and
    event loop); without one, this transport creates its own on first use and `close()`
    releases it. For SNMPv3 the security level follows the protocols given: no
    `auth_protocol` means noAuthNoPriv, and a password without its protocol is ignored.
    """

    def __init__(
        self,
        host: str,
        port: int = 161,
        *,
        version: str = "2c",
        community: str = "public",
        user: str | None = None,
        auth_protocol: str | None = None,
        auth_password: str | None = None,
        priv_protocol: str | None = None,
        priv_password: str | None = None,
        context: str = "",
        timeout: float = 2.0,
        retries: int = 1,
        engine: object | None = None,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"SNMP version must be one of {', '.join(VERSIONS)}, not {version!r}")
        if timeout <= 0 or retries < 0:
            raise ValueError("timeout must be positive and retries not negative")
        self.host, self.port, self.version = host, port, version
        self.timeout, self.retries = timeout, retries
        self.stats = RequestStats()
        self._engine: Any = engine
        self._own_engine = engine is None
        self._target: Any = None
        self._context_name = context.encode()
        self._auth: Any
        if version == "3":
            self._auth = self._usm(user, auth_protocol, auth_password, priv_protocol, priv_password)
        else:
            self._auth = hl.CommunityData(community, mpModel=0 if version == "1" else 1)

    @staticmethod
    def _usm(
        user: str | None,
        auth_protocol: str | None,
        auth_password: str | None,
        priv_protocol: str | None,
        priv_password: str | None,
    ) -> Any:
        if not user:
            raise ValueError("SNMPv3 needs a user")
        if auth_protocol is not None and auth_protocol not in AUTH_PROTOCOLS:
            raise ValueError(f"unknown auth protocol {auth_protocol!r}")
        if priv_protocol is not None and priv_protocol not in PRIV_PROTOCOLS:
            raise ValueError(f"unknown privacy protocol {priv_protocol!r}")
        if auth_protocol and auth_password is None:
            raise ValueError("auth_protocol needs auth_password")
        if priv_protocol and (priv_password is None or not auth_protocol):
            raise ValueError("priv_protocol needs priv_password and auth_protocol")
        return hl.UsmUserData(
            user,
            authKey=auth_password if auth_protocol else None,
            privKey=priv_password if priv_protocol else None,
            authProtocol=AUTH_PROTOCOLS[auth_protocol] if auth_protocol else None,
            privProtocol=PRIV_PROTOCOLS[priv_protocol] if priv_protocol else None,
        )

    @property
    def supports_bulk(self) -> bool:
        """False for SNMPv1, which has no GETBULK."""
        return self.version != "1"

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        """GET: one varbind per OID, in order; missing ones carry an exception tag."""
        return await self._request("get", oids)

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        """GETNEXT: the successor of each OID, in order."""
        return await self._request("getnext", oids)

    async def get_bulk(
        self, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]:
        """GETBULK (SNMPv2c/v3 only); the agent may return fewer rows than asked."""
        if not self.supports_bulk:
            raise TypeError("SNMPv1 has no GETBULK")
        return await self._request("getbulk", oids, non_repeaters, max_repetitions)

    async def close(self) -> None:
        """Release the transport dispatcher if this transport created the engine."""
        if self._own_engine and self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
        self._target = None

    async def _endpoint(self) -> Any:
        if self._target is None:
            try:
                is_v6 = ipaddress.ip_address(self.host).version == 6
            except ValueError:
                is_v6 = False
            cls = hl.Udp6TransportTarget if is_v6 else hl.UdpTransportTarget
            try:
                self._target = await cls.create(
                    (self.host, self.port), timeout=self.timeout, retries=self.retries
                )
            except PySnmpError as exc:
                raise TargetUnreachable(f"cannot resolve {self.host}: {exc}") from None
        return self._target

    async def _request(
        self, kind: str, oids: Sequence[Oid], non_rep: int = 0, max_rep: int = 0
    ) -> list[VarBind]:
        target = await self._endpoint()
        if self._engine is None:
            self._engine = hl.SnmpEngine()
        engine = self._engine
        tap = _tap(engine)
        varbinds = [(rfc1902.ObjectName(oid), _NULL) for oid in oids]
        future: asyncio.Future[tuple[Any, int, int, Sequence[Any]]]
        future = asyncio.get_running_loop().create_future()

        def done(
            _engine: Any,
            _handle: Any,
            indication: Any,
            status: Any,
            index: Any,
            answer: Any,
            _ctx: Any,
        ) -> None:
            if not future.done():
                future.set_result((indication, int(status or 0), int(index or 0), answer or ()))

        exchange = _Exchange(self.stats)
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        sending = _SENDING.set(exchange)
        try:
            addr_name, _ = _LCD.configure(engine, self._auth, target, self._context_name)
            if kind == "get":
                tap.get.send_varbinds(engine, addr_name, None, self._context_name, varbinds, done)
            elif kind == "getnext":
                tap.next.send_varbinds(engine, addr_name, None, self._context_name, varbinds, done)
            else:
                tap.bulk.send_varbinds(
                    engine, addr_name, None, self._context_name, non_rep, max_rep, varbinds, done
                )
        except CarrierError as exc:
            raise TargetUnreachable(f"{self.host}:{self.port}: {exc}") from None
        except StatusInformation as exc:  # refused before sending (e.g. message too big)
            raise self._indication_error(exc.get("errorIndication", str(exc))) from None
        except PySnmpError as exc:
            raise CollectError(f"{kind} to {self.host}:{self.port} failed: {exc}") from None
        finally:
            _SENDING.reset(sending)
        try:
            indication, status, index, answer = await future
        finally:
            tap.forget(exchange)
        if indication:
            raise self._indication_error(indication)
        self.stats.varbinds += len(answer)
        if status:
            return await self._status(kind, oids, status, index)
        out = [_varbind(name, value) for name, value in answer]
        if kind == "get" and [vb.oid for vb in out] != list(oids):
            raise MalformedResponse("answer_mismatch")
        if kind == "getnext" and len(out) != len(oids):
            raise MalformedResponse("answer_mismatch")
        return out

    def _indication_error(self, indication: Any) -> CollectError:
        """The error to raise for a pysnmp errorIndication."""
        if isinstance(indication, errind.RequestTimedOut):
            self.stats.timeouts += 1
            return TargetTimeout(f"no answer from {self.host}:{self.port}")
        if isinstance(indication, errind.TooBig):
            return TooBig(f"request to {self.host}:{self.port} too big to send")
        for cls, message in _AUTH_ERRORS:
            if isinstance(indication, cls):
                return AuthFailed(f"{self.host}:{self.port}: {message}")
        if isinstance(indication, str):  # pysnmp reports "badResponse" as a bare string
            return MalformedResponse("bad_response")
        return CollectError(f"{self.host}:{self.port}: {indication}")

    async def _status(
        self, kind: str, oids: Sequence[Oid], status: int, index: int
    ) -> list[VarBind]:
        """Handle an errorStatus in the response PDU."""
        if status == TOO_BIG:
            raise TooBig(f"{kind} of {len(oids)} varbinds too big for {self.host}:{self.port}")
        if (
            status == NO_SUCH_NAME
            and self.version == "1"
            and kind != "getbulk"
            and 1 <= index <= len(oids)
        ):
            # SNMPv1: one missing OID fails the whole PDU. Mark it and ask for the rest; a v1
            # agent names one failing varbind per answer, so this repeats at most len(oids) times.
            mark = Tag.END_OF_MIB_VIEW if kind == "getnext" else Tag.NO_SUCH_INSTANCE
            rest = [o for i, o in enumerate(oids) if i != index - 1]
            answers = await self._request(kind, rest) if rest else []
            answers.insert(index - 1, VarBind(oids[index - 1], mark, None))
            return answers
        raise AgentError(f"{kind}: agent error {_status_name(status)} at varbind {index}")
