"""Lean SNMPv3 against a real net-snmp snmpd on 127.0.0.1 with users this test creates."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from sobriety.errors import AuthFailed
from sobriety.snmp.credentials import Credentials
from sobriety.snmp.lean import SnmpClient
from sobriety.snmp.lean_v3 import LeanV3Transport
from sobriety.snmp.pysnmp_transport import PysnmpTransport
from sobriety.snmp.transport import walk
from tests.conftest import require_tool

pytestmark = pytest.mark.integration
SYS = [(1, 3, 6, 1, 2, 1, 1, 1, 0), (1, 3, 6, 1, 2, 1, 1, 5, 0)]
IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
USERS = {
    # user: (auth protocol, net-snmp name, auth pass, priv protocol, net-snmp name, priv pass)
    "u256": ("sha256", "SHA-256", "auth-pass-256", "aes128", "AES", "priv-pass-256"),
    "u512": ("sha512", "SHA-512", "auth-pass-512", "aes256", "AES256", "priv-pass-512"),
    "usha": ("sha", "SHA", "auth-pass-sha", "aes128", "AES", "priv-pass-sha"),
    "uauth": ("sha256", "SHA-256", "auth-only-pass", None, None, None),
}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = require_tool("snmpd")
    work = tmp_path_factory.mktemp("snmpd")
    port = free_udp_port()
    lines = ["sysName v3-test-agent"]
    for user, (_, auth, apass, priv, privname, ppass) in USERS.items():
        if priv:
            lines.append(f'createUser {user} {auth} "{apass}" {privname} "{ppass}"')
            lines.append(f"rouser {user} priv")
        else:
            lines.append(f'createUser {user} {auth} "{apass}"')
            lines.append(f"rouser {user} auth")
    (work / "snmpd.conf").write_text("\n".join(lines) + "\n")
    (work / "persist").mkdir()
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(work / "persist"), MIBS="")
    proc = subprocess.Popen(
        [
            binary,
            "-f",
            "-Lf",
            str(work / "log"),
            "-C",
            "-c",
            str(work / "snmpd.conf"),
            "-p",
            str(work / "pid"),
            f"udp:127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if (
            "NET-SNMP version" in (work / "log").read_text(errors="replace")
            if (work / "log").exists()
            else False
        ):
            break
        time.sleep(0.1)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def lean(client: SnmpClient, port: int, user: str, **override: str) -> LeanV3Transport:
    auth, _, apass, priv, _, ppass = USERS[user]
    settings = {"auth_password": apass, "priv_password": ppass or ""} | override
    return LeanV3Transport(
        client,
        "127.0.0.1",
        port,
        credentials=Credentials.usm(
            user, auth, settings["auth_password"], priv, settings["priv_password"] or None
        ),
        timeout=1.0,
        retries=1,
    )


@pytest.mark.parametrize("user", list(USERS))
async def test_v3_get_and_walk_agree_with_pysnmp(snmpd: int, user: str) -> None:
    client = SnmpClient()
    try:
        transport = lean(client, snmpd, user)
        got = await transport.get(SYS)
        assert got[1].value == b"v3-test-agent"
        rows = await walk(transport, IF_DESCR)
        assert rows
        auth, _, apass, priv, _, ppass = USERS[user]
        oracle = PysnmpTransport(
            "127.0.0.1",
            snmpd,
            credentials=Credentials.usm(user, auth, apass, priv, ppass),
        )
        try:
            assert await oracle.get(SYS) == got
            assert await walk(oracle, IF_DESCR) == rows
        finally:
            await oracle.close()
        # discovery once, then one request each: 1 + 1 GET, walks as for v2c
        assert transport.stats.get == 2
    finally:
        client.close()


@pytest.mark.parametrize(
    ("user", "override", "message"),
    [
        ("u256", {"auth_password": "wrong-password"}, "wrong digest"),
        ("u256", {"priv_password": "wrong-password"}, "priv password"),
    ],
)
async def test_wrong_password_is_auth_failed_not_a_timeout(
    snmpd: int, user: str, override: dict[str, str], message: str
) -> None:
    client = SnmpClient()
    try:
        transport = lean(client, snmpd, user, **override)
        started = time.monotonic()
        with pytest.raises(AuthFailed, match=message):
            await transport.get(SYS)
        elapsed = time.monotonic() - started
        if "auth_password" in override:
            assert elapsed < 1.0  # a wrongDigest Report answers at once
            assert transport.stats.timeouts == 0
        else:
            # no Report exists for a wrong priv key: one request timeout (1 s x 2 tries),
            # then a discovery probe that the agent answers
            assert elapsed < 2 * 1.0 + 1.0
    finally:
        client.close()


async def test_unknown_user_is_auth_failed(snmpd: int) -> None:
    client = SnmpClient()
    try:
        transport = LeanV3Transport(
            client,
            "127.0.0.1",
            snmpd,
            credentials=Credentials.usm("nobody-here", "sha256", "whatever-pass"),
            timeout=1.0,
            retries=0,
        )
        with pytest.raises(AuthFailed, match="unknown user"):
            await transport.get(SYS)
    finally:
        client.close()


async def test_time_window_resynchronises(snmpd: int) -> None:
    client = SnmpClient()
    try:
        transport = lean(client, snmpd, "u256")
        await transport.get(SYS)
        transport._engine_at -= 3600  # our idea of the agent's clock is an hour fast
        got = await transport.get(SYS)
        assert got[1].value == b"v3-test-agent"
    finally:
        client.close()
