"""The lean client against a hostile agent on loopback: everything odd is counted and dropped."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import cast

import pytest

from sobriety.errors import MalformedResponse, TargetTimeout, TruncatedResponse, WrongRequestId
from sobriety.snmp import ber
from sobriety.snmp.lean import MAX_DATAGRAM, RECEIVE_BYTES, LeanTransport, SnmpClient
from sobriety.snmp.transport import walk
from sobriety.snmp.types import Tag

pytestmark = pytest.mark.integration
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)


def answer(
    request: bytes,
    *,
    request_id: int | None = None,
    varbinds: bytes | None = None,
    pdu_type: int = 0xA2,
    error_status: int = 0,
) -> bytes:
    """A v2c Response to `request` (re-encoded by hand, so it can be bent)."""
    rid = as_response(request).pdu.request_id if request_id is None else request_id
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
    pdu_body = ber.encode_integer(rid) + bytes([2, 1, error_status, 2, 1, 0]) + vbl
    pdu = bytes([pdu_type, len(pdu_body)]) + pdu_body
    msg_body = b"\x02\x01\x01\x04\x06public" + pdu
    return b"\x30" + bytes([len(msg_body)]) + msg_body


def as_response(request: bytes) -> ber.Message:
    """Decode a v2c request (community "public") by relabelling its PDU as a Response."""
    at = 2 + 3 + 2 + len(b"public")
    assert request[at] in (ber.GET, ber.GET_NEXT, ber.GET_BULK)
    return ber.decode_message(request[:at] + b"\xa2" + request[at + 1 :])


def uptime_varbinds(count: int) -> bytes:
    one = ber.encode_oid(SYS_UPTIME) + b"\x43\x02\x30\x39"
    return (b"\x30" + bytes([len(one)]) + one) * count


def largest_answer(request: bytes) -> bytes:
    """An answer to `request` of the largest datagram IPv4 carries: one OCTET STRING."""
    rid = as_response(request).pdu.request_id

    def message(octets: int) -> bytes:
        varbind = ber._tlv(0x30, ber.encode_oid(SYS_UPTIME) + ber._tlv(0x04, b"x" * octets))
        pdu = ber._tlv(0xA2, ber.encode_integer(rid) + bytes([2, 1, 0, 2, 1, 0])
                       + ber._tlv(0x30, varbind))  # fmt: skip
        return ber._tlv(0x30, b"\x02\x01\x01\x04\x06public" + pdu)

    overhead = len(message(MAX_DATAGRAM - 100)) - (MAX_DATAGRAM - 100)  # same length forms
    return message(MAX_DATAGRAM - overhead)


class HostileAgent(asyncio.DatagramProtocol):
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.requests: list[int] = []  # PDU types received
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
        elif self.behaviour == "garbage_only":
            send(b"\x04\x05hello", addr)  # an OCTET STRING, not a message
        elif self.behaviour == "truncated_only":
            send(answer(data)[:-3], addr)  # a real answer, cut short
        elif self.behaviour == "wrong_id_only":
            send(answer(data, request_id=999), addr)
        elif self.behaviour == "wrong_answer":
            send(answer(data, varbinds=b""), addr)  # an answer with no varbinds
        elif self.behaviour == "report":
            send(answer(data, pdu_type=0xA8), addr)
        elif self.behaviour == "silent":
            pass
        elif self.behaviour == "largest":
            send(largest_answer(data), addr)
        elif self.behaviour == "dies_after_get":
            if data[2 + 3 + 2 + 6] == ber.GET:
                send(answer(data), addr)
        elif self.behaviour in ("chokes_on_big_bulks", "too_big"):
            self.requests.append(data[2 + 3 + 2 + 6])
            pdu = as_response(data).pdu
            bulk = data[2 + 3 + 2 + 6] == ber.GET_BULK
            big = pdu.error_index > 5 if bulk else len(pdu.varbinds) > 2
            if not big:
                send(answer(data, varbinds=uptime_varbinds(len(pdu.varbinds))), addr)
            elif self.behaviour == "too_big":
                send(answer(data, varbinds=b"", error_status=1), addr)


@contextlib.asynccontextmanager
async def hostile(behaviour: str) -> AsyncIterator[tuple[int, SnmpClient]]:
    """A hostile agent on a free loopback port and a client; both closed afterwards."""
    loop = asyncio.get_running_loop()
    transport, agent = await loop.create_datagram_endpoint(
        lambda: HostileAgent(behaviour), local_addr=("127.0.0.1", 0)
    )
    client = SnmpClient()
    try:
        yield int(transport.get_extra_info("sockname")[1]), client
    finally:
        client.close()
        agent.other.close()
        transport.close()


async def test_noise_is_counted_and_the_real_answer_wins() -> None:
    async with hostile("noisy") as (port, client):
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


async def test_the_largest_datagram_arrives_whole_through_a_read_of_a_datagram() -> None:
    async with hostile("largest") as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=1.0, retries=0)
        (vb,) = await transport.get([SYS_UPTIME])
        assert vb.tag is Tag.OCTET_STRING and isinstance(vb.value, bytes)
        assert len(vb.value) > MAX_DATAGRAM - 100  # nothing cut: the answer was 65,507 bytes
        # each read asks for one datagram's worth, not asyncio's 256 KiB (an mmap per read)
        (socket_,) = client._transports.values()
        assert socket_.max_size == RECEIVE_BYTES  # type: ignore[attr-defined]


@pytest.mark.parametrize("behaviour", ["wrong_answer", "report"])
async def test_answers_that_do_not_fit_the_request_are_malformed(behaviour: str) -> None:
    async with hostile(behaviour) as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=1.0, retries=0)
        with pytest.raises(MalformedResponse):
            await transport.get([SYS_UPTIME])


@pytest.mark.parametrize(
    ("behaviour", "error", "reason"),
    [
        ("garbage_only", MalformedResponse, "malformed"),
        ("truncated_only", TruncatedResponse, "truncated"),
        ("wrong_id_only", WrongRequestId, "wrong_request_id"),
    ],
)
async def test_what_a_target_sent_instead_of_its_answer_is_the_reason(
    behaviour: str, error: type[Exception], reason: str
) -> None:
    async with hostile(behaviour) as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=0.3, retries=1)
        with pytest.raises(error) as caught:
            await transport.get([SYS_UPTIME])
        assert getattr(caught.value, "reason", None) == reason
        assert transport.stats.timeouts == 0  # it answered, just not usefully
        assert transport.stats.retries == 1  # asked again before giving up
        assert sum(client.counters.dropped.values()) == 2  # each datagram counted too


async def test_silent_agent_times_out_on_time_and_is_retried() -> None:
    async with hostile("silent") as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=0.3, retries=2)
        started = time.monotonic()
        with pytest.raises(TargetTimeout):
            await transport.get([SYS_UPTIME])
        assert 0.85 < time.monotonic() - started < 2.0
        assert (transport.stats.timeouts, transport.stats.retries) == (1, 2)
        assert transport.stats.bytes_sent > 0


async def test_getbulk_shrinks_when_a_live_agent_chokes_on_its_size() -> None:
    column = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)
    async with hostile("chokes_on_big_bulks") as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=0.2, retries=0)
        await transport.get([SYS_UPTIME])  # the agent answers: it is alive
        assert await walk(transport, column) == []  # 25 rows: silence; 6: silence; 1: answer
        assert transport.stats.bulk_shrinks == {"timeout": 2}
        assert transport.stats.timeouts == 2
        assert transport.bulk_limit == 1
        await walk(transport, column)  # remembered: straight to one row
        assert transport.stats.timeouts == 2
        assert transport.stats.getbulk == 4
        # a target that has not answered yet is not retried smaller: it is just down
        fresh = LeanTransport(client, "127.0.0.1", port, timeout=0.2, retries=0)
        with pytest.raises(TargetTimeout):
            await walk(fresh, column)
        assert fresh.stats.getbulk == 1


async def test_too_big_splits_gets_and_shrinks_getbulks() -> None:
    async with hostile("too_big") as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=1.0, retries=0)
        answers = await transport.get([SYS_UPTIME] * 5)  # 5 -> 2 + 3 -> 2 + (1 + 2)
        assert [vb.value for vb in answers] == [12345] * 5
        assert transport.stats.get == 5
        await walk(transport, (1, 3, 6, 1, 2, 1, 2, 2, 1, 8), max_repetitions=20)
        assert transport.stats.bulk_shrinks == {"too_big": 2}  # 20 -> 10 -> 5
        assert transport.bulk_limit == 5
        assert transport.stats.timeouts == 0


async def test_a_device_that_dies_mid_walk_keeps_its_getbulk_size() -> None:
    async with hostile("dies_after_get") as (port, client):
        transport = LeanTransport(client, "127.0.0.1", port, timeout=0.2, retries=0)
        await transport.get([SYS_UPTIME])
        with pytest.raises(TargetTimeout):
            await walk(transport, (1, 3, 6, 1, 2, 1, 2, 2, 1, 8))
        assert transport.stats.getbulk == 3  # 25 rows, then 6, then 1: all silent
        assert transport.bulk_limit is None  # nothing learnt from a dead device
