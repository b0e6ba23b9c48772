"""The lean client against a hostile agent on loopback: everything odd is counted and dropped."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import cast

import pytest

from sobriety.errors import MalformedResponse, TargetTimeout
from sobriety.snmp import ber
from sobriety.snmp.lean import LeanTransport, SnmpClient
from sobriety.snmp.types import Tag

pytestmark = pytest.mark.integration
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)


def answer(
    request: bytes,
    *,
    request_id: int | None = None,
    varbinds: bytes | None = None,
    pdu_type: int = 0xA2,
) -> bytes:
    """A v2c Response to `request` (re-encoded by hand, so it can be bent)."""
    message = ber.decode_message(request.replace(b"\xa0", b"\xa2", 1))
    rid = message.pdu.request_id if request_id is None else request_id
    body = (
        varbinds
        if varbinds is not None
        else (
            b"\x30"
            + bytes([len(ber.encode_oid(SYS_UPTIME)) + 4])
            + ber.encode_oid(SYS_UPTIME)
            + b"\x43\x02\x30\x39"
        )
    )
    vbl = b"\x30" + bytes([len(body)]) + body
    pdu_body = ber.encode_integer(rid) + b"\x02\x01\x00\x02\x01\x00" + vbl
    pdu = bytes([pdu_type, len(pdu_body)]) + pdu_body
    msg_body = b"\x02\x01\x01\x04\x06public" + pdu
    return b"\x30" + bytes([len(msg_body)]) + msg_body


class HostileAgent(asyncio.DatagramProtocol):
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.transport: asyncio.DatagramTransport | None = None
        self.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.other.bind(("127.0.0.1", 0))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        assert self.transport is not None
        send = self.transport.sendto
        if self.behaviour == "noisy":
            send(b"\x30\x03\x02\x01", addr)  # truncated garbage
            send(answer(data, request_id=999), addr)  # someone else's request-id
            self.other.sendto(answer(data), addr)  # right id, wrong source port
            send(answer(data), addr)  # the real one
            send(answer(data), addr)  # and a duplicate
        elif self.behaviour == "wrong_answer":
            send(answer(data, varbinds=b""), addr)  # an answer with no varbinds
        elif self.behaviour == "report":
            send(answer(data, pdu_type=0xA8), addr)
        elif self.behaviour == "silent":
            pass


async def start(behaviour: str) -> tuple[HostileAgent, int]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: HostileAgent(behaviour), local_addr=("127.0.0.1", 0)
    )
    return protocol, int(transport.get_extra_info("sockname")[1])


async def test_noise_is_counted_and_the_real_answer_wins() -> None:
    agent, port = await start("noisy")
    client = SnmpClient()
    try:
        transport = LeanTransport(client, "127.0.0.1", port, timeout=1.0, retries=0)
        (vb,) = await transport.get([SYS_UPTIME])
        assert (vb.tag, vb.value) == (Tag.TIMETICKS, 12345)
        await asyncio.sleep(0.2)  # let the late duplicate arrive
        dropped = client.counters.dropped
        assert dropped["malformed_truncated"] == 1
        # someone else's id, then the duplicate (counted as such while the request is still
        # registered, as an unknown id once it is gone)
        assert dropped.get("unknown_request_id", 0) + dropped.get("duplicate", 0) == 2
        assert dropped["wrong_source"] == 1
    finally:
        client.close()
        agent.other.close()
        assert agent.transport is not None
        agent.transport.close()


@pytest.mark.parametrize("behaviour", ["wrong_answer", "report"])
async def test_answers_that_do_not_fit_the_request_are_malformed(behaviour: str) -> None:
    agent, port = await start(behaviour)
    client = SnmpClient()
    try:
        transport = LeanTransport(client, "127.0.0.1", port, timeout=1.0, retries=0)
        with pytest.raises(MalformedResponse):
            await transport.get([SYS_UPTIME])
    finally:
        client.close()
        agent.other.close()
        assert agent.transport is not None
        agent.transport.close()


async def test_silent_agent_times_out_on_time_and_is_retried() -> None:
    agent, port = await start("silent")
    client = SnmpClient()
    try:
        transport = LeanTransport(client, "127.0.0.1", port, timeout=0.3, retries=2)
        started = time.monotonic()
        with pytest.raises(TargetTimeout):
            await transport.get([SYS_UPTIME])
        assert 0.85 < time.monotonic() - started < 2.0
        assert (transport.stats.timeouts, transport.stats.retries) == (1, 2)
        assert transport.stats.bytes_sent > 0
    finally:
        client.close()
        agent.other.close()
        assert agent.transport is not None
        agent.transport.close()
