"""SNMPv3 (USM) over the lean engine: discovery, time window, keys localised once.

The authoritative engine is discovered once per target (an empty, unauthenticated GET that
the agent answers with a Report naming its engine ID, boots and time); keys are localised
once per engine; the engine's clock is tracked from the monotonic clock and re-synchronised
when the agent reports notInTimeWindow. Reports for unknown users, wrong digests, decryption
errors and unsupported security levels become `AuthFailed` at once: never a timeout.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from sobriety.errors import AuthFailed, MalformedResponse, TargetTimeout
from sobriety.snmp import ber, usm, v3
from sobriety.snmp.credentials import Credentials
from sobriety.snmp.lean import LeanTransport, SnmpClient
from sobriety.snmp.types import Oid

AUTH_REPORTS = {
    v3.UNKNOWN_USER_NAMES: "unknown user name",
    v3.WRONG_DIGESTS: "wrong digest (auth password?)",
    v3.DECRYPTION_ERRORS: "decryption error (priv password?)",
    v3.UNSUPPORTED_SEC_LEVELS: "unsupported security level",
}


class LeanV3Transport(LeanTransport):
    """SnmpTransport for one SNMPv3 target over the shared client."""

    VERSIONS = ("3",)

    def __init__(
        self,
        client: SnmpClient,
        host: str,
        port: int = 161,
        *,
        credentials: Credentials,
        timeout: float = 2.0,
        retries: int = 1,
    ) -> None:
        super().__init__(client, host, port, credentials=credentials, timeout=timeout,
                         retries=retries)  # fmt: skip
        self.user = credentials.user.encode("utf-8")
        self.auth = (
            credentials.auth_protocol, credentials.auth_password,
            credentials.priv_protocol, credentials.priv_password,
        )  # fmt: skip
        self.context = credentials.context.encode("utf-8")
        self._engine: v3.SecurityParameters | None = None
        self._engine_at = 0.0
        self._keys: usm.UsmKeys | None = None
        self._salt = secrets.randbits(64)
        self._proven = False  # an authenticated answer came back with the current keys

    def _now(self) -> v3.SecurityParameters:
        assert self._engine is not None
        elapsed = int(time.monotonic() - self._engine_at)
        return v3.SecurityParameters(
            self._engine.engine_id, self._engine.boots, self._engine.time + elapsed, self.user
        )

    def _learn(self, security: v3.SecurityParameters) -> None:
        if self._engine is None or security.engine_id != self._engine.engine_id:
            self._keys = usm.localized_keys(security.engine_id, *self.auth)
            self._proven = False
        self._engine = security
        self._engine_at = time.monotonic()

    async def _discover(self) -> None:
        """Learn the agent's engine ID, boots and time (RFC 3414 §4)."""
        address = await self._resolve()
        msg_id = self.client._request_id()
        empty = v3.SecurityParameters(b"", 0, 0, b"")
        payload = v3.encode_v3(
            msg_id, empty, usm.UsmKeys(None, b"", None, b""), b"", ber.GET, msg_id, []
        )
        self.stats.get += 1
        _, raw = await self.client.exchange(
            address, payload, msg_id, self.stats, self.timeout, self.retries
        )
        answer = v3.decode_v3(raw, None)
        if answer.pdu.pdu_type != ber.REPORT or not answer.security.engine_id:
            raise MalformedResponse("no_engine_id")
        self._learn(answer.security)

    async def _exchange(
        self, pdu_type: int, oids: Sequence[Oid], non_rep: int, max_rep: int
    ) -> ber.Pdu:
        if self._engine is None:
            await self._discover()
        for attempt in range(2):  # at most one re-synchronisation
            try:
                answer = await self._once(pdu_type, oids, non_rep, max_rep)
            except TargetTimeout:
                await self._explain_silence()
                raise
            if answer.pdu.pdu_type != ber.REPORT:
                self._proven = True
                return answer.pdu
            reported = answer.pdu.varbinds[0].oid if answer.pdu.varbinds else ()
            if reported in AUTH_REPORTS:
                raise AuthFailed(f"{self.user.decode(errors='replace')}: {AUTH_REPORTS[reported]}")
            if attempt == 0 and reported == v3.NOT_IN_TIME_WINDOWS:
                self._learn(answer.security)
                continue
            if attempt == 0 and reported == v3.UNKNOWN_ENGINE_IDS:
                self._engine = None
                await self._discover()
                continue
            raise MalformedResponse("unexpected_report")
        raise AuthFailed("the agent keeps reporting a time window or engine ID problem")

    async def _explain_silence(self) -> None:
        """After an encrypted request timed out: if the agent still answers discovery, it is
        dropping what it cannot decrypt (AES-CFB carries no integrity, so no Report comes):
        that is a privacy password or protocol mismatch, not a dead device. Not once these
        keys have worked: then the silence is about this request (size, load), not the keys."""
        if self._keys is None or self._keys.priv_protocol is None or self._proven:
            return
        try:
            await self._discover()
        except TargetTimeout:
            return  # silent to everything: really unreachable
        raise AuthFailed(
            f"{self.user.decode(errors='replace')}: the agent answers discovery but not "
            "encrypted requests (priv password or protocol?)"
        )

    async def _once(
        self, pdu_type: int, oids: Sequence[Oid], non_rep: int, max_rep: int
    ) -> v3.V3Answer:
        assert self._keys is not None
        address = await self._resolve()
        msg_id = self.client._request_id()
        self._salt = (self._salt + 1) % 2**64
        payload = v3.encode_v3(
            msg_id, self._now(), self._keys, self._salt.to_bytes(8, "big"),
            pdu_type, msg_id, oids, non_rep, max_rep, self.context,
        )  # fmt: skip
        _, raw = await self.client.exchange(
            address, payload, msg_id, self.stats, self.timeout, self.retries
        )
        return v3.decode_v3(raw, self._keys)
