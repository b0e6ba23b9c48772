"""The live SNMP transport for now: pysnmp 7's asyncio API, MIB lookups off.

One request PDU per call, mapped to plain `VarBind`s. pysnmp retries internally, so retries
are not counted here (its API does not report them); timeouts are. Byte counts are not
available from the hlapi either and stay 0. The lean engine of issue 4 replaces this hot path
behind the same `SnmpTransport` protocol. There is no method that sends a SET.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from pysnmp.hlapi.v3arch import asyncio as hl
from pysnmp.proto import errind

from sobriety.errors import AgentError, AuthFailed, CollectError, TargetTimeout, TargetUnreachable
from sobriety.snmp.credentials import PUBLIC, Credentials
from sobriety.snmp.transport import RequestStats
from sobriety.snmp.types import Oid, Tag, Value, VarBind, format_oid

AUTH_PROTOCOLS = {
    "md5": hl.usmHMACMD5AuthProtocol,
    "sha": hl.usmHMACSHAAuthProtocol,
    "sha224": hl.usmHMAC128SHA224AuthProtocol,
    "sha256": hl.usmHMAC192SHA256AuthProtocol,
    "sha384": hl.usmHMAC256SHA384AuthProtocol,
    "sha512": hl.usmHMAC384SHA512AuthProtocol,
}
PRIV_PROTOCOLS = {
    "des": hl.usmDESPrivProtocol,
    "aes128": hl.usmAesCfb128Protocol,
    "aes192": hl.usmAesCfb192Protocol,
    "aes256": hl.usmAesCfb256Protocol,
}
AUTH_ERRORS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.UnknownSecurityName,
    errind.NotInTimeWindow,
)


def _tag(value: Any) -> Tag:
    base = value.tagSet[0]
    return Tag(base.tagClass | base.tagId)


def _value(tag: Tag, value: Any) -> Value:
    if tag in (Tag.INTEGER, Tag.COUNTER32, Tag.GAUGE32, Tag.TIMETICKS, Tag.COUNTER64):
        return int(value)
    if tag in (Tag.OCTET_STRING, Tag.IP_ADDRESS, Tag.OPAQUE):
        return bytes(value.asOctets())
    if tag is Tag.OBJECT_IDENTIFIER:
        return tuple(int(x) for x in value)
    return None


class PysnmpTransport:
    """SnmpTransport over pysnmp for one target."""

    def __init__(
        self,
        host: str,
        port: int = 161,
        *,
        credentials: Credentials = PUBLIC,
        timeout: float = 2.0,
        retries: int = 1,
        engine: Any | None = None,
    ) -> None:
        self.host, self.port, self.version = host, port, credentials.version
        self.timeout, self.retries = timeout, retries
        self.stats = RequestStats()
        self._own_engine = engine is None
        self._engine = engine if engine is not None else hl.SnmpEngine()
        self._target: Any | None = None
        context = credentials.context
        self._context = (
            hl.ContextData(contextName=context.encode()) if context else hl.ContextData()
        )
        if credentials.version == "3":
            auth, priv = credentials.auth_protocol, credentials.priv_protocol
            self._auth: Any = hl.UsmUserData(
                credentials.user,
                authKey=credentials.auth_password,
                privKey=credentials.priv_password,
                authProtocol=AUTH_PROTOCOLS[auth] if auth else None,
                privProtocol=PRIV_PROTOCOLS[priv] if priv else None,
            )
        else:
            mp_model = 0 if credentials.version == "1" else 1
            self._auth = hl.CommunityData(credentials.community, mpModel=mp_model)

    @property
    def supports_bulk(self) -> bool:
        return self.version != "1"

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
            except Exception as exc:  # resolution failures come in several shapes
                raise TargetUnreachable(f"cannot resolve {self.host}: {exc}") from exc
        return self._target

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._request("get", oids)

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        return await self._request("getnext", oids)

    async def get_bulk(
        self, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]:
        if not self.supports_bulk:
            raise TypeError("SNMPv1 has no GETBULK")
        return await self._request("getbulk", oids, max_repetitions, non_repeaters)

    async def _request(
        self, kind: str, oids: Sequence[Oid], max_rep: int = 0, non_rep: int = 0
    ) -> list[VarBind]:
        target = await self._endpoint()
        objects = [hl.ObjectType(hl.ObjectIdentity(format_oid(o))) for o in oids]
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        args = (self._engine, self._auth, target, self._context)
        if kind == "get":
            result = await hl.get_cmd(*args, *objects, lookupMib=False)
        elif kind == "getnext":
            result = await hl.next_cmd(*args, *objects, lookupMib=False)
        else:
            result = await hl.bulk_cmd(*args, non_rep, max_rep, *objects, lookupMib=False)
        error_indication, error_status, error_index, var_binds = result
        if error_indication:
            self._raise(error_indication)
        if error_status:
            return await self._status(kind, oids, str(error_status), int(error_index))
        out = [self._varbind(vb) for vb in var_binds]
        self.stats.varbinds += len(out)
        return out

    def _raise(self, indication: Any) -> None:
        if isinstance(indication, errind.RequestTimedOut):
            self.stats.timeouts += 1
            raise TargetTimeout(f"no answer from {self.host}:{self.port}")
        if isinstance(indication, AUTH_ERRORS):
            raise AuthFailed(str(indication))
        raise CollectError(str(indication))

    async def _status(
        self, kind: str, oids: Sequence[Oid], status: str, index: int
    ) -> list[VarBind]:
        if status == "tooBig":
            raise AgentError(f"{kind} of {len(oids)} varbinds too big for {self.host}")
        if status == "noSuchName" and self.version == "1" and 1 <= index <= len(oids):
            # SNMPv1: one missing OID fails the whole PDU. Mark it and ask for the rest.
            missing = oids[index - 1]
            mark = Tag.END_OF_MIB_VIEW if kind == "getnext" else Tag.NO_SUCH_INSTANCE
            rest = [o for i, o in enumerate(oids) if i != index - 1]
            answers = await self._request(kind, rest) if rest else []
            answers.insert(index - 1, VarBind(missing, mark, None))
            return answers
        raise AgentError(f"{kind}: agent error {status} at varbind {index}")

    @staticmethod
    def _varbind(vb: Any) -> VarBind:
        name, value = vb[0], vb[1]
        tag = _tag(value)
        return VarBind(tuple(int(x) for x in name), tag, _value(tag, value))

    async def close(self) -> None:
        if self._own_engine:
            self._engine.close_dispatcher()
