"""E-mail recipients routed by labels (site, severity), and the SMTP settings' checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.alerts.notify import EmailNotifier, MailRoute
from sobriety.config.load import load_config
from sobriety.errors import ConfigError


def notifier() -> EmailNotifier:
    routes = [
        MailRoute({"site": ("college",), "severity": ("critical",)}, ("principal@c.example",)),
        MailRoute({"site": ("college",)}, ("it-college@c.example",), continue_=True),
        MailRoute({"site": ("college", "lycee")}, ("syndicate@s.example",)),
    ]
    return EmailNotifier("127.0.0.1", 25, "s@example.org", ["it@example.org"], routes=routes)


@pytest.mark.parametrize(
    ("labels", "to"),
    [
        ({"site": "college", "severity": "critical"}, ("principal@c.example",)),
        (
            {"site": "college", "severity": "warning"},
            ("it-college@c.example", "syndicate@s.example"),
        ),
        ({"site": "lycee", "severity": "critical"}, ("syndicate@s.example",)),
        ({"site": "datacentre", "severity": "critical"}, ("it@example.org",)),
        ({"severity": "critical"}, ("it@example.org",)),
    ],
)
def test_first_matching_route_wins_unless_it_continues(
    labels: dict[str, str], to: tuple[str, ...]
) -> None:
    assert notifier().recipients_of(labels) == to


def config_with(tmp_path: Path, email: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        "settings:\n  alerting:\n    email: " + email + "\ntargets: [{id: h, kind: host}]\n"
    )
    return path


def test_port_465_means_implicit_tls_and_starttls_stays_accepted(tmp_path: Path) -> None:
    mail = load_config(config_with(tmp_path, "{host: mx, port: 465, from: a@b.c, to: [x@y.z]}"))
    assert mail.settings.alerting.email is not None
    assert mail.settings.alerting.email.security == "implicit"
    old = load_config(config_with(tmp_path, "{host: mx, starttls: true, from: a@b.c, to: [x@y]}"))
    assert old.settings.alerting.email is not None
    assert old.settings.alerting.email.security == "starttls"


def test_contradictions_and_missing_recipients_are_problems(tmp_path: Path) -> None:
    path = config_with(
        tmp_path, "{host: mx, tls: implicit, starttls: true, password: p, from: a@b.c}"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    fields = [(p.entry, p.field) for p in caught.value.problems]
    assert fields == [
        ("settings", "alerting.email.starttls"),
        ("settings", "alerting.email.to"),
        ("settings", "alerting.email.username"),
    ]
