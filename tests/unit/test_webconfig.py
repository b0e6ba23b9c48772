"""The web config file (exporter-toolkit format): what loads, and every problem at once."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from sobriety.daemon.webaccess import TokenBucket, basic_credentials
from sobriety.daemon.webconfig import PeerNames, RateLimit, load_web_config
from sobriety.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
HASH = "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"  # the toolkit's sample


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    return [str(p) for p in caught.value.problems]


def test_no_file_and_an_empty_file_mean_plain_http_without_auth(tmp_path: Path) -> None:
    assert not load_web_config(None).tls
    empty = tmp_path / "web.yml"
    empty.write_text("")
    config = load_web_config(empty)
    assert not config.tls and not config.auth and config.rate_limit is None


def test_the_shipped_example_is_a_valid_file() -> None:
    example = ROOT / "config" / "systemd" / "web-config.yml"
    config = load_web_config(example)
    assert config.auth and not config.tls
    assert config.http_server_config.headers["X-Content-Type-Options"] == "nosniff"


def test_every_problem_is_reported_with_file_section_and_field(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text(
        "tls_server_config:\n"
        "  cert_file: server.crt\n"
        "  cert: inline\n"
        "  client_auth_type: RequireAnyClientCert\n"
        "  min_version: TLS13\n"
        "  max_version: TLS12\n"
        "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
        "  curve_preferences: [X25519]\n"
        "http_server_config:\n"
        "  headers: {X-Frame-Options: allow, Server: me}\n"
        f"basic_auth_users: {{alice: '{HASH}', bob: secret}}\n"
        "rate_limit: {interval: 1s}\n"
        "tls_config: {}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_web_config(path)
    found = [str(p) for p in caught.value.problems]
    assert {p.file for p in caught.value.problems} == {str(path)}
    assert [(p.entry, p.field) for p in caught.value.problems] == [
        ("tls_server_config", "cert"),
        ("tls_server_config", "key_file"),
        ("tls_server_config", "client_auth_type"),
        ("tls_server_config", "min_version"),
        ("tls_server_config", "cipher_suites[0]"),
        ("tls_server_config", "curve_preferences"),
        ("http_server_config", "headers.X-Frame-Options"),
        ("http_server_config", "headers.Server"),
        ("basic_auth_users", "bob"),
        ("rate_limit", "burst"),
        ("tls_config", "-"),
    ], found
    assert "secret" not in "\n".join(found)  # a password put where a hash goes is not echoed


def test_tls_files_that_do_not_load_are_named(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    (tmp_path / "bad.crt").write_text("not a certificate")
    path.write_text(
        "tls_server_config: {cert_file: bad.crt, key_file: missing.key,"
        " client_auth_type: RequireAndVerifyClientCert, client_ca_file: /nonexistent/ca.pem}\n"
    )
    assert problems(path) == [
        f"{path}: tls_server_config: key_file: cannot read {tmp_path / 'missing.key'}: "
        "No such file or directory",
        f"{path}: tls_server_config: client_ca_file: cannot read /nonexistent/ca.pem: "
        "No such file or directory",
    ]
    (tmp_path / "missing.key").write_text("not a key either")
    path.write_text("tls_server_config: {cert_file: bad.crt, key_file: missing.key}\n")
    (found,) = problems(path)
    assert found.startswith(f"{path}: tls_server_config: cert_file: does not load: ")


def test_client_ca_needs_a_policy_and_a_policy_needs_a_ca(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    path.write_text("tls_server_config: {cert: x, key: y, client_ca_file: ca.pem}\n")
    assert problems(path) == [
        f"{path}: tls_server_config: client_auth_type: "
        "client CAs are configured without a client auth policy"
    ]
    path.write_text(
        "tls_server_config: {cert: x, key: y, client_auth_type: VerifyClientCertIfGiven}\n"
    )
    assert problems(path) == [
        f"{path}: tls_server_config: client_ca_file: VerifyClientCertIfGiven needs a client CA"
    ]


def test_unreadable_or_not_yaml(tmp_path: Path) -> None:
    assert problems(tmp_path / "absent.yml") == [
        f"{tmp_path / 'absent.yml'}: -: -: cannot read: No such file or directory"
    ]
    junk = tmp_path / "junk.yml"
    junk.write_text("- a list\n")
    assert problems(junk) == [f"{junk}: -: -: a mapping of sections"]


def test_basic_credentials_follow_rfc_7617() -> None:
    assert basic_credentials("Basic YWxpY2U6b3Blbjpzw6lzYW1l") == (b"alice", "open:sésame".encode())
    assert basic_credentials("basic YWxpY2U6") == (b"alice", b"")
    assert basic_credentials("Bearer abc") is None
    assert basic_credentials("Basic !!!") is None
    assert basic_credentials("Basic YWxpY2U=") is None  # no colon


def test_token_bucket_allows_a_burst_then_one_per_interval() -> None:
    assert TokenBucket.of(None) is None
    assert TokenBucket.of(RateLimit(interval=0, burst=5)) is None
    bucket = TokenBucket.of(RateLimit(interval=3600, burst=3))
    assert bucket is not None
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_peer_names_match_any_san() -> None:
    cert = {"subjectAltName": (("DNS", "prom.example"), ("IP Address", "127.0.0.1"))}
    assert PeerNames.of(cert).allowed(("127.0.0.1",))
    assert PeerNames.of(cert).allowed(())
    assert not PeerNames.of(cert).allowed(("other.example",))
    assert not PeerNames.of(None).allowed(("prom.example",))


def test_versions_and_ciphers_reach_the_context(tmp_path: Path) -> None:
    from sobriety.daemon.webconfig import tls_context
    from tests.integration.tlsfiles import Pki

    pki = Pki(tmp_path)
    server = pki.server()
    path = tmp_path / "web.yml"
    path.write_text(
        f"tls_server_config: {{cert_file: {server.cert.name}, key_file: {server.key.name},"
        " min_version: TLS12, max_version: TLS12,"
        " cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]}\n"
    )
    context = tls_context(load_web_config(path))
    assert context is not None
    assert context.maximum_version == ssl.TLSVersion.TLSv1_2
    names = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert names == {"ECDHE-ECDSA-AES128-GCM-SHA256"}
