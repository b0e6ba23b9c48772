"""Alerts can be routed per school: a firing alert of a target of site `college` carries
`site="college"` (and its class and inventory labels) in the daemon's notifications and in
`sobriety_alert_active`; e-mail goes to the college's recipients, over implicit TLS (SMTPS)
with a login, to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from email import message_from_bytes
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sobriety.clock import ManualClock
from sobriety.config.load import AuthConfig, Config, TargetConfig
from sobriety.daemon.app import Daemon
from sobriety.daemon.lifecycle import Lifecycle
from sobriety.daemon.runtime import World
from sobriety.snmp.snmprec import RecordedTransport, load_snmprec
from sobriety.snmp.transport import SnmpTransport
from tests.integration.demo import webhook
from tests.integration.test_notifications import Inbox, free_port
from tests.integration.tlsfiles import Pki

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# measured: notifications arrive ~0.1 s after the poll on an idle 2-core box; x3, floor 15 s
DELIVERY_TIMEOUT = 15.0


def recorded(target: TargetConfig, auth: AuthConfig, config: Config) -> SnmpTransport:
    return RecordedTransport(load_snmprec(ROOT / "recordings" / f"{target.id}.snmprec"))


class Logins:
    def __init__(self) -> None:
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(self, server: object, session: object, envelope: object, mechanism: str,
                 data: object) -> AuthResult:  # fmt: skip
        assert isinstance(data, LoginPassword)
        self.seen.append((data.login, data.password))
        return AuthResult(success=data.password == b"mail-secret")


async def test_a_college_alert_carries_its_site_and_reaches_the_college(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    server = pki.issue("smtp", dns=("localhost",), ips=("127.0.0.1",))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(server.cert), str(server.key))
    inbox, logins = Inbox(), Logins()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=context,
                      authenticator=logins, auth_require_tls=False)  # fmt: skip
    smtp.start()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "name": "UpsWatched",
                        "metric": "sobriety_ups_battery_charge_ratio",
                        "op": "<=",
                        "raise": 1,
                        "severity": "critical",
                        "summary": "{{ $labels.target }} at {{ $labels.site }}",
                    }
                ]
            }
        )
    )
    (tmp_path / "mail-password").write_text("mail-secret\n")
    try:
        async with webhook() as (hook_url, hooks):
            config = tmp_path / "sobriety.yaml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "settings": {
                            "listen": f"127.0.0.1:{free_port()}",
                            "data_dir": "state",
                            "alerting": {
                                "shipped_rules": False,
                                "rule_files": [str(rules)],
                                "webhook": hook_url,
                                "log": False,
                                "email": {
                                    "host": "127.0.0.1",
                                    "port": smtp.port,
                                    "tls": "implicit",
                                    "ca_file": str(pki.ca),
                                    "username": "sobriety",
                                    "password": {"file": "mail-password"},
                                    "from": "sobriety@example.org",
                                    "to": ["it@example.org"],
                                    "routes": [
                                        {
                                            "match": {"site": "college", "severity": "critical"},
                                            "to": ["principal@college.example"],
                                        },
                                    ],
                                },
                            },
                        },
                        "auths": {"ups": {"version": "2c", "community": "apc_smx750i"}},
                        "sites": {"college": {"timezone": "Europe/Paris"}},
                        "targets": [
                            {
                                "id": "apc_smx750i",
                                "address": "127.0.0.1",
                                "auth": "ups",
                                "site": "college",
                                "class": "ups",
                                "building": "A",
                            },
                        ],
                    }
                )
            )
            daemon = Daemon(config, World(clock=ManualClock(), transport_factory=recorded))
            lifecycle = Lifecycle(daemon)
            await lifecycle.start()
            try:
                result = await daemon.poller.poll(daemon.runtime.collectors["apc_smx750i"])
                assert result is not None and result.up
                deadline = time.monotonic() + DELIVERY_TIMEOUT
                while not (hooks and inbox.messages):
                    assert time.monotonic() < deadline, "no notification"
                    await asyncio.sleep(0.1)
                active = [s for s in daemon.samples() if s.name == "sobriety_alert_active"]
            finally:
                await lifecycle.stop()
    finally:
        smtp.stop()
    (alert,) = hooks[0]["alerts"]  # type: ignore[index]
    assert alert["labels"] == {
        "alertname": "UpsWatched", "severity": "critical", "target": "apc_smx750i",
        "site": "college", "class": "ups", "building": "A",
    }  # fmt: skip
    assert alert["annotations"]["summary"] == "apc_smx750i at college"
    assert [s.labels["site"] for s in active] == ["college"]
    mail = message_from_bytes(inbox.messages[0])
    assert mail["To"] == "principal@college.example"  # the route, not the default list
    assert "site=college" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert logins.seen == [(b"sobriety", b"mail-secret")]
    with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):  # the port speaks TLS only
        smtplib.SMTP("127.0.0.1", smtp.port, timeout=5).ehlo()
