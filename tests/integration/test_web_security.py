"""`sobriety run` behind TLS and basic auth, as an exporter is: a real Prometheus scrapes it
over TLS with a password; without credentials every endpoint answers 401; reload needs
`--web.enable-lifecycle` and refuses what a web page could send; client certificates."""

from __future__ import annotations

import asyncio
import base64
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.conftest import require_tool
from tests.integration.test_daemon import free_tcp_port
from tests.integration.tlsfiles import Pair, Pki, bcrypt_hash

pytestmark = pytest.mark.integration
GETS = ["/", "/metrics", "/-/healthy", "/-/ready", "/reports/end-of-life",
        "/reports/end-of-life.csv", "/reports/end-of-life.ods", "/reports/radio"]  # fmt: skip
PASSWORD = "correct horse battery staple"
# measured: `sobriety run` answers /-/ready in ~1.5 s on an idle 2-core box; x3 plus margin
READY_TIMEOUT = 20.0


def daemon_config(folder: Path, port: int) -> Path:
    path = folder / "sobriety.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "settings": {
                    "listen": f"127.0.0.1:{port}",
                    "data_dir": str(folder / "state"),
                    "interval": "1s",
                    "alerting": {"log": False},
                },
                "sites": {"college": {"timezone": "Europe/Paris"}},
                "targets": [{"id": "localhost", "kind": "host", "site": "college"}],
            }
        )
    )
    return path


def web_config(folder: Path, server: Pair, extra: dict[str, object] | None = None) -> Path:
    path = folder / "web-config.yml"
    body: dict[str, object] = {
        "tls_server_config": {"cert_file": server.cert.name, "key_file": server.key.name},
        "http_server_config": {"headers": {"X-Frame-Options": "deny"}},
        "basic_auth_users": {"prometheus": bcrypt_hash(PASSWORD)},
    }
    body.update(extra or {})
    path.write_text(yaml.safe_dump(body))
    return path


class RunningDaemon:
    """`sobriety run` in a child process this test owns (stopped by its PID)."""

    def __init__(self, folder: Path, *flags: str) -> None:
        self.port = free_tcp_port()
        self.log = folder / "daemon.log"
        config = daemon_config(folder, self.port)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sobriety", "run", "--config", str(config), *flags],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.url = f"https://127.0.0.1:{self.port}"

    def wait_listening(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError(f"not listening: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


@pytest.fixture
def secured(tmp_path: Path, pki: Pki) -> Iterator[RunningDaemon]:
    server = pki.server()
    config = web_config(pki.folder, server)
    daemon = RunningDaemon(tmp_path, f"--web.config.file={config}")
    try:
        daemon.wait_listening()
        yield daemon
    finally:
        daemon.stop()


def client_tls(pki: Pki, client: Pair | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if client is not None:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context


async def status(url: str, tls: ssl.SSLContext, method: str = "GET", **kwargs: object) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, ssl=tls, **kwargs) as resp,  # type: ignore[arg-type]
    ):
        await resp.read()
        return resp.status


def served_certificate(port: int, tls: ssl.SSLContext) -> bytes:
    """The certificate the server presents now (DER)."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        tls.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    assert der is not None
    return der


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


AUTH = basic("prometheus", PASSWORD)
COUNTED_401 = 'sobriety_http_requests_total{job="sobriety",handler="/metrics",code="401"}'


async def test_without_credentials_every_endpoint_answers_401(
    secured: RunningDaemon, pki: Pki
) -> None:
    tls = client_tls(pki)
    for path in GETS:
        assert await status(secured.url + path, tls) == 401, path
    assert await status(secured.url + "/-/reload", tls, "POST") == 401
    wrong = basic("prometheus", "not the password")
    assert await status(secured.url + "/metrics", tls, headers=wrong) == 401
    stranger = basic("mallory", PASSWORD)
    assert await status(secured.url + "/metrics", tls, headers=stranger) == 401
    assert await status(secured.url + "/metrics", tls, headers={"Authorization": "Basic !!"}) == 401
    async with (
        aiohttp.ClientSession() as session,
        session.get(secured.url + "/metrics", ssl=tls) as resp,
    ):
        assert resp.headers["WWW-Authenticate"].startswith("Basic")
        assert resp.headers["X-Frame-Options"] == "deny"  # the configured headers, on errors too
    for path in GETS:
        assert await status(secured.url + path, tls, headers=AUTH) == 200, path
    # reload is not enabled: refused even with the password, as Prometheus does
    assert await status(secured.url + "/-/reload", tls, "POST", headers=AUTH) == 403
    # plain HTTP to the TLS port gets nothing
    with pytest.raises(aiohttp.ClientError):
        await status(f"http://127.0.0.1:{secured.port}/metrics", tls, headers=AUTH)


async def test_a_real_prometheus_scrapes_over_tls_with_basic_auth(
    secured: RunningDaemon, pki: Pki, tmp_path: Path
) -> None:
    from tests.integration.test_dashboards import instant, start_prometheus

    prom_port = free_tcp_port()
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    scrape: dict[str, object] = {
        "job_name": "sobriety",
        "scheme": "https",
        "scrape_interval": "1s",
        "tls_config": {"ca_file": str(pki.ca)},
        "basic_auth": {"username": "prometheus", "password_file": str(password_file)},
        "static_configs": [{"targets": [f"127.0.0.1:{secured.port}"]}],
    }
    unauthenticated = {
        "job_name": "no-password",
        "scheme": "https",
        "scrape_interval": "1s",
        "tls_config": {"ca_file": str(pki.ca)},
        "static_configs": [{"targets": [f"127.0.0.1:{secured.port}"]}],
    }
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"scrape_configs": [scrape, unauthenticated]}))
    require_tool("prometheus")
    prom = start_prometheus(config, tmp_path / "tsdb", prom_port)
    url = f"http://127.0.0.1:{prom_port}"
    try:
        # measured: the first good scrape lands ~3 s after Prometheus starts; x3 plus margin
        deadline = time.monotonic() + 30
        while True:
            try:
                got = await instant(url, 'sobriety_target_up{job="sobriety",target="localhost"}')
                refused = await instant(url, 'up{job="no-password"}')
                counted = await instant(url, COUNTED_401)
                if got and refused and counted:
                    break
            except (aiohttp.ClientError, AssertionError):
                pass
            assert prom.poll() is None, "prometheus exited"
            assert time.monotonic() < deadline, "prometheus did not scrape sobriety over TLS"
            await asyncio.sleep(0.5)
        assert float(got[0]["value"][1]) == 1  # type: ignore[index]
        assert float(refused[0]["value"][1]) == 0  # type: ignore[index]  # 401: target down
        up = await instant(url, 'up{job="sobriety"}')
        assert float(up[0]["value"][1]) == 1  # type: ignore[index]
        assert float(counted[0]["value"][1]) >= 1  # type: ignore[index]  # the refusals, counted
    finally:
        prom.terminate()
        prom.wait(10)


async def test_reload_with_the_lifecycle_flag_is_authenticated_and_not_cross_site(
    tmp_path: Path, pki: Pki
) -> None:
    server = pki.server()
    config = web_config(pki.folder, server)
    daemon = RunningDaemon(tmp_path, f"--web.config.file={config}", "--web.enable-lifecycle")
    tls = client_tls(pki)
    reload = daemon.url + "/-/reload"
    try:
        daemon.wait_listening()
        assert await status(reload, tls, "POST") == 401
        # what a page on another site can send without a preflight: refused
        page = {"Origin": "https://evil.example"}
        assert await status(reload, tls, "POST", headers=AUTH | page) == 403
        simple = {"Content-Type": "text/plain"}
        assert await status(reload, tls, "POST", headers=AUTH | simple, data="x") == 403
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert await status(reload, tls, "POST", headers=AUTH | form, data="a=b") == 403
        fetch = {"Sec-Fetch-Site": "cross-site"}
        assert await status(reload, tls, "POST", headers=AUTH | fetch) == 403
        assert "reloaded" not in daemon.log.read_text()
        # what an operator sends (curl -X POST -u …): reloaded
        assert await status(reload, tls, "POST", headers=AUTH) == 200
        assert await status(reload, tls, "PUT", headers=AUTH) == 200
        same = {"Origin": daemon.url}
        assert await status(reload, tls, "POST", headers=AUTH | same) == 200
        # a reload re-reads the web config: a new password, a renewed certificate
        before = served_certificate(daemon.port, tls)
        renewed = pki.server()
        web_config(pki.folder, renewed, {"basic_auth_users": {"ops": bcrypt_hash("new one")}})
        daemon.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + READY_TIMEOUT
        while await status(daemon.url + "/metrics", tls, headers=AUTH) != 401:
            assert time.monotonic() < deadline, "the web config was not reloaded"
            await asyncio.sleep(0.2)
        assert await status(daemon.url + "/metrics", tls, headers=basic("ops", "new one")) == 200
        after = served_certificate(daemon.port, tls)
        assert after != before and after == ssl.PEM_cert_to_DER_cert(renewed.cert.read_text())
        # a web config that no longer loads keeps the running one
        config.write_text("basic_auth_users: {ops: not-a-hash}\n")
        assert await status(reload, tls, "POST", headers=basic("ops", "new one")) == 400
        assert await status(daemon.url + "/metrics", tls, headers=basic("ops", "new one")) == 200
    finally:
        daemon.stop()
    assert daemon.proc.returncode == 0
    assert "reloaded" in daemon.log.read_text()


async def test_client_certificates_and_allowed_names(tmp_path: Path, pki: Pki) -> None:
    server = pki.server()
    good = pki.issue("prometheus-client", dns=("prometheus.college.example",), client=True)
    other = pki.issue("other-client", dns=("laptop.example",), client=True)
    config = web_config(
        pki.folder,
        server,
        {
            "tls_server_config": {
                "cert_file": str(server.cert),
                "key_file": str(server.key),
                "client_auth_type": "RequireAndVerifyClientCert",
                "client_ca_file": str(pki.ca),
                "client_allowed_sans": ["prometheus.college.example"],
                "min_version": "TLS13",
            },
            "basic_auth_users": {},
        },
    )
    daemon = RunningDaemon(tmp_path, f"--web.config.file={config}")
    try:
        daemon.wait_listening()
        assert await status(daemon.url + "/metrics", client_tls(pki, good)) == 200
        assert await status(daemon.url + "/metrics", client_tls(pki, other)) == 403
        with pytest.raises(aiohttp.ClientError):  # no certificate: the handshake fails
            await status(daemon.url + "/metrics", client_tls(pki))
        old = client_tls(pki, good)
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(aiohttp.ClientError):  # below min_version
            await status(daemon.url + "/metrics", old)
    finally:
        daemon.stop()
    assert daemon.proc.returncode == 0, daemon.log.read_text()
    assert "Traceback" not in daemon.log.read_text()


def test_a_bad_web_config_is_refused_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "web.yml"
    bad.write_text(
        "tls_server_config: {cert_file: missing.crt, key_file: missing.key,"
        " client_auth_type: RequestClientCert}\n"
        "basic_auth_users: {alice: plain-text-password}\n"
        "http_server_config: {headers: {Server: sobriety}}\n"
    )
    port = free_tcp_port()
    config = daemon_config(tmp_path, port)
    result = subprocess.run(
        [sys.executable, "-m", "sobriety", "run", "--config", str(config),
         f"--web.config.file={bad}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert f"{bad}: tls_server_config: client_auth_type: RequestClientCert is not" in lines[0]
    assert any(line.startswith(f"{bad}: basic_auth_users: alice: not a bcrypt") for line in lines)
    assert any("headers.Server" in line and "can not be configured" in line for line in lines)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state").exists()  # nothing was opened
